#include "mtlgrad/models/toy2d.hpp"

#include <cmath>
#include <sstream>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/models/pareto_front.hpp"

namespace mtlgrad::models {
namespace {
constexpr real kLower = real(5e-6);

/// ∂/∂x2 of c2(x2)·(K + 0.01 (x2 + 8)² − 20), c2 = tanh(−x2/2): zero at the Pareto point of weight w
/// (K = 19.6 w (1 − w), below).
double dx2(double x2, double K) {
  const double c2 = std::tanh(-x2 / 2), ch = std::cosh(x2 / 2);
  return -0.5 / (ch * ch) * (K + 0.01 * (x2 + 8) * (x2 + 8) - 20) + c2 * 0.02 * (x2 + 8);
}

/// The Pareto point of weight w on f1 (1 − w on f2). For x2 < 0 (where the set lies: there
/// c1 = 0), w f1 + (1 − w) f2 = c2(x2)·(w q1(x1) + (1 − w) q2(x1) + 0.01 (x2 + 8)² − 20) with
/// q1 = (x1 − 7)²/10, q2 = (x1 + 7)²/10; its minimiser over x1 is x1 = 7 (2w − 1) (for every x2,
/// since c2 > 0), where w q1 + (1 − w) q2 = 19.6 w (1 − w) = K; then x2 is the root of dx2 in
/// [−12, −6] (it changes sign there for every K ∈ [0, 4.9]), by bisection to double precision.
std::array<double, 2> pareto_point(double w) {
  const double K = 19.6 * w * (1 - w);
  double lo = -12, hi = -6;
  const bool lo_negative = dx2(lo, K) < 0;
  for (int k = 0; k < 200 && hi - lo > 0; ++k) {
    const double mid = (lo + hi) / 2;
    if (mid == lo || mid == hi) break;
    ((dx2(mid, K) < 0) == lo_negative ? lo : hi) = mid;
  }
  return {7 * (2 * w - 1), (lo + hi) / 2};
}

double dist2(const std::array<double, 2>& x, double w) {
  const auto p = pareto_point(w);
  return (x[0] - p[0]) * (x[0] - p[0]) + (x[1] - p[1]) * (x[1] - p[1]);
}

/// The closest point of the Pareto curve: the best of 201 weights, then golden-section search in
/// the two grid cells around it (the squared distance is unimodal there at the grid's spacing).
ParetoMeasure toy2d_measure(MultiTaskModel& m) {
  const Tensor& x = m.shared_parameters()[0].param->value;
  const std::array<double, 2> xv{double(x(0, 0)), double(x(0, 1))};
  constexpr int kGrid = 200;
  int best = 0;
  for (int k = 1; k <= kGrid; ++k)
    if (dist2(xv, double(k) / kGrid) < dist2(xv, double(best) / kGrid)) best = k;
  double a = double(std::max(best - 1, 0)) / kGrid, b = double(std::min(best + 1, kGrid)) / kGrid;
  const double g = (std::sqrt(5.0) - 1) / 2;
  for (int k = 0; k < 100 && b - a > 1e-15; ++k) {
    const double c = b - g * (b - a), d = a + g * (b - a);
    (dist2(xv, c) < dist2(xv, d) ? b : a) = dist2(xv, c) < dist2(xv, d) ? d : c;
  }
  double w = (a + b) / 2;
  for (double edge : {0.0, 1.0})
    if (dist2(xv, edge) < dist2(xv, w)) w = edge;
  const auto p = pareto_point(w);
  return {std::sqrt(dist2(xv, w)), {p[0], p[1]}, {w, 1 - w}, {0, 0}};
}

std::vector<std::vector<double>> toy2d_front(MultiTaskModel&, std::size_t n) {
  std::vector<std::vector<double>> f;
  const std::size_t m = std::max<std::size_t>(n, 2);
  for (std::size_t k = 0; k < m; ++k) {
    const double w = double(k) / double(m - 1);
    const auto p = pareto_point(w);
    const double c2 = std::tanh(-p[1] / 2), r = 0.01 * (p[1] + 8) * (p[1] + 8) - 20;
    f.push_back({c2 * ((p[0] - 7) * (p[0] - 7) / 10 + r), c2 * ((p[0] + 7) * (p[0] + 7) / 10 + r)});
  }
  return f;
}

}

Toy2d::Toy2d(std::array<real, 2> start) {
  x_.name = "x";
  x_.value = row({start[0], start[1]});
}

std::array<Var, 2> Toy2d::objectives(Var x) {
  Var x1 = slice_cols(x, 0, 1), x2 = slice_cols(x, 1, 2);
  Var th = tanh(-x2);
  Var f1_log = log(clamp_min(abs(real(0.5) * (-x1 - real(7)) - th), kLower)) + real(6);
  Var f2_log = log(clamp_min(abs(real(0.5) * (-x1 + real(3)) + th + real(2)), kLower)) + real(6);
  Var c1 = clamp_min(tanh(real(0.5) * x2), 0);
  Var c2 = clamp_min(tanh(real(-0.5) * x2), 0);
  Var sq2 = real(0.1) * pow(-x2 - real(8), 2);
  Var f1_sq = (pow(-x1 + real(7), 2) + sq2) * real(0.1) - real(20);
  Var f2_sq = (pow(-x1 - real(7), 2) + sq2) * real(0.1) - real(20);
  return {c1 * f1_log + c2 * f1_sq, c1 * f2_log + c2 * f2_sq};
}

void Toy2d::forward(Tape& tape, std::vector<Var>& losses) {
  auto f = objectives(tape.param(x_));
  losses.assign(f.begin(), f.end());
}

std::string Toy2d::describe() const {
  std::ostringstream s;
  s << "toy2d: CAGrad's two-objective toy, x = (" << x_.value(0, 0) << ", " << x_.value(0, 1) << ")";
  return s.str();
}

PlaneLandscape toy2d_landscape() {
  PlaneLandscape l;
  l.value_label = "f_1 + f_2";
  l.value = [](const Tensor& points) {
    Tape tape;
    const auto f = Toy2d::objectives(tape.constant(points));
    std::vector<double> v(points.shape()[0]);
    for (std::size_t k = 0; k < v.size(); ++k) v[k] = double(f[0].value()(k, 0) + f[1].value()(k, 0));
    return v;
  };
  for (int k = 0; k <= 20; ++k) {
    const auto p = pareto_point(double(k) / 20);
    l.pareto_set.push_back({p[0], p[1]});
  }
  return l;
}

ModelRegistry::Entry toy2d_entry() {
  return {"toy2d", "CAGrad's two-objective 2-D toy (Liu et al. 2021); parameter x = (x1, x2), no heads",
          {option<std::array<real, 2>>("start", {real(-8.5), real(7.5)}, "the starting point x = (x1, x2)")},
          [](const nlohmann::json& spec, const std::string& path, ModelContext&) -> std::unique_ptr<MultiTaskModel> {
            OptionReader r(spec, path);
            r.declare("name");
            const auto start = r.require<std::array<real, 2>>("start");
            r.check(std::isfinite(start[0]) && std::isfinite(start[1]), "start", "two finite numbers");
            r.finish();
            return std::make_unique<Toy2d>(start);
          },
          ModelInfo{false, "models/configs/toy2d.json", toy2d_landscape(), KnownFront{toy2d_measure, toy2d_front}}};
}

}  // namespace mtlgrad::models
