#pragma once
/// @file stch.hpp
/// stch — smooth Tchebycheff scalarisation, "Smooth Tchebycheff Scalarization for Multi-Objective
/// Optimization" (Lin et al., ICML 2024, arXiv 2402.19078). The tasks are trained on a smooth
/// maximum of their log-losses relative to a nadir point n (the losses of early training):
/// \f[ ℒ = T μ \ln \sum_i \exp(ℓ_i / μ), \quad ℓ_i = \ln(L_i / n_i + 10^{-20}), \f]
/// whose gradient is d = Jᵀw with
/// \f[ p = \mathrm{softmax}(ℓ / μ), \qquad w_i = \frac{T p_i}{L_i + 10^{-20} n_i}. \f]
/// μ → 0 is the Tchebycheff (worst-task) scalarisation, μ → ∞ the sum of the ℓ_i. The reference is
/// the authors' code (Xi-L/STCH, STCH_MTL/LibMTL/weighting/STCH.py, the same as LibMTL's):
///   - steps t ≤ warmup_steps, and the next nadir_steps steps when no nadir is given, train on
///     Σ_i ln(L_i + 10^{-20}): w_i = 1 / (L_i + 10^{-20});
///   - the nadir is the mean of the losses of those nadir_steps steps (fixed once formed), or the
///     option nadir.
/// The authors count warmup and nadir in epochs (4 and 1): warmup_steps = 4 × steps per epoch and
/// nadir_steps = steps per epoch reproduce them.
///
/// Options: mu = 1 (> 0), warmup_steps = 0, nadir_steps = 1 (≥ 1), nadir = [] (T positive numbers,
/// or [] to measure it). Needs this step's losses (observe_losses(), every L_i > 0; errors name
/// "stch"). State {"t", "tasks", "sum", "nadir"} (sum: the running sum of the nadir steps' losses;
/// each [] until used). out.weights = w and out.head_scale = w (the reference back-propagates ℒ
/// through the task heads as well).

#include <cstdint>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/stage_losses.hpp"

namespace mtlgrad {

class STCH : public Aggregator {
 public:
  explicit STCH(real mu = 1, std::uint64_t warmup_steps = 0, std::uint64_t nadir_steps = 1,
                std::vector<real> nadir = {});
  std::string name() const override { return "stch"; }
  void observe_losses(const std::vector<real>& losses) override { losses_.observe(losses); }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override;

 private:
  real mu_;
  std::uint64_t warmup_, nadir_steps_;
  std::vector<real> given_nadir_;
  StageLosses losses_{"stch", true};
  std::uint64_t t_ = 0;
  std::size_t T_ = 0;
  std::vector<real> sum_, nadir_;
};

}  // namespace mtlgrad
