#pragma once
/// @file nash_mtl.hpp
/// Nash-MTL, "Multi-Task Learning as a Bargaining Game" (Navon et al. 2022, ICML, arXiv 2202.01017):
/// the Nash bargaining solution d = Jᵀα with α > 0 solving (Eq. 6)
/// \f[ (G α)_i = 1 / α_i \quad (i = 1..T), \f]
/// so g_i·d = 1/α_i > 0 for every task (non-conflicting) and ‖Jᵀα‖² = αᵀGα = T; then d is scaled
/// down to ‖d‖ ≤ max_norm (when max_norm > 0), as the official code and TorchJD do. α is solved for
/// G itself, as the paper and both codes (they divide G by ‖G‖_F for the solver and multiply the
/// factor back into the constraint).
///
/// Differences from the paper and the official code, all documented choices: the fixed point is
/// solved exactly (solvers::log_barrier_fixed_point: damped Newton on ½βᵀCβ − Σ log β_i, strictly
/// convex, for the correlation matrix C = DGD, D = diag(1/‖g_i‖), α = Dβ) instead of 20 rounds of
/// the paper's concave–convex procedure with a 1e-3 stop, and without the warm start and
/// "update_weights_every" of the official code, so the stage is stateless. Neither the paper nor
/// the codes regularise; here reg_eps > 0 (default 1e-8) is added to C's diagonal, i.e.
/// reg_eps·‖g_i‖² to G_ii, relative to each task: it moves the paper's α by ~reg_eps relative
/// whatever the tasks' scales, and makes the fixed point exist when 0 is in the cone of the rows
/// (rank-deficient J), where α grows like 1/√reg_eps and d stays finite. A zero row: α_i = 0.
///
/// Options: max_norm = 1 (≥ 0; 0 disables the scaling), reg_eps = 1e-8 (> 0).
/// Golden (TorchJD): J = [[-4,1,1],[6,1,1]] → d = [0.0542, 0.7061, 0.7061].

#include "mtlgrad/optim/gramian_weighting.hpp"

namespace mtlgrad {

class NashMTL : public GramianWeighting {
 public:
  explicit NashMTL(real max_norm = 1, real reg_eps = real(1e-8));
  std::string name() const override { return "nash-mtl"; }
  nlohmann::json options() const override;

 protected:
  bool runs_solver() const override { return true; }

 private:
  void weigh(const Tensor& G, Rng& rng, std::vector<real>& w) override;
  real max_norm_, reg_eps_;
  std::vector<std::size_t> active_;
  std::vector<real> scale_, beta_;
  Tensor C_;
};

}  // namespace mtlgrad
