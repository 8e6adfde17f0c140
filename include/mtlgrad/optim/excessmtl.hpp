#pragma once
/// @file excessmtl.hpp
/// excessmtl — "Robust Multi-Task Learning with Excess Risks" (He et al., ICML 2024). The task
/// weights follow each task's excess risk, estimated by a second-order approximation
/// g_iᵀ H_i⁻¹ g_i with AdaGrad's diagonal H_i, relative to its first value, by exponentiated
/// gradient ascent (tasks far from their optimum get more weight, noisy tasks whose loss cannot
/// fall further do not). Per step, with S (T×P) AdaGrad's running sums of squares:
/// \f[ S \leftarrow S + J \odot J, \qquad e_i = \sum_k \frac{J_{ik}^2}{\sqrt{S_{ik} + 10^{-7}}}, \f]
/// first step: e⁰ = e and λ = 1; later steps, with r_i = e_i / e⁰_i (0 when e⁰_i = 0):
/// \f[ λ_i \leftarrow λ_i \exp(η r_i), \qquad λ \leftarrow T λ / \textstyle\sum_j λ_j, \f]
/// and d = Jᵀλ with this step's λ. As the authors' code (yifei-he/ExcessMTL, the same as LibMTL's
/// ExcessMTL.py); the normalisation is computed as T softmax(ln λ + η r) (no overflow). TorchJD's
/// variant differs (λ from 1/T, updated at the first call with the raw e, η = 1).
///
/// Option robust_step_size η = 1e-2 (≥ 0; 0 keeps λ = 1). Needs only J. State {"t", "S", "lambda",
/// "e0"}: O(T·P), like an AdaGrad per task. out.weights = λ and out.head_scale = λ (the reference
/// back-propagates Σ λ_i L_i through the task heads as well).

#include <cstdint>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

class ExcessMTL : public Aggregator {
 public:
  explicit ExcessMTL(real robust_step_size = real(1e-2));
  std::string name() const override { return "excessmtl"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override { return {{"name", name()}, {"robust_step_size", eta_}}; }

 private:
  real eta_;
  std::uint64_t t_ = 0;
  Tensor S_;
  std::vector<real> lambda_, e0_, e_;
};

}  // namespace mtlgrad
