#pragma once
/// @file nadam.hpp
/// NAdam (Dozat 2016, "Incorporating Nesterov Momentum into Adam", ICLR workshop), with the
/// momentum schedule of torch.optim.NAdam 1.13, exactly as there.
///
/// At the parameter's step t, with g ← g + λ θ (weight_decay λ), β₁, β₂ = betas and
/// momentum_decay ψ:
/// \f[
///   \mu_t = \beta_1 \left(1 - \tfrac12 \, 0.96^{t\psi}\right), \qquad
///   \Pi_t = \prod_{i \le t} \mu_i, \qquad
///   m \leftarrow \beta_1 m + (1-\beta_1) g, \qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2
/// \f]
/// \f[
///   \theta \leftarrow \theta
///     - \eta \frac{1-\mu_t}{1-\Pi_t} \frac{g}{\sqrt{v / (1-\beta_2^t)} + \epsilon}
///     - \eta \frac{\mu_{t+1}}{1-\Pi_t \mu_{t+1}} \frac{m}{\sqrt{v / (1-\beta_2^t)} + \epsilon}
/// \f]
/// Π is the per-parameter scalar state mu_product (kept in `real`; torch keeps it in its default
/// dtype, float32 unless torch.set_default_dtype(torch.float64)).

#include <array>

#include "mtlgrad/optim/optimizer_loop.hpp"

namespace mtlgrad {

struct NAdamOptions {
  real lr = 2e-3;                         ///< η ≥ 0
  std::array<real, 2> betas{0.9, 0.999};  ///< β₁, β₂ ∈ [0, 1)
  real eps = 1e-8;                        ///< ε ≥ 0
  real weight_decay = 0;                  ///< λ ≥ 0 (coupled)
  real momentum_decay = 4e-3;             ///< ψ ≥ 0

  void validate(const std::string& who = "nadam") const;
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr, "learning rate η", Range::at_least(0));
    f("betas", o.betas, "β₁, β₂: decay of the first and second moments", Range::half_open(0, 1));
    f("eps", o.eps, "ε added to the denominator", Range::at_least(0));
    f("weight_decay", o.weight_decay, "L2 weight decay λ, added to the gradient", Range::at_least(0));
    f("momentum_decay", o.momentum_decay, "ψ of the momentum schedule μₜ = β₁(1 − ½·0.96^(tψ))", Range::at_least(0));
  }
};

class NAdam : public OptimizerWith<NAdamOptions> {
 public:
  explicit NAdam(NAdamOptions o = {}) : OptimizerWith("nadam", o) {}

 protected:
  StateLayout layout() const override;
  real coupled_weight_decay() const override { return o_.weight_decay; }
  void update(Tensor& param, const Tensor& grad, ParamState& s) override;
};

}  // namespace mtlgrad
