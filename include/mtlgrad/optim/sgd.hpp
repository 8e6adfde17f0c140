#pragma once
/// @file sgd.hpp
/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
/// exactly as torch.optim.SGD 1.13 (Robbins & Monro 1951; heavy ball: Polyak 1964; the Nesterov
/// variant as formulated by Sutskever et al. 2013, ICML).
///
/// With g ← g + λ θ (weight_decay λ), momentum μ, dampening τ and learning rate η:
/// \f[
///   b_t = \begin{cases} g & t = 1 \\ \mu b_{t-1} + (1-\tau) g & t > 1 \end{cases}, \qquad
///   d = \begin{cases} g + \mu b_t & \text{nesterov} \\ b_t & \text{otherwise} \end{cases}, \qquad
///   \theta \leftarrow \theta - \eta d
/// \f]
/// (with μ = 0 there is no buffer and d = g). The first buffer is the gradient itself, without
/// dampening, as in torch.
///
/// torch.optim.SGD has no default learning rate; mtlgrad's is 1e-3.

#include "mtlgrad/optim/optimizer_loop.hpp"

namespace mtlgrad {

struct SGDOptions {
  real lr = 1e-3;         ///< η ≥ 0 (torch requires it; our default)
  real momentum = 0;      ///< μ ≥ 0
  real dampening = 0;     ///< τ ∈ [0, 1]
  real weight_decay = 0;  ///< λ ≥ 0 (coupled: added to the gradient)
  bool nesterov = false;  ///< requires momentum > 0 and dampening = 0 (torch's check)

  void validate(const std::string& who = "sgd") const;
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr, "learning rate η", Range::at_least(0));
    f("momentum", o.momentum, "momentum μ", Range::at_least(0));
    f("dampening", o.dampening, "dampening τ of the momentum buffer", Range::closed(0, 1));
    f("weight_decay", o.weight_decay, "L2 weight decay λ, added to the gradient", Range::at_least(0));
    f("nesterov", o.nesterov, "Nesterov momentum (needs momentum > 0, dampening = 0)", Range{});
  }
};

class SGD : public OptimizerWith<SGDOptions> {
 public:
  explicit SGD(SGDOptions o = {}) : OptimizerWith("sgd", o) {}

 protected:
  StateLayout layout() const override;
  real coupled_weight_decay() const override { return o_.weight_decay; }
  void update(Tensor& param, const Tensor& grad, ParamState& s) override;
};

}  // namespace mtlgrad
