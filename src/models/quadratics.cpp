#include "mtlgrad/models/quadratics.hpp"

#include <cmath>
#include <sstream>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/models/pareto_front.hpp"

namespace mtlgrad::models {
namespace {

constexpr real kStartBox = real(2);  // starts uniform in [−kStartBox, kStartBox]^d

std::vector<double> unit(std::size_t d, std::size_t i) {
  std::vector<double> e(d, 0.0);
  e[i] = 1;
  return e;
}

const std::array<real, 3>& scales_of(MultiTaskModel& m) {
  const auto* q = dynamic_cast<const Quadratics*>(&m);
  if (!q) throw std::logic_error("quadratics: the Pareto measure got another model");
  return q->scales();
}

ParetoMeasure measure(MultiTaskModel& m) {
  const auto& s = scales_of(m);
  const Tensor& x = m.shared_parameters()[0].param->value;
  const std::size_t d = x.size();
  std::vector<double> xv(x.begin(), x.end());
  const TrianglePoint p = closest_on_triangle(xv, unit(d, 0), unit(d, 1), unit(d, 2));
  double d2 = 0, wsum = 0;
  for (std::size_t k = 0; k < d; ++k) d2 += (xv[k] - p.point[k]) * (xv[k] - p.point[k]);
  std::vector<double> w(3);
  for (std::size_t i = 0; i < 3; ++i) wsum += w[i] = p.barycentric[i] / double(s[i]);
  for (double& v : w) v /= wsum;
  return {std::sqrt(d2), p.point, w, {1.1 * double(s[0]), 1.1 * double(s[1]), 1.1 * double(s[2])}};
}

/// The front over a barycentric grid: f_i = (s_i/2)·((1 − β_i)² + Σ_{j≠i} β_j²).
std::vector<std::vector<double>> front(MultiTaskModel& m, std::size_t n) {
  const auto& s = scales_of(m);
  std::size_t k = 1;
  while ((k + 1) * (k + 2) / 2 < n) ++k;
  std::vector<std::vector<double>> f;
  for (std::size_t i = 0; i <= k; ++i)
    for (std::size_t j = 0; i + j <= k; ++j) {
      const std::array<double, 3> b{double(i) / double(k), double(j) / double(k), double(k - i - j) / double(k)};
      std::vector<double> v(3);
      for (std::size_t t = 0; t < 3; ++t) {
        double q = 0;
        for (std::size_t u = 0; u < 3; ++u) q += (u == t ? (1 - b[u]) * (1 - b[u]) : b[u] * b[u]);
        v[t] = double(s[t]) / 2 * q;
      }
      f.push_back(v);
    }
  return f;
}

}  // namespace

Quadratics::Quadratics(const std::vector<real>& start, std::array<real, 3> scales) : scales_(scales) {
  x_.name = "x";
  x_.value = xt::zeros<real>({std::size_t(1), start.size()});
  for (std::size_t k = 0; k < start.size(); ++k) x_.value(0, k) = start[k];
}

std::array<Var, 3> Quadratics::objectives(Var x, const std::array<real, 3>& scales) {
  const std::size_t d = x.value().shape()[1];
  std::array<Var, 3> f;
  for (std::size_t i = 0; i < 3; ++i) {
    Tensor a = xt::zeros<real>({std::size_t(1), d});
    a(0, i) = 1;
    f[i] = (scales[i] / 2) * sum(pow(x - x.tape().constant(a), 2));
  }
  return f;
}

void Quadratics::forward(Tape& tape, std::vector<Var>& losses) {
  auto f = objectives(tape.param(x_), scales_);
  losses.assign(f.begin(), f.end());
}

std::string Quadratics::describe() const {
  std::ostringstream s;
  s << "quadratics: three convex quadratics in R^" << x_.value.size() << ", scales " << scales_[0] << ", "
    << scales_[1] << ", " << scales_[2];
  return s.str();
}

ModelRegistry::Entry quadratics_entry() {
  return {"quadratics",
          "three convex quadratics f_i = s_i/2 |x - e_i|^2 in R^d; Pareto set the triangle conv{e_1, e_2, e_3}",
          {option<std::size_t>("d", 3, "the dimension of x", Range::at_least(3)),
           option<std::array<real, 3>>("scales", {1, 1, 1}, "s_1, s_2, s_3 ([1, 10, 100]: the ill-scaled variant)",
                                       Range::above(0)),
           option<std::vector<real>>("start", {}, "the starting point (d values); [] draws it from the seed, uniform in [-2, 2]^d")},
          [](const nlohmann::json& spec, const std::string& path, ModelContext& ctx) -> std::unique_ptr<MultiTaskModel> {
            OptionReader r(spec, path);
            r.declare("name");
            const auto d = r.get<std::size_t>("d", 3);
            r.check(d >= 3 && d <= 100000, "d", "3 to 100000");
            const auto scales = r.get<std::array<real, 3>>("scales", {1, 1, 1});
            for (real s : scales) r.check(std::isfinite(s) && s > 0, "scales", "finite values > 0");
            auto start = r.get<std::vector<real>>("start", {});
            r.check(start.empty() || start.size() == d, "start", "[] or d = " + std::to_string(d) + " values");
            for (real v : start) r.check(std::isfinite(v), "start", "finite values");
            r.finish();
            if (start.empty()) {
              const Tensor s = ctx.init_rng.uniform_tensor(1, d, -kStartBox, kStartBox);
              start.assign(s.begin(), s.end());
            }
            return std::make_unique<Quadratics>(start, scales);
          },
          ModelInfo{false, "models/configs/quadratics.json", std::nullopt, KnownFront{measure, front}}};
}

}  // namespace mtlgrad::models
