#pragma once
/// @file gradnorm.hpp
/// gradnorm — GradNorm, "Gradient Normalization for Adaptive Loss Balancing in Deep Multitask
/// Networks" (Chen, Badrinarayanan, Lee & Rabinovich, ICML 2018), in LibMTL's parametrisation:
/// weights w = T·softmax(s) (Σ w = T) with learnable s ∈ R^T (0 at the start),
/// \f[ G_i = w_i \lVert g_i\rVert,\quad \bar G = \operatorname{mean}_i G_i,\quad
///     r_i = \frac{L_i/L^0_i}{\operatorname{mean}_j L_j/L^0_j},\quad
///     \mathcal L_{grad} = \sum_i \bigl| G_i - \bar G\, r_i^{\alpha} \bigr| \f]
/// with the targets Ḡ r_i^α held constant; d = Jᵀw uses s before its update, then s takes one SGD
/// step on ℒ_grad:  ∂ℒ/∂s_k = Σ_i sgn(G_i − C_i) ‖g_i‖ w_i (δ_ik − z_k), z = softmax(s), sgn 0 = 0.
/// The paper trains the weights with the network's optimizer; the temporal stage cannot see s, so
/// the stage trains it itself by plain SGD (option lr), as uw does. The paper measures G_i on the
/// last shared layer and renormalises w directly; here ‖g_i‖ is over whatever J the trainer gives.
///
/// L⁰, the initial losses: with warmup_steps W = 0 the losses of the first step (the paper's
/// L(0)); with W > 0 the first W steps use w = 1 and L⁰ is the mean of their losses (LibMTL uses
/// epoch 0's mean: W = steps per epoch reproduces it). L⁰_i ≤ 0 is an error naming the task.
/// Options: alpha = 1.5 (≥ 0), lr = 1e-3 (≥ 0), warmup_steps = 0. The heads keep ∇L_i (LibMTL).
/// State {"tasks", "s", "initial" (L⁰ or the running sum during the warm-up), "t"}.

#include <string>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

class GradNorm : public Aggregator {
 public:
  GradNorm(real alpha = real(1.5), real lr = real(1e-3), std::size_t warmup_steps = 0);
  std::string name() const override { return "gradnorm"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  void observe_losses(const std::vector<real>& losses) override;
  bool weighting() const override { return true; }
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override {
    return {{"name", name()}, {"alpha", alpha_}, {"lr", lr_}, {"warmup_steps", warmup_}};
  }

 private:
  real alpha_, lr_;
  std::size_t warmup_;
  std::vector<real> losses_;
  bool fresh_ = false;
  std::size_t T_ = 0, t_ = 0;
  std::vector<real> s_, initial_;
  Tensor G_;
  std::vector<real> z_, norms_, ratio_, grad_;
};

}  // namespace mtlgrad
