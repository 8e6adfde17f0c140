#pragma once
/// @file pcgrad_momentum.hpp
/// pcgrad-momentum (docs/algorithms.md, "Surgery with a memory"): the surgery runs on what each task has been asking for
/// over about 1/(1−β) steps instead of on this step's gradients alone, so that the conflict that
/// accumulates in a momentum buffer is removed, not only today's. Per task, at step t = 1, 2, ...
/// \f[ m_i = β m_i + (1−β) g_i, \qquad \hat m_i = m_i / (1 − β^t), \qquad d = \mathrm{pcgrad}(\{\hat m_i\}) \f]
/// Options: beta ∈ [0, 1) (default 0.9; β = 0 is pcgrad exactly), order and reduction as for
/// pcgrad. Pair it with plain sgd. State O(T·P): {"t", "m"}.
///
/// out.weights are the pcgrad weights applied to the rows m̂_i: d = Σ_i w_i m̂_i. They are NOT
/// weights of the current Jacobian (d is in general not Jᵀw for this step's J).
/// out.pair_strength is left empty (λ = 1, as in pcgrad).

#include <cstdint>

#include "mtlgrad/optim/pcgrad.hpp"

namespace mtlgrad {

class PCGradMomentum : public Aggregator {
 public:
  explicit PCGradMomentum(SurgeryOptions o = {}, real beta = real(0.9));
  std::string name() const override { return "pcgrad-momentum"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override;

 private:
  SurgeryOptions o_;
  real beta_;
  std::uint64_t t_ = 0;
  Tensor m_, mhat_, G_;
  SurgeryKernel kernel_;
};

}  // namespace mtlgrad
