#pragma once
/// @file cagrad.hpp
/// CAGrad, "Conflict-Averse Gradient Descent for Multi-task Learning" (Liu et al. 2021, NeurIPS,
/// arXiv 2110.14048), as in the official code (Cranial-XIX/CAGrad): with g_0 = (1/T) Σ g_i and
/// φ = c‖g_0‖, the dual over the simplex
/// \f[ w^* = \arg\min_{w∈Δ}\; g_w·g_0 + φ\,\|g_w\|, \qquad g_w = J^T w, \f]
/// then \f$ d = \big(g_0 + \frac{φ}{\|g_{w^*}\|} g_{w^*}\big) / s \f$ with s = 1 (rescale 0),
/// 1 + c² (rescale 1, the default) or 1 + c (rescale 2). A weighting:
/// w = (1/T + (φ/‖g_w*‖) w*) / s.
///
/// Solved on G (everything above is a quadratic form in w): G is divided by tr(G) (the direction
/// does not change), then solvers::minimize_on_simplex (projected gradient) runs to a step below
/// 1e-12 (float: 1e-6). No epsilons. When ‖g_w*‖ = 0 (0 in the hull of the rows that carry w*, up
/// to tr(G)·T·ε), d is the formula's limit under the objective's own smoothing, fixed by the KKT
/// conditions: g_0 minus its projection onto the span of the differences of the supporting rows
/// (the support of the exact min-norm point, which is then 0), divided by s; it is taken when it is
/// primal-optimal (min_i g_i·d ≥ 0 inside the ball ‖d − g_0‖ ≤ φ, up to rounding), which the
/// projected gradient, stopping short of the kink at g_w = 0, cannot tell reliably.
/// The official code's g_w/(‖g_w‖ + 1e-8) tends to another limit, (1 − c)g_0/s on collinear rows,
/// which conflicts with a supporting task: c = 1.5 on J = [[1,2],[−.5,−1],[−.8,−1.6]] gives d = 0
/// here, (0.0154, 0.0308) there (g_2·d < 0). Zero J gives d = 0.
///
/// Options: c = 0.5 (≥ 0; c = 0 is the mean), rescale = 1 ∈ {0, 1, 2}. Stateless.
/// Golden (TorchJD, c = 0.5, rescale 0): J = [[-4,1,1],[6,1,1]] → d = [0.1835, 1.2041, 1.2041].

#include "mtlgrad/optim/gramian_weighting.hpp"

namespace mtlgrad {

class CAGrad : public GramianWeighting {
 public:
  explicit CAGrad(real c = real(0.5), int rescale = 1);
  std::string name() const override { return "cagrad"; }
  nlohmann::json options() const override;

 protected:
  bool runs_solver() const override { return true; }

 private:
  void weigh(const Tensor& G, Rng& rng, std::vector<real>& w) override;
  /// When 0 is in the hull of the rows and the KKT limit of the formula is primal-optimal: w ← its
  /// weights, true. Else false, w untouched.
  bool degenerate_limit(std::size_t T, real phi, real s, std::vector<real>& w);
  real c_;
  int rescale_;
  Tensor Gn_, A_;
  std::vector<real> Gb_, star_, y_, hull_, cand_;
  std::vector<std::size_t> support_;
};

}  // namespace mtlgrad
