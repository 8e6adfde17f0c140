#pragma once
/// @file mgda.hpp
/// MGDA, the multiple-gradient descent algorithm (Désidéri 2012; Sener & Koltun 2018, "Multi-Task
/// Learning as Multi-Objective Optimization", Algorithm 2): the minimum-norm point of the convex
/// hull of the task gradients,
/// \f[ w = \arg\min_{w \in Δ} \|J^T w\|^2 = \arg\min_{w∈Δ} w^T G w, \qquad d = J^T w. \f]
/// At the optimum g_i·d ≥ ‖d‖² for every i, so d conflicts with no task (d = 0 when 0 lies in the
/// hull: a Pareto-stationary point).
///
/// Solved on G by solvers::min_norm_simplex: closed form for T ≤ 2, Wolfe's exact active-set
/// minimum-norm-point algorithm beyond (instead of the paper's Frank–Wolfe, which converges at
/// O(1/k)), stopped when the duality gap wᵀGw − min_i (Gw)_i ≤ tol·max_i G_ii (then
/// min_i g_i·d ≥ ‖d‖² − tol·max_i ‖g_i‖²) or after max_iter rows added to the active set.
/// O(T³) from T = 32 on (a Cholesky factor of the active set grown a row at a time, solvers.hpp).
/// Options: max_iter = 1000, tol = 1e-8. Stateless. Zero J: w = e_1 (T ≥ 3) or (½, ½), d = 0.
///
/// Golden (TorchJD): J = [[-4,1,1],[6,1,1]] → d = [0, 1, 1] (w = [0.6, 0.4]).

#include "mtlgrad/optim/gramian_weighting.hpp"

namespace mtlgrad {

class MGDA : public GramianWeighting {
 public:
  /// max_iter ≥ 1, tol ≥ 0.
  explicit MGDA(std::size_t max_iter = 1000, real tol = real(1e-8));
  std::string name() const override { return "mgda"; }
  nlohmann::json options() const override;

 protected:
  bool runs_solver() const override { return true; }

 private:
  void weigh(const Tensor& G, Rng& rng, std::vector<real>& w) override;
  std::size_t max_iter_;
  real tol_;
};

}  // namespace mtlgrad
