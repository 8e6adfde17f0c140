#pragma once
/// @file adagrad.hpp
/// AdaGrad (Duchi, Hazan & Singer 2011, "Adaptive Subgradient Methods for Online Learning and
/// Stochastic Optimization", JMLR 12), exactly as torch.optim.Adagrad 1.13.
///
/// With g ← g + λ θ (weight_decay λ), step t (per parameter), learning rate η, lr_decay δ:
/// \f[
///   \tilde\eta = \frac{\eta}{1 + (t-1)\delta}, \qquad
///   s \leftarrow s + g^2, \qquad
///   \theta \leftarrow \theta - \tilde\eta \, \frac{g}{\sqrt{s} + \epsilon}
/// \f]
/// s starts at initial_accumulator_value.

#include "mtlgrad/optim/optimizer_loop.hpp"

namespace mtlgrad {

struct AdagradOptions {
  real lr = 1e-2;                      ///< η ≥ 0
  real lr_decay = 0;                   ///< δ ≥ 0
  real weight_decay = 0;               ///< λ ≥ 0 (coupled)
  real initial_accumulator_value = 0;  ///< s₀ ≥ 0
  real eps = 1e-10;                    ///< ε ≥ 0

  void validate(const std::string& who = "adagrad") const;
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr, "learning rate η", Range::at_least(0));
    f("lr_decay", o.lr_decay, "δ: η / (1 + (t − 1) δ)", Range::at_least(0));
    f("weight_decay", o.weight_decay, "L2 weight decay λ, added to the gradient", Range::at_least(0));
    f("initial_accumulator_value", o.initial_accumulator_value, "s₀, the start of the sum of squares", Range::at_least(0));
    f("eps", o.eps, "ε added to the denominator", Range::at_least(0));
  }
};

class Adagrad : public OptimizerWith<AdagradOptions> {
 public:
  explicit Adagrad(AdagradOptions o = {}) : OptimizerWith("adagrad", o) {}

 protected:
  StateLayout layout() const override;
  real coupled_weight_decay() const override { return o_.weight_decay; }
  void update(Tensor& param, const Tensor& grad, ParamState& s) override;
};

}  // namespace mtlgrad
