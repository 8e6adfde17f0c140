#pragma once
/// @file cr_mogm.hpp
/// cr-mogm — the weight smoothing of CR-MOGM, "On the Convergence of Stochastic Multi-Objective
/// Gradient Manipulation and Beyond" (Zhou, Zhang, Zheng, Yao, Shen & Tao, NeurIPS 2022), as a
/// wrapper around any weighting (TorchJD's CRMOGMWeighting): with λ̂_t the inner stage's weights on
/// this step's J,
/// \f[ \lambda_1 = \hat\lambda_1, \qquad \lambda_t = \beta\,\lambda_{t-1} + (1-\beta)\,\hat\lambda_t,
///     \qquad d = J^T \lambda_t . \f]
/// The moving average of the weights is what makes the stochastic method converge (the paper lets
/// β grow towards 1 as the learning rate decays; set_beta() changes it between steps). A fresh
/// wrapper equals its inner stage at t = 1 (TorchJD's docstring and code; one version of its tests
/// starts from uniform λ). A spatio-temporal stage: it keeps λ across steps.
/// Spec {"name": "cr-mogm", "inner": {...a weighting's spec...}, "beta": 0.9}; an inner stage that
/// reports no weights is an error naming "<path>.inner". The inner stage gets every call the
/// wrapper gets (losses, losses after the step, extra Jacobians); its metrics and head_scale pass
/// through. T may not change between steps (reset() first). State {"tasks", "lambda", "inner"}.

#include <memory>
#include <string>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

class CRMOGM : public Aggregator {
 public:
  /// Throws std::invalid_argument when `inner` is not a weighting.
  CRMOGM(std::unique_ptr<Aggregator> inner, real beta = real(0.9));
  std::string name() const override { return "cr-mogm"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  void observe_losses(const std::vector<real>& losses) override { inner_->observe_losses(losses); }
  void observe_extra_jacobians(const Tensor& J_a, const Tensor& J_b) override {
    inner_->observe_extra_jacobians(J_a, J_b);
  }
  void observe_losses_after_step(const std::vector<real>& losses) override {
    inner_->observe_losses_after_step(losses);
  }
  bool wants_extra_jacobians() const override { return inner_->wants_extra_jacobians(); }
  bool wants_losses_after_step() const override { return inner_->wants_losses_after_step(); }
  bool weighting() const override { return true; }
  std::vector<std::string> metric_names() const override { return inner_->metric_names(); }
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override {
    return {{"name", name()}, {"inner", inner_->options()}, {"beta", beta_}};
  }
  void set_beta(real beta);
  const Aggregator& inner() const { return *inner_; }

 private:
  std::unique_ptr<Aggregator> inner_;
  real beta_;
  std::vector<real> lambda_;
  Aggregation inner_out_;
  Tensor G_;  // J's Gramian when the caller gave none
};

}  // namespace mtlgrad
