#pragma once
/// @file nag.hpp
/// Nesterov's accelerated gradient in its classical form (Nesterov 1983; as momentum for deep
/// learning: Sutskever, Martens, Dahl & Hinton 2013, "On the importance of initialization and
/// momentum in deep learning", ICML), docs/algorithms.md "nag". Not torch's SGD(nesterov=True), which is
/// the reformulation that needs only the gradient at θ.
///
/// The gradient is taken at the look-ahead point θ̃, where momentum is about to carry θ:
/// \f[
///   \tilde\theta = \theta - \eta \mu v, \qquad
///   v \leftarrow \mu v + \nabla f(\tilde\theta), \qquad
///   \theta \leftarrow \theta - \eta v
/// \f]
///
/// HOW TO CALL IT. step(params, grads) must be given the gradient evaluated AT lookahead(), not
/// at params:
///
///     std::vector<Tensor> look;
///     nag.lookahead(params, look);       // θ̃ (θ itself before the first step: v = 0)
///     grads = gradient_of_f_at(look);    // d(θ̃)
///     nag.step(params, grads);           // v and θ as above
///
/// Given the gradient at θ instead, it is plain heavy-ball momentum (Polyak 1964).

#include "mtlgrad/optim/optimizer_loop.hpp"

namespace mtlgrad {

struct NAGOptions {
  real lr = 1e-3;        ///< η ≥ 0
  real momentum = 0.9;   ///< μ ∈ [0, 1)

  void validate(const std::string& who = "nag") const;
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr, "learning rate η", Range::at_least(0));
    f("momentum", o.momentum, "momentum μ", Range::half_open(0, 1));
  }
};

class NAG : public OptimizerWith<NAGOptions> {
 public:
  explicit NAG(NAGOptions o = {}) : OptimizerWith("nag", o) {}

  bool has_lookahead() const override { return true; }
  /// out[k] = θ_k − η μ v_k (θ_k where parameter k has no velocity yet).
  void lookahead(const std::vector<const Tensor*>& params, std::vector<Tensor>& out) const override;

 protected:
  StateLayout layout() const override;
  void update(Tensor& param, const Tensor& grad, ParamState& s) override;
};

}  // namespace mtlgrad
