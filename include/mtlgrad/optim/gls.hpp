#pragma once
/// @file gls.hpp
/// gls — the geometric loss strategy, "MultiNet++: Multi-Stream Feature Aggregation and Geometric
/// Loss Strategy for Multi-Task Learning" (Chennupati et al., CVPR Workshops 2019): the tasks are
/// trained on the geometric mean of their losses, ℒ = (Π_j L_j)^{1/T}. Its gradient is d = Jᵀw with
/// \f[ w_i = \frac{\partial ℒ}{\partial L_i} = \frac{(\prod_j L_j)^{1/T}}{T L_i}
///         = \frac{\exp(\frac1T \sum_j \ln L_j)}{T L_i}, \f]
/// computed through the logarithms (the product of many small losses underflows). This is what
/// LibMTL's GLS back-propagates; the weights LibMTL's backward() returns, L_i / (T ΠL), are not
/// this gradient and are not used. A task with a small loss gets a large weight: the geometric mean
/// rewards every task's relative progress equally.
///
/// Needs this step's losses (observe_losses() before aggregate(), every L_i > 0; errors name
/// "gls"). Stateless, no options. out.weights = w and out.head_scale = w (the reference
/// back-propagates ℒ through the task heads as well).

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/stage_losses.hpp"

namespace mtlgrad {

class GLS : public Aggregator {
 public:
  std::string name() const override { return "gls"; }
  void observe_losses(const std::vector<real>& losses) override { losses_.observe(losses); }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  nlohmann::json options() const override { return {{"name", name()}}; }

 private:
  StageLosses losses_{"gls", true};
};

}  // namespace mtlgrad
