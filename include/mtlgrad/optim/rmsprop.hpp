#pragma once
/// @file rmsprop.hpp
/// RMSProp (Hinton, Srivastava & Swersky 2012, Coursera "Neural Networks for Machine Learning",
/// lecture 6e; the centered variant after Graves 2013, arXiv:1308.0850), exactly as
/// torch.optim.RMSprop 1.13.
///
/// With g ← g + λ θ (weight_decay λ), smoothing α, momentum μ:
/// \f[
///   v \leftarrow \alpha v + (1-\alpha) g^2, \qquad
///   \bar g \leftarrow \alpha \bar g + (1-\alpha) g \ \text{(centered)}, \qquad
///   a = \sqrt{v - \bar g^2} + \epsilon \ \text{(centered)} \ \text{or} \ \sqrt{v} + \epsilon
/// \f]
/// \f[
///   \mu > 0:\ b \leftarrow \mu b + g / a,\ \theta \leftarrow \theta - \eta b; \qquad
///   \mu = 0:\ \theta \leftarrow \theta - \eta\, g / a
/// \f]
/// torch only checks alpha ≥ 0; mtlgrad requires alpha ∈ [0, 1] (above 1 the average is not one).

#include "mtlgrad/optim/optimizer_loop.hpp"

namespace mtlgrad {

struct RMSpropOptions {
  real lr = 1e-2;         ///< η ≥ 0
  real alpha = 0.99;      ///< α ∈ [0, 1]
  real eps = 1e-8;        ///< ε ≥ 0
  real weight_decay = 0;  ///< λ ≥ 0 (coupled)
  real momentum = 0;      ///< μ ≥ 0
  bool centered = false;  ///< normalise by the variance estimate v − ḡ² instead of v

  void validate(const std::string& who = "rmsprop") const;
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr, "learning rate η", Range::at_least(0));
    f("alpha", o.alpha, "α: decay of the running mean of g²", Range::closed(0, 1));
    f("eps", o.eps, "ε added to the denominator", Range::at_least(0));
    f("weight_decay", o.weight_decay, "L2 weight decay λ, added to the gradient", Range::at_least(0));
    f("momentum", o.momentum, "momentum μ", Range::at_least(0));
    f("centered", o.centered, "normalise by the variance estimate v − ḡ² instead of v", Range{});
  }
};

class RMSprop : public OptimizerWith<RMSpropOptions> {
 public:
  explicit RMSprop(RMSpropOptions o = {}) : OptimizerWith("rmsprop", o) {}

 protected:
  StateLayout layout() const override;
  real coupled_weight_decay() const override { return o_.weight_decay; }
  void update(Tensor& param, const Tensor& grad, ParamState& s) override;
};

}  // namespace mtlgrad
