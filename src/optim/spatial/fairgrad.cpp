#include "mtlgrad/optim/fairgrad.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "mtlgrad/optim/gramian.hpp"
#include "registry_parts.hpp"

namespace mtlgrad {

namespace {
constexpr real kEps = std::numeric_limits<real>::epsilon();
}  // namespace

FairGrad::FairGrad(real alpha, std::size_t max_iter) : alpha_(alpha), max_iter_(max_iter) {
  if (!(alpha > 0 && std::isfinite(alpha)))
    throw std::invalid_argument("fairgrad: alpha = " + nlohmann::json(alpha).dump() + " is out of range (expected > 0)");
  if (max_iter == 0) throw std::invalid_argument("fairgrad: max_iter = 0 is out of range (expected >= 1)");
}

void FairGrad::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  const Tensor& G = checked_gramian("fairgrad", J, G_);
  const std::size_t T = G.shape(0);
  const real p = 1 / alpha_;
  out.weights.assign(T, real(0));
  out.metrics = {0, 0};
  out.solver_capped = false;
  std::vector<std::size_t> active;  // a zero row has no finite w_i: it keeps w_i = 0
  for (std::size_t i = 0; i < T; ++i)
    if (G(i, i) > 0) active.push_back(i);
  const std::size_t n = active.size();
  if (n > 0) {
    // w_i = k β_i / ‖g_i‖ turns (Gw)_i = w_i^{−p} into (Cβ)_i = a_i β_i^{−p} with C the cosine matrix
    // and a_i = ‖g_i‖^{p−1} / m; the common scale m = exp(mean ln ‖g_i‖^{p−1}) gives k^{1+p} = m.
    std::vector<real> norm(n), log_norm(n), a(n), beta;
    for (std::size_t r = 0; r < n; ++r) {
      norm[r] = std::sqrt(G(active[r], active[r]));
      log_norm[r] = std::log(norm[r]);
    }
    const real mean_log = std::accumulate(log_norm.begin(), log_norm.end(), real(0)) / real(n);
    Tensor C = zeros(n, n);
    for (std::size_t r = 0; r < n; ++r) {
      a[r] = std::exp((p - 1) * (log_norm[r] - mean_log));
      for (std::size_t c = 0; c < n; ++c)
        C(r, c) = r == c ? real(1) : G(active[r], active[c]) / (norm[r] * norm[c]);
    }
    const solvers::SolveReport report = solve(C, a, beta);
    const real log_k = (p - 1) * mean_log / (1 + p);
    for (std::size_t r = 0; r < n; ++r) out.weights[active[r]] = beta[r] * std::exp(log_k - log_norm[r]);
    out.metrics = {real(report.iterations), report.residual};
    out.solver_capped = report.capped;
  }
  combine(J, out.weights, out.direction);
  out.head_scale = out.weights;
  out.pair_strength.resize({0, 0});
}

solvers::SolveReport FairGrad::solve(const Tensor& C, const std::vector<real>& a, std::vector<real>& beta) const {
  const std::size_t n = C.shape(0);
  const real p = 1 / alpha_;
  const auto matvec = [&](const std::vector<real>& x, std::vector<real>& y) {
    y.assign(n, real(0));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) y[i] += C(i, j) * x[j];
  };
  // φ(β) = ½βᵀCβ − Σ a_i h(β_i), h(x) = ln x (p = 1) or x^{1−p}/(1 − p); Cb ← Cβ.
  const auto objective = [&](const std::vector<real>& b, std::vector<real>& Cb) {
    matvec(b, Cb);
    real f = 0;
    for (std::size_t i = 0; i < n; ++i)
      f += b[i] * Cb[i] / 2 - a[i] * (p == 1 ? std::log(b[i]) : std::pow(b[i], 1 - p) / (1 - p));
    return f;
  };
  // max_i |(Cβ)_i β_i^p / a_i − 1|: scale-free, 0 at the fixed point.
  const auto residual = [&](const std::vector<real>& b, const std::vector<real>& Cb) {
    real r = 0;
    for (std::size_t i = 0; i < n; ++i) r = std::max(r, std::abs(Cb[i] * std::pow(b[i], p) / a[i] - 1));
    return r;
  };
  // Start on the ray β = c·1 at its own fixed point: c^{1+p} = Σ a_i / 1ᵀC1.
  real total = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) total += C(i, j);
  const real a_sum = std::accumulate(a.begin(), a.end(), real(0));
  beta.assign(n, total > 0 ? std::pow(a_sum / total, 1 / (1 + p)) : real(1));
  std::vector<real> Cb, grad(n), step(n), trial(n), Ct;
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), std::size_t(0));
  Tensor H = C, L;
  real f = objective(beta, Cb);
  real res = residual(beta, Cb);
  const real tol = 8 * real(n) * kEps;
  std::size_t it = 0;
  for (; it < max_iter_ && res > tol; ++it) {
    for (std::size_t i = 0; i < n; ++i) {
      const real rhs = a[i] * std::pow(beta[i], -p);
      grad[i] = Cb[i] - rhs;
      H(i, i) = C(i, i) + p * rhs / beta[i];
      step[i] = -grad[i];
    }
    // H loses definiteness only in rounding, when β has grown to where the barrier's curvature is
    // below the precision of a singular C (no fixed point): keep the last iterate.
    if (!solvers::cholesky_solve(H, all, step, L)) break;
    const real decrement = -std::inner_product(grad.begin(), grad.end(), step.begin(), real(0));
    real t = 1;
    for (std::size_t i = 0; i < n; ++i)
      if (step[i] < 0) t = std::min(t, real(0.99) * beta[i] / -step[i]);
    // Near the solution the full step converges quadratically while φ no longer resolves the
    // decrease: there the line search is skipped and a step that does not shrink the residual ends.
    const bool local = t == 1 && decrement < real(1e-3);
    real f_trial = f;
    for (int back = 0; back < 60; ++back, t /= 2) {
      for (std::size_t i = 0; i < n; ++i) trial[i] = beta[i] + t * step[i];
      f_trial = objective(trial, Ct);
      if (local || f_trial <= f - real(0.25) * t * decrement) break;
    }
    const real res_trial = residual(trial, Ct);
    if (local ? !(res_trial < res) : !(f_trial < f)) break;  // rounding floor reached
    beta.swap(trial);
    Cb.swap(Ct);
    f = f_trial;
    res = res_trial;
  }
  solvers::SolveReport report;
  report.iterations = it;
  report.residual = res;
  report.capped = it == max_iter_ && res > tol;
  return report;
}

namespace detail {
void register_aggregator_fairgrad(Registry<Aggregator>& r) {
  r.add({"fairgrad", "α-fair allocation of the loss decreases: G w = w^(−1/α) (Ban & Ji 2024, arXiv 2402.15638)",
         {option<real>("alpha", 1, "α: fairness (1: proportional, as Nash-MTL; larger: towards max-min)", Range::above(0)),
          option<std::size_t>("max_iter", 100, "Newton steps of the fixed-point solver", Range::at_least(1))},
         factory([](OptionReader& o) {
           const real alpha = o.require<real>("alpha");
           const auto max_iter = o.require<std::size_t>("max_iter");
           return [=] { return std::make_unique<FairGrad>(alpha, max_iter); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
