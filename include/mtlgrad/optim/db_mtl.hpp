#pragma once
/// @file db_mtl.hpp
/// db-mtl — dual-balancing multi-task learning, "Dual-Balancing for Multi-Task Learning" (Lin et
/// al. 2023, arXiv 2308.12029). Two balances: the losses by their logarithm (every task's
/// gradient becomes that of ln L_i, so a task's scale no longer matters) and the gradients by
/// their norm (every task's buffered gradient is scaled up to the largest one's norm). Per step
/// t = 1, 2, …
/// \f[ \hat g_i = \frac{g_i}{L_i + 10^{-8}}, \qquad b_i \leftarrow \hat g_i + β_t (b_i − \hat g_i),
///     \quad β_t = β / t^{σ}, \qquad d = \sum_i \frac{\max_j \|b_j\|}{\|b_i\| + 10^{-8}}\, b_i. \f]
/// As the authors' code (LibMTL DB_MTL.py): no bias correction (b = (1 − β) ĝ after the first
/// step) and the absolute 1e-8 guards (so the stage is not exactly invariant to the scale of J:
/// buffers with norms near 1e-8 are damped). All b = 0 gives d = 0.
///
/// Not a weighting: d combines the buffers, not this step's rows. Options beta = 0.9 (β ∈ [0, 1]),
/// beta_sigma = 0 (σ ≥ 0). Needs this step's losses (observe_losses(), every L_i > 0; errors name
/// "db-mtl"). State {"t", "b"} (b: T×P). out.head_scale_i = 1/(L_i + 1e-8): the reference
/// back-propagates ln(L_i + 1e-8) through the task heads as well.

#include <cstdint>

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/stage_losses.hpp"

namespace mtlgrad {

class DBMTL : public Aggregator {
 public:
  explicit DBMTL(real beta = real(0.9), real beta_sigma = 0);
  std::string name() const override { return "db-mtl"; }
  void observe_losses(const std::vector<real>& losses) override { losses_.observe(losses); }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override { return {{"name", name()}, {"beta", beta_}, {"beta_sigma", sigma_}}; }

 private:
  real beta_, sigma_;
  StageLosses losses_{"db-mtl", true};
  std::uint64_t t_ = 0;
  Tensor b_;
};

}  // namespace mtlgrad
