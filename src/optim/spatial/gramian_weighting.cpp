#include "mtlgrad/optim/gramian_weighting.hpp"

#include <algorithm>

#include "mtlgrad/optim/gramian.hpp"

namespace mtlgrad {

void GramianWeighting::aggregate(const Tensor& J, Rng& rng, Aggregation& out) {
  const std::string stage = name();
  const Tensor& G = checked_gramian(stage.c_str(), J, G_);
  step_report_ = {};
  weigh(G, rng, out.weights);
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
  out.metrics.clear();
  out.solver_capped = false;
  if (runs_solver()) {
    out.metrics = {real(step_report_.iterations), step_report_.residual};
    out.solver_capped = step_report_.capped;
  }
}

std::vector<std::string> GramianWeighting::metric_names() const {
  if (!runs_solver()) return {};
  return {"solver_iters", "solver_residual"};
}

void GramianWeighting::report(const solvers::SolveReport& r) {
  step_report_.iterations = std::max(step_report_.iterations, r.iterations);
  step_report_.residual = std::max(step_report_.residual, r.residual);
  step_report_.capped = step_report_.capped || r.capped;
}

real trace(const Tensor& G) {
  real t = 0;
  for (std::size_t i = 0; i < G.shape(0); ++i) t += G(i, i);
  return t;
}

void normalized_gramian(const Tensor& G, real norm_eps, real reg, Tensor& out) {
  const std::size_t T = G.shape(0);
  const real s = trace(G);
  if (out.shape(0) != T || out.shape(1) != T) out.resize({T, T});
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) out(i, j) = (s > norm_eps ? G(i, j) / s : real(0)) + (i == j ? reg : real(0));
}

void preference(const std::string& stage, const std::vector<real>& pref, std::size_t T, std::vector<real>& u) {
  if (pref.empty()) return u.assign(T, real(1) / real(T));
  if (pref.size() != T)
    throw std::invalid_argument(stage + ": " + std::to_string(pref.size()) + " preference weights for T = " +
                                std::to_string(T) + " tasks; 'weights' needs one per task");
  u = pref;
}

}  // namespace mtlgrad
