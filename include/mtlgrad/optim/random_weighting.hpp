#pragma once
/// @file random_weighting.hpp
/// The two stages whose randomness comes from the Rng passed to aggregate().
///
/// rlw — Random Loss Weighting, "Reasonable Effectiveness of Random Weighting: A Litmus Test for
///   Multi-Task Learning" (Lin et al. 2021, TMLR 2022, arXiv 2111.10603): at every step
///   λ_i ~ N(0, 1) (T draws of rng.normal(), in task order) and w = softmax(λ); d = Jᵀw. No options.
///
/// graddrop — Gradient Sign Dropout, "Just Pick a Sign: Optimizing Deep Multitask Models with
///   Gradient Sign Dropout" (Chen et al. 2020, NeurIPS, arXiv 2010.06808, Algorithm 1 lines 10–15),
///   as in TorchJD: per coordinate k of the shared parameters, the positive sign purity
/// \f[ P_k = \tfrac12\Big(1 + \frac{\sum_i J_{ik}}{\sum_i |J_{ik}|}\Big) \f]
///   (P_k = ½ for an all-zero column), U_k uniform in [0, 1) (P draws of rng.uniform(), in coordinate
///   order), the mask M_ik = 1[P_k > U_k]·1[J_ik > 0] + 1[P_k < U_k]·1[J_ik < 0], and
///   d_k = Σ_i (leak + (1 − leak) M_ik) J_ik. It needs the signs of J per coordinate, not only G, and
///   is not a weighting (out.weights is empty). The paper applies it to the gradients at a layer's
///   activations; here it acts on the parameter gradients J (TorchJD's choice). Option
///   leak = 0 ∈ [0, 1] (leak = 1 is the sum).
/// Both are stateless.

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

class RandomLossWeighting : public Aggregator {
 public:
  std::string name() const override { return "rlw"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  nlohmann::json options() const override { return {{"name", name()}}; }
};

class GradDrop : public Aggregator {
 public:
  explicit GradDrop(real leak = 0);
  std::string name() const override { return "graddrop"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  nlohmann::json options() const override { return {{"name", name()}, {"leak", leak_}}; }

 private:
  real leak_;
};

}  // namespace mtlgrad
