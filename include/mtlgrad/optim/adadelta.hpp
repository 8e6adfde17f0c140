#pragma once
/// @file adadelta.hpp
/// AdaDelta (Zeiler 2012, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701),
/// exactly as torch.optim.Adadelta 1.13 (which keeps Zeiler's unit-correcting ratio and adds a
/// learning rate η, default 1).
///
/// With g ← g + λ θ (weight_decay λ) and decay ρ:
/// \f[
///   v \leftarrow \rho v + (1-\rho) g^2, \qquad
///   \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}} \, g, \qquad
///   u \leftarrow \rho u + (1-\rho) \Delta^2, \qquad
///   \theta \leftarrow \theta - \eta \Delta
/// \f]
/// (v is torch's square_avg, u its acc_delta).

#include "mtlgrad/optim/optimizer_loop.hpp"

namespace mtlgrad {

struct AdadeltaOptions {
  real lr = 1.0;          ///< η ≥ 0
  real rho = 0.9;         ///< ρ ∈ [0, 1]
  real eps = 1e-6;        ///< ε ≥ 0
  real weight_decay = 0;  ///< λ ≥ 0 (coupled)

  void validate(const std::string& who = "adadelta") const;
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr, "learning rate η", Range::at_least(0));
    f("rho", o.rho, "ρ: decay of the running averages", Range::closed(0, 1));
    f("eps", o.eps, "ε inside both square roots", Range::at_least(0));
    f("weight_decay", o.weight_decay, "L2 weight decay λ, added to the gradient", Range::at_least(0));
  }
};

class Adadelta : public OptimizerWith<AdadeltaOptions> {
 public:
  explicit Adadelta(AdadeltaOptions o = {}) : OptimizerWith("adadelta", o) {}

 protected:
  StateLayout layout() const override;
  real coupled_weight_decay() const override { return o_.weight_decay; }
  void update(Tensor& param, const Tensor& grad, ParamState& s) override;
};

}  // namespace mtlgrad
