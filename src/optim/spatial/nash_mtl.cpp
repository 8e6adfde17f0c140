#include "mtlgrad/optim/nash_mtl.hpp"

#include <cmath>

#include "mtlgrad/optim/solvers.hpp"

namespace mtlgrad {

NashMTL::NashMTL(real max_norm, real reg_eps) : max_norm_(max_norm), reg_eps_(reg_eps) {
  if (!(max_norm >= 0))
    throw std::invalid_argument("nash-mtl: max_norm = " + std::to_string(max_norm) + " is out of range (expected >= 0)");
  if (!(reg_eps > 0))
    throw std::invalid_argument("nash-mtl: reg_eps = " + std::to_string(reg_eps) + " is out of range (expected > 0)");
}

void NashMTL::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  const std::size_t T = G.shape(0);
  real frob = 0;
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) frob = std::hypot(frob, G(i, j));
  if (!(frob > 0)) return w.assign(T, real(0));
  Gn_ = G / frob;
  for (std::size_t i = 0; i < T; ++i) Gn_(i, i) += reg_eps_;
  solvers::log_barrier_fixed_point(Gn_, 200, w);
  if (max_norm_ == 0) return;
  real norm_sq = 0;  // ‖Jᵀα‖² = αᵀGα
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) norm_sq += w[i] * G(i, j) * w[j];
  const real norm = std::sqrt(std::max(norm_sq, real(0)));
  if (norm > max_norm_)
    for (real& v : w) v *= max_norm_ / norm;
}

nlohmann::json NashMTL::options() const { return {{"name", name()}, {"max_norm", max_norm_}, {"reg_eps", reg_eps_}}; }

}  // namespace mtlgrad
