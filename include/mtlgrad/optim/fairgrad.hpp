#pragma once
/// @file fairgrad.hpp
/// fairgrad — FairGrad, "Fair Resource Allocation in Multi-Task Learning" (Ban & Ji, ICML 2024,
/// arXiv 2402.15638). The update maximises the α-fair utility Σ_i u_i^{1−α}/(1 − α) of the tasks'
/// loss decreases u_i = g_i·d (α = 1: Σ ln u_i, proportional fairness, Nash-MTL's bargaining
/// solution without its normalisation; α → ∞: max-min fairness). Its KKT conditions give d = Jᵀw
/// with w > 0 solving (Eq. 5)
/// \f[ (G w)_i = w_i^{-1/α} \qquad (i = 1..T), \f]
/// so g_i·d = w_i^{−1/α} > 0 for every task where a solution exists. w is the unique minimiser of
/// the strictly convex φ(w) = ½wᵀGw − Σ_i h(w_i), h′(x) = x^{−1/α}.
///
/// Solved exactly by damped Newton on φ (Hessian G + diag(w^{−1/α−1}/α), steps kept inside w > 0
/// and backtracked on φ), in the coordinates w_i = k β_i/‖g_i‖ with k a common scale: the Gramian
/// becomes the cosine matrix (unit diagonal) and the tasks' scales move into the right-hand side,
/// so the start is well-conditioned from ‖J‖ = 1e-10 to 1e10. Newton stops when
/// max_i |(Gw)_i w_i^{1/α} − 1| ≤ 8·T·ε (the metric solver_residual), when rounding stops its
/// progress, or after max_iter steps (solver_capped). The reference, the authors' code
/// (OptMN-Lab/fairgrad methods/weight_methods.py, the same as LibMTL's FairGrad.py), calls
/// scipy.optimize.least_squares on Gw − w^{−1/α} with default tolerances, which stops earlier on
/// an ill-conditioned G (a relative difference ~1e-5 there); the fixed point is the same.
///
/// Degenerate cases: a zero row has no finite w_i: w_i = 0 (d is unchanged). When 0 is in the
/// convex hull of the rows (Pareto-stationary, e.g. g_2 = −g_1) there is no solution (φ decreases
/// without bound along some w ≥ 0 with Jᵀw = 0): the last iterate is returned, with d small.
///
/// Options alpha = 1 (> 0), max_iter = 100 (≥ 1). Stateless. d scales as c^{(1−α)/(1+α)} when J
/// scales by c (α = 1: invariant). out.weights = w and out.head_scale = w (the reference
/// back-propagates Σ w_i L_i through the task heads as well).

#include <cstddef>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/solvers.hpp"

namespace mtlgrad {

class FairGrad : public Aggregator {
 public:
  explicit FairGrad(real alpha = 1, std::size_t max_iter = 100);
  std::string name() const override { return "fairgrad"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  std::vector<std::string> metric_names() const override { return {"solver_iters", "solver_residual"}; }
  nlohmann::json options() const override { return {{"name", name()}, {"alpha", alpha_}, {"max_iter", max_iter_}}; }

 private:
  /// β (n values > 0) ← the solution of (Cβ)_i = a_i β_i^{−p} for the n×n matrix C (unit
  /// diagonal, PSD) and a_i > 0.
  solvers::SolveReport solve(const Tensor& C, const std::vector<real>& a, std::vector<real>& beta) const;
  real alpha_;
  std::size_t max_iter_;
  Tensor G_;
};

}  // namespace mtlgrad
