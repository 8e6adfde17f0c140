#include "mtlgrad/models/pareto_mtl.hpp"

#include <cmath>
#include <sstream>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/models/pareto_front.hpp"

namespace mtlgrad::models {
namespace {

constexpr real kStartBox = real(0.5);  // starts uniform in [−kStartBox, kStartBox]^n

Tensor a_row(std::size_t n) { return xt::ones<real>({std::size_t(1), n}) / std::sqrt(real(n)); }

ParetoMeasure measure(MultiTaskModel& m) {
  const Tensor& x = m.shared_parameters()[0].param->value;
  const std::size_t n = x.size();
  std::vector<double> xv(n), a(n), minus_a(n);
  for (std::size_t k = 0; k < n; ++k) {
    xv[k] = double(x.data()[k]);
    a[k] = 1 / std::sqrt(double(n));
    minus_a[k] = -a[k];
  }
  const SegmentPoint s = closest_on_segment(xv, minus_a, a);
  const double t = 2 * s.t - 1, e1 = std::exp(-(t - 1) * (t - 1)), e2 = std::exp(-(t + 1) * (t + 1));
  const double w = (1 + t) * e2 / ((1 - t) * e1 + (1 + t) * e2);
  double d2 = 0;
  for (std::size_t k = 0; k < n; ++k) d2 += (xv[k] - s.point[k]) * (xv[k] - s.point[k]);
  return {std::sqrt(d2), s.point, {w, 1 - w}, {1, 1}};
}

std::vector<std::vector<double>> front(MultiTaskModel&, std::size_t n) {
  std::vector<std::vector<double>> f;
  for (std::size_t k = 0; k < std::max<std::size_t>(n, 2); ++k) {
    const double t = -1 + 2 * double(k) / double(std::max<std::size_t>(n, 2) - 1);
    f.push_back({1 - std::exp(-(t - 1) * (t - 1)), 1 - std::exp(-(t + 1) * (t + 1))});
  }
  return f;
}

}  // namespace

ParetoMtl::ParetoMtl(const std::vector<real>& start) {
  x_.name = "x";
  x_.value = xt::zeros<real>({std::size_t(1), start.size()});
  for (std::size_t k = 0; k < start.size(); ++k) x_.value(0, k) = start[k];
}

std::array<Var, 2> ParetoMtl::objectives(Var x) {
  Var a = x.tape().constant(a_row(x.value().shape()[1]));
  return {real(1) - exp(-sum(pow(x - a, 2))), real(1) - exp(-sum(pow(x + a, 2)))};
}

void ParetoMtl::forward(Tape& tape, std::vector<Var>& losses) {
  auto f = objectives(tape.param(x_));
  losses.assign(f.begin(), f.end());
}

std::string ParetoMtl::describe() const {
  std::ostringstream s;
  s << "pareto_mtl: Lin et al. 2019's synthetic problem, x in R^" << x_.value.size();
  return s.str();
}

ModelRegistry::Entry pareto_mtl_entry() {
  return {"pareto_mtl",
          "Pareto MTL's synthetic two-objective problem (Lin et al. 2019); x in R^n, Pareto set the segment [-a, a]",
          {option<std::size_t>("n", 20, "the dimension of x", Range::at_least(1)),
           option<std::vector<real>>("start", {}, "the starting point (n values); [] draws it from the seed, uniform in [-0.5, 0.5]^n")},
          [](const nlohmann::json& spec, const std::string& path, ModelContext& ctx) -> std::unique_ptr<MultiTaskModel> {
            OptionReader r(spec, path);
            r.declare("name");
            const auto n = r.get<std::size_t>("n", 20);
            r.check(n >= 1 && n <= 100000, "n", "1 to 100000");
            auto start = r.get<std::vector<real>>("start", {});
            r.check(start.empty() || start.size() == n, "start", "[] or n = " + std::to_string(n) + " values");
            for (real v : start) r.check(std::isfinite(v), "start", "finite values");
            r.finish();
            if (start.empty()) {
              const Tensor s = ctx.init_rng.uniform_tensor(1, n, -kStartBox, kStartBox);
              start.assign(s.begin(), s.end());
            }
            return std::make_unique<ParetoMtl>(start);
          },
          ModelInfo{false, "models/configs/pareto_mtl.json", std::nullopt, KnownFront{measure, front}}};
}

}  // namespace mtlgrad::models
