#include "mtlgrad/optim/nash_mtl.hpp"

#include <cmath>

#include "mtlgrad/optim/solvers.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {

NashMTL::NashMTL(real max_norm, real reg_eps) : max_norm_(max_norm), reg_eps_(reg_eps) {
  if (!(max_norm >= 0))
    throw std::invalid_argument("nash-mtl: max_norm = " + std::to_string(max_norm) + " is out of range (expected >= 0)");
  if (!(reg_eps > 0))
    throw std::invalid_argument("nash-mtl: reg_eps = " + std::to_string(reg_eps) + " is out of range (expected > 0)");
}

void NashMTL::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  const std::size_t T = G.shape(0);
  w.assign(T, real(0));
  // The fixed point is solved on the correlation matrix C = D G D, D = diag(1/‖g_i‖): with α = Dβ,
  // (Gα)_i α_i = (Cβ)_i β_i, so Cβ = 1/β gives the paper's α for G itself. C has a unit diagonal
  // whatever the tasks' scales (Newton starts well-conditioned), and the ridge reg_eps·I on C is
  // reg_eps·‖g_i‖² on G: relative to each task, so a task 1e5 times smaller than another is not
  // swamped. A zero row (g_i = 0) has no α_i with α_i (Gα)_i = 1; its weight cannot change d: 0.
  active_.clear();
  for (std::size_t i = 0; i < T; ++i)
    if (G(i, i) > 0) active_.push_back(i);
  const std::size_t n = active_.size();
  if (n == 0) return;
  scale_.resize(n);
  for (std::size_t a = 0; a < n; ++a) scale_[a] = 1 / std::sqrt(G(active_[a], active_[a]));
  if (C_.shape(0) != n || C_.shape(1) != n) C_.resize({n, n});
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < n; ++b)
      C_(a, b) = a == b ? 1 + reg_eps_ : G(active_[a], active_[b]) * scale_[a] * scale_[b];
  report(solvers::log_barrier_fixed_point(C_, 200, beta_));
  for (std::size_t a = 0; a < n; ++a) w[active_[a]] = beta_[a] * scale_[a];
  if (max_norm_ == 0) return;
  real norm_sq = 0;  // ‖Jᵀα‖² = αᵀGα (= T at the exact fixed point)
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) norm_sq += w[i] * G(i, j) * w[j];
  const real norm = std::sqrt(std::max(norm_sq, real(0)));
  if (norm > max_norm_)
    for (real& v : w) v *= max_norm_ / norm;
}

nlohmann::json NashMTL::options() const { return {{"name", name()}, {"max_norm", max_norm_}, {"reg_eps", reg_eps_}}; }

namespace detail {

// list order: 170
void register_aggregator_nash_mtl(Registry<Aggregator>& r) {
  r.add({"nash-mtl", "Nash bargaining solution G a = 1/a, scaled to max_norm (Navon et al. 2022, arXiv 2202.01017)",
         {option<real>("max_norm", 1, "‖d‖ is scaled down to at most max_norm (0: off)", Range::at_least(0)),
          option<real>("reg_eps", real(1e-8), "reg_eps·‖g_i‖² added to G_ii: α stays finite on a rank-deficient J",
                       Range::above(0))},
         factory([](OptionReader& o) {
           const real max_norm = o.require<real>("max_norm");
           const real reg_eps = o.require<real>("reg_eps");
           return [=] { return std::make_unique<NashMTL>(max_norm, reg_eps); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
