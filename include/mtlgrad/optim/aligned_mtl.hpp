#pragma once
/// @file aligned_mtl.hpp
/// Aligned-MTL, "Independent Component Alignment for Multi-Task Learning" (Senushkin et al. 2023,
/// CVPR, Algorithm 1), in TorchJD's variant: make the task gradients orthogonal with equal norms
/// (the condition number of the Gramian becomes 1), then combine them with a preference vector.
/// With the eigen-decomposition G = V Λ Vᵀ restricted to the r eigenvalues above the rank cutoff
/// (λ > max λ · T · ε), λ_r the smallest of them,
/// \f[ B = \sqrt{λ_r}\; V_r Λ_r^{-1/2} V_r^T, \qquad w = B\,u, \qquad d = J^T w, \f]
/// u the preference (option weights, default 1/T each). Rank 0 (zero J): B = I.
///
/// The official code (SamsungLabs/MTL) also rescales the result by its own choice of λ; TorchJD,
/// and this stage, use √λ_r as above. The decomposition is solvers::symmetric_eigen of G/tr(G)
/// (B does not depend on the scale of G). Stateless.
/// Golden (TorchJD): J = [[-4,1,1],[6,1,1]] → d = [0.2133, 0.9673, 0.9673].

#include "mtlgrad/optim/gramian_weighting.hpp"

namespace mtlgrad {

class AlignedMTL : public GramianWeighting {
 public:
  /// pref: empty (1/T each) or one weight per task.
  explicit AlignedMTL(std::vector<real> pref = {}) : pref_(std::move(pref)) {}
  std::string name() const override { return "aligned-mtl"; }
  nlohmann::json options() const override;

 private:
  void weigh(const Tensor& G, Rng& rng, std::vector<real>& w) override;
  std::vector<real> pref_, u_, values_;
  Tensor Gn_, V_;
};

}  // namespace mtlgrad
