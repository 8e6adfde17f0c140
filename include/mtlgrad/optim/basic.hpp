#pragma once
/// @file basic.hpp
/// The baselines of docs/algorithms.md: fixed linear combinations of the task gradients.
///
///   sum       d = Σ_i g_i            w_i = 1
///   mean      d = (1/T) Σ_i g_i      w_i = 1/T
///   weighted  d = Σ_i c_i g_i        w_i = c_i (option "weights", one per task; its length must
///                                    equal T at aggregate time)
///
/// Stateless weightings: d = Jᵀw with one combine().

#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

class FixedWeighting : public Aggregator {
 public:
  enum class Kind { sum, mean, weighted };
  /// `weights` is used by Kind::weighted only (non-empty).
  explicit FixedWeighting(Kind kind, std::vector<real> weights = {});
  std::string name() const override;
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  nlohmann::json options() const override;

 private:
  Kind kind_;
  std::vector<real> weights_;
};

}  // namespace mtlgrad
