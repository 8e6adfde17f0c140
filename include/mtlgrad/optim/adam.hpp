#pragma once
/// @file adam.hpp
/// Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization", ICLR, arXiv:1412.6980)
/// with the AMSGrad variant (Reddi, Kale & Kumar 2018, "On the Convergence of Adam and Beyond",
/// ICLR), and AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization", ICLR),
/// exactly as torch.optim.Adam / AdamW 1.13.
///
/// At the parameter's step t, with β₁, β₂ = betas:
/// \f[
///   m \leftarrow \beta_1 m + (1-\beta_1) g, \qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \qquad
///   \hat v = \max(\hat v, v) \ \text{(amsgrad)} \ \text{or} \ v
/// \f]
/// \f[
///   \theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t} \cdot
///     \frac{m}{\sqrt{\hat v} / \sqrt{1-\beta_2^t} + \epsilon}
/// \f]
/// in torch's arithmetic order (denominator (√v̂ / √(1−β₂ᵗ)) + ε, step size η / (1−β₁ᵗ)).
/// Weight decay λ: adam adds it to the gradient (g ← g + λ θ, L2); adamw decays the parameter
/// before the update, θ ← θ (1 − η λ), and the moments never see it.

#include <array>

#include "mtlgrad/optim/optimizer_loop.hpp"

namespace mtlgrad {

struct AdamOptions {
  real lr = 1e-3;                         ///< η ≥ 0
  std::array<real, 2> betas{0.9, 0.999};  ///< β₁, β₂ ∈ [0, 1)
  real eps = 1e-8;                        ///< ε ≥ 0
  real weight_decay = 0;                  ///< λ ≥ 0 (adam: coupled; adamw: decoupled)
  bool amsgrad = false;                   ///< normalise by the running maximum of v

  void validate(const std::string& who = "adam") const;
  template <class Self, class F>
  static void fields(Self& o, F&& f) {
    f("lr", o.lr, "learning rate η", Range::at_least(0));
    f("betas", o.betas, "β₁, β₂: decay of the first and second moments", Range::half_open(0, 1));
    f("eps", o.eps, "ε added to the denominator", Range::at_least(0));
    f("weight_decay", o.weight_decay, "weight decay λ (adam: L2 on the gradient; adamw: decoupled)", Range::at_least(0));
    f("amsgrad", o.amsgrad, "normalise by the running maximum of v (AMSGrad)", Range{});
  }
};

/// AdamW's options: Adam's, with torch's AdamW default weight_decay = 1e-2.
struct AdamWOptions : AdamOptions {
  AdamWOptions() { weight_decay = 1e-2; }
  void validate(const std::string& who = "adamw") const { AdamOptions::validate(who); }
};

/// The step-dependent constants of Adam's update, computed once per step (every parameter of a
/// step shares its t, unless one skipped a gradient) rather than once per tensor.
struct AdamBiasCorrection {
  long long step = 0;  ///< t they were computed for (0: none yet)
  real lr = 0;
  real step_size = 0;  ///< η / (1 − β₁ᵗ)
  real bc2_sqrt = 0;   ///< √(1 − β₂ᵗ)
};

class Adam : public OptimizerWith<AdamOptions> {
 public:
  explicit Adam(AdamOptions o = {}) : OptimizerWith("adam", o) {}

 protected:
  StateLayout layout() const override;
  real coupled_weight_decay() const override { return o_.weight_decay; }
  void update(Tensor& param, const Tensor& grad, ParamState& s) override;

 private:
  AdamBiasCorrection bc_;
};

class AdamW : public OptimizerWith<AdamWOptions> {
 public:
  explicit AdamW(AdamWOptions o = {}) : OptimizerWith("adamw", o) {}

 protected:
  StateLayout layout() const override;
  void update(Tensor& param, const Tensor& grad, ParamState& s) override;

 private:
  AdamBiasCorrection bc_;
};

}  // namespace mtlgrad
