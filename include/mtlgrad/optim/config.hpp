#pragma once
/// @file config.hpp
/// config — ConFIG, conflict-free inverse gradients, "ConFIG: Towards Conflict-free Training of
/// Physics Informed Neural Networks" (Liu, Chu & Thuerey, ICLR 2025, arXiv 2408.11104). d has a
/// positive projection on every task gradient, in the wanted ratios p (the option weights), and
/// its length is the sum of the gradients' projections on it:
/// \f[ u_i = g_i/\|g_i\|, \quad c = U^{+} p, \quad \hat c = c/\|c\|, \quad
///     d = \Big(\sum_i g_i \cdot \hat c\Big)\, \hat c. \f]
/// With U c = p solvable (independent rows), u_i·ĉ = p_i/‖c‖ > 0: g_i·d > 0 for every task.
///
/// Computed on the Gramian: UUᵀ = K is the cosine matrix K_ij = G_ij/(‖g_i‖‖g_j‖) and U⁺ = Uᵀ K⁺,
/// so with y = K⁺p, d = Jᵀλ, λ_i = s y_i/‖g_i‖, s = (Σ_i g_i·ĉ)/‖c‖, ‖c‖² = yᵀKy. K⁺ drops the
/// eigenvalues below T·ε·λ_max (the project's pseudo-inverse cut-off: K's rounding is ~ε·λ_max;
/// torch.linalg.pinv cuts U's singular values at max(T, P)·ε·σ_max, which agrees except for rows
/// dependent to ~1e-8). A zero row gets λ_i = 0 and leaves d unchanged. Since ‖c‖ ≥ max_i p_i
/// whenever Uc = p is solvable, a c shorter than max(1e-12, 64·T·ε)·max_i p_i is rounding (rows
/// with no common direction, e.g. g_2 = −g_1): then d = 0. (The package's least-squares path returns
/// 0 or g_1 + g_2 as the rounding falls there, and TorchJD's max(‖c‖, 1e-12) a tiny d.)
///
/// The reference is the authors' package (tum-pbs/ConFIG, conflictfree.grad_operator.ConFIGOperator
/// with its defaults: equal weights, projection length, least squares); TorchJD's ConFIG (pinv) is
/// the same. Option weights = [] (p = 1 each; else T positive numbers). Stateless. out.weights = λ;
/// out.head_scale = λ: the package rewrites the whole network's gradient, heads included; the task
/// heads' gradients here take the weight their task's shared gradient has in d.

#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

/// λ (T values) with Σ_i λ_i g_i = ConFIG's d for the rows whose Gramian is G (T×T, finite, PSD up
/// to rounding) and the positive ratios p (T values). Used by config and m-config.
void config_weights(const Tensor& G, const std::vector<real>& p, std::vector<real>& lambda);

class ConFIG : public Aggregator {
 public:
  explicit ConFIG(std::vector<real> weights = {});
  std::string name() const override { return "config"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  nlohmann::json options() const override { return {{"name", name()}, {"weights", p_}}; }

 private:
  std::vector<real> p_, ratios_;
  Tensor G_;
};

}  // namespace mtlgrad
