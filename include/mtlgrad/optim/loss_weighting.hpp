#pragma once
/// @file loss_weighting.hpp
/// The loss-based weightings: d = Jᵀw with w computed from the task losses, which the trainer passes
/// to observe_losses() before every aggregate() (calling aggregate() without the step's losses is an
/// error naming the stage). Both are stateful: state() / load_state() / reset().
///
/// dwa — Dynamic Weight Average, "End-to-End Multi-Task Learning with Attention" (Liu et al. 2019,
///   CVPR, Eq. 7): with r_i = L_i(t−1) / L_i(t−2) the ratio of the two previous steps' losses,
/// \f[ w_i = T \exp(r_i / \text{temperature}) / \textstyle\sum_j \exp(r_j / \text{temperature}), \f]
///   and w_i = 1 for the first two steps. The paper averages the losses over an epoch; here a step
///   is the unit (the trainer may pass epoch averages). r_i = 1 when L_i(t−2) ≤ 0. Option
///   temperature = 2 (> 0). State {"tasks", "previous": [L(t−1), L(t−2)]} (each [] until seen).
///
/// uw — uncertainty weighting, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene
///   Geometry and Semantics" (Kendall et al. 2018, CVPR). The paper's Gaussian-likelihood loss
///   (Eq. 7) is Σ_i L_i/(2σ_i²) + log σ_i; with the log-variance s_i = log σ_i² it reads
///   Σ_i ½exp(−s_i) L_i + ½s_i. Two forms, option `form`:
///     "unit"   (default) twice the paper's loss, Σ_i exp(−s_i) L_i + s_i, from s = 0: w_i = exp(−s_i),
///              w = 1 at the start (the form of the MTAN authors' code and of most re-implementations);
///     "libmtl" the paper's loss itself, Σ_i ½exp(−s_i) L_i + ½s_i, from s = −0.5: w_i = ½exp(−s_i)
///              (LibMTL's UW, which starts at w = ½e^{0.5} ≈ 0.824).
///   Both have the fixed point s_i = log L_i; "libmtl" takes half the step on s and half the weight.
///   The paper trains s jointly with the network by back-propagation through the same optimizer;
///   the temporal stage cannot see s in this interface, so the stage trains s itself, by plain SGD
///   on the same loss, after using it for this step's weights:  s_i ← s_i − lr·k(1 − exp(−s_i) L_i),
///   k = 1 ("unit") or ½ ("libmtl"). (With Adam on the network the two trajectories differ from the
///   paper's.) Options: lr = 1e-3 (≥ 0; 0 keeps w at its start), form = "unit". Losses should be
///   positive: with L_i ≤ 0, s_i decreases without bound. State {"tasks", "s": [...]}.

#include <string>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

/// The shell: validated losses in, weights from weigh(), d = Jᵀw.
class LossWeighting : public Aggregator {
 public:
  /// Throws std::invalid_argument naming the stage for an empty list or a non-finite loss.
  void observe_losses(const std::vector<real>& losses) final;
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) final;
  bool weighting() const override { return true; }

 protected:
  /// w ← the weights for this step's losses (T = losses.size()); updates the state.
  virtual void weigh(const std::vector<real>& losses, std::vector<real>& w) = 0;

 private:
  std::vector<real> losses_;
  bool fresh_ = false;
};

class DWA : public LossWeighting {
 public:
  explicit DWA(real temperature = 2);
  std::string name() const override { return "dwa"; }
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override { return {{"name", name()}, {"temperature", temperature_}}; }

 private:
  void weigh(const std::vector<real>& losses, std::vector<real>& w) override;
  real temperature_;
  std::size_t T_ = 0;
  std::vector<real> previous_, before_;  // L(t−1), L(t−2)
};

class UncertaintyWeighting : public LossWeighting {
 public:
  enum class Form { unit, libmtl };
  explicit UncertaintyWeighting(real lr = real(1e-3), Form form = Form::unit);
  std::string name() const override { return "uw"; }
  void reset() override { s_.clear(); }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override {
    return {{"name", name()}, {"lr", lr_}, {"form", form_ == Form::unit ? "unit" : "libmtl"}};
  }
  const std::vector<real>& log_variances() const { return s_; }

 private:
  void weigh(const std::vector<real>& losses, std::vector<real>& w) override;
  real lr_;
  Form form_;
  std::vector<real> s_;
};

}  // namespace mtlgrad
