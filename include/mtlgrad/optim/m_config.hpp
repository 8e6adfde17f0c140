#pragma once
/// @file m_config.hpp
/// m-config — momentum ConFIG, the same paper as config.hpp (Liu, Chu & Thuerey, ICLR 2025, arXiv
/// 2408.11104, Algorithm 2): ConFIG on bias-corrected per-task first moments, then an Adam-like
/// division by the second moment of a "pseudo gradient" q — the gradient that would have moved a
/// momentum from its last value to the current ConFIG direction. Per call k = 1, 2, …
///
///     rows used: "all": every row; "cycle": row (k − 1) mod T (one task's gradient per step)
///     for each used row:  n_i += 1;  m_i = β₁ m_i + (1 − β₁) g_i
///     while some n_i = 0: d = 0
///     t += 1;  m̂_i = m_i / (1 − β₁^{n_i});  g_c = config({m̂_i}, p = 1)
///     f′ = g_c (1 − β₁^t);  q = (f′ − β₁ f)/(1 − β₁);  f = f′
///     s = β₂ s + (1 − β₂) q²;  ŝ = s/(1 − β₂^t);  d = g_c / (√ŝ + 10⁻⁸)     (elementwise)
///
/// The reference is the authors' package (tum-pbs/ConFIG, conflictfree.momentum_operator
/// .PseudoMomentumOperator around the ConFIGOperator); "cycle" is the package's example of one
/// task per step (here the trainer still computes every row; only row (k − 1) mod T is used).
/// The division makes m-config an optimizer itself: pair it with plain sgd (the authors warn
/// against Adam on top).
///
/// Not a weighting (d is not Jᵀw for this step's J). Options betas = [0.9, 0.999] (each in
/// [0, 1)), rows = "all" | "cycle". State {"t", "n", "m", "f", "s"}: O(T·P). out.head_scale is left
/// empty: the task heads get their own gradients (the package's scope "shared"); the package's
/// whole-network mode would pass the heads through the same momentum, which a per-head scale
/// cannot express.

#include <cstdint>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

class MomentumConFIG : public Aggregator {
 public:
  enum class Rows { all, cycle };
  explicit MomentumConFIG(real beta1 = real(0.9), real beta2 = real(0.999), Rows rows = Rows::all);
  std::string name() const override { return "m-config"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override;

 private:
  real beta1_, beta2_;
  Rows rows_;
  std::uint64_t t_ = 0;
  std::vector<std::uint64_t> n_;
  Tensor m_, mhat_, f_, s_, G_;
  std::vector<real> lambda_;
};

}  // namespace mtlgrad
