#include "mtlgrad/optim/config.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/solvers.hpp"
#include "registry_parts.hpp"

namespace mtlgrad {

void config_weights(const Tensor& G, const std::vector<real>& p, std::vector<real>& lambda) {
  const std::size_t T = G.shape(0);
  lambda.assign(T, real(0));
  std::vector<std::size_t> active;  // the non-zero rows: a zero row has u_i = 0
  for (std::size_t i = 0; i < T; ++i)
    if (G(i, i) > 0) active.push_back(i);
  const std::size_t n = active.size();
  if (n == 0) return;
  std::vector<real> norm(n);
  for (std::size_t a = 0; a < n; ++a) norm[a] = std::sqrt(G(active[a], active[a]));
  Tensor K = zeros(n, n);
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < n; ++b) K(a, b) = a == b ? real(1) : G(active[a], active[b]) / (norm[a] * norm[b]);
  std::vector<real> values;
  Tensor V;
  solvers::symmetric_eigen(K, values, V);
  const real cutoff = solvers::rank_cutoff(values);
  // y = K⁺ p over the active rows (a zero row's p_i is in K's null space: y_i = 0 there).
  std::vector<real> y(n, real(0));
  for (std::size_t k = 0; k < n; ++k) {
    if (!(values[k] > cutoff)) continue;
    real vp = 0;
    for (std::size_t a = 0; a < n; ++a) vp += V(a, k) * p[active[a]];
    for (std::size_t a = 0; a < n; ++a) y[a] += V(a, k) * vp / values[k];
  }
  // ‖c‖² = yᵀKy and Σ_i g_i·c = Σ_i ‖g_i‖ (Ky)_i, with c = Uᵀy.
  real c_sq = 0, proj = 0;
  for (std::size_t a = 0; a < n; ++a) {
    real Ky = 0;
    for (std::size_t b = 0; b < n; ++b) Ky += K(a, b) * y[b];
    c_sq += y[a] * Ky;
    proj += norm[a] * Ky;
  }
  const real p_max = *std::max_element(p.begin(), p.end());
  const real floor = std::max(real(1e-12), 64 * real(T) * std::numeric_limits<real>::epsilon()) * p_max;
  if (!(c_sq > floor * floor)) return;  // no common direction: only rounding is left in c
  const real s = proj / c_sq;           // (Σ_i g_i·ĉ) / ‖c‖
  for (std::size_t a = 0; a < n; ++a) lambda[active[a]] = s * y[a] / norm[a];
}

ConFIG::ConFIG(std::vector<real> weights) : p_(std::move(weights)) {
  for (real w : p_)
    if (!(w > 0 && std::isfinite(w)))
      throw std::invalid_argument("config: weights holds " + nlohmann::json(w).dump() + " (expected finite numbers > 0)");
}

void ConFIG::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  const Tensor& G = checked_gramian("config", J, G_);
  const std::size_t T = J.shape(0);
  if (!p_.empty() && p_.size() != T)
    throw std::invalid_argument("config: " + std::to_string(p_.size()) + " weights for T = " + std::to_string(T) +
                                " tasks; 'weights' needs one per task");
  ratios_ = p_.empty() ? std::vector<real>(T, real(1)) : p_;
  config_weights(G, ratios_, out.weights);
  combine(J, out.weights, out.direction);
  out.head_scale = out.weights;
  out.pair_strength.resize({0, 0});
  out.metrics.clear();
  out.solver_capped = false;
}

namespace detail {
void register_aggregator_config(Registry<Aggregator>& r) {
  r.add({"config", "conflict-free inverse gradients: d along U⁺p, length Σ_i g_i·d̂ (Liu, Chu & Thuerey 2025, arXiv 2408.11104)",
         {option<std::vector<real>>("weights", {}, "p: the wanted ratios of the projections u_i·d, one per task ([] = 1 each)",
                                    Range::above(0))},
         factory([](OptionReader& o) {
           const auto weights = o.require<std::vector<real>>("weights");
           return [=] { return std::make_unique<ConFIG>(weights); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
