#pragma once
/// @file trainer.hpp
/// One multi-task training step (ALGORITHMS.md §1):
///
///     [nag: evaluate at θ̃ = optimizer.lookahead(θ)]
///     forward once → L_1..L_T → per-task backward → J (T×P) + head gradients
///     spatial stage   d = A(J)                      (aggregator; may keep state)
///     temporal stage  θ ← step(θ, [d, head grads])  (optimizer)
///     metrics         losses, ‖g_i‖, cos_ij, conflicts, weights, ‖d‖, time per phase
///
/// The trainer owns the tape, J and every buffer, and reuses them from step to step. All
/// randomness comes from the Rng it is given (pcgrad's order, graddrop, ...), so the same model,
/// stages, options and seed give bit-identical results.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/mtl/task_gradients.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/optimizer.hpp"

namespace mtlgrad {

enum class NonFinitePolicy { error, skip };

struct TrainerOptions {
  std::vector<real> task_weights;      ///< w_i; empty means all 1
  GradientScope scope = GradientScope::shared;
  NonFinitePolicy nonfinite = NonFinitePolicy::error;
};

/// What one step did. cos is T×T (cos_ij of the ORIGINAL task gradients, 0 when a norm is 0).
struct StepRecord {
  std::size_t step = 0;                 ///< 1-based: the step just taken
  bool skipped = false;                 ///< a non-finite loss/gradient under policy "skip"
  std::vector<real> losses;             ///< L_i (unweighted)
  std::vector<real> grad_norms;         ///< ‖g_i‖
  Tensor cos;                           ///< T×T
  std::size_t conflicts = 0;            ///< pairs i < j with g_i·g_j < 0
  std::vector<real> weights;            ///< the spatial stage's weights (empty if not a weighting)
  Tensor pair_strength;                 ///< λ_ij of the memory stages (0×0 otherwise)
  real direction_norm = 0;              ///< ‖d‖
  double seconds_forward = 0, seconds_backward = 0, seconds_spatial = 0, seconds_temporal = 0;
};

/// Thrown under policy "error" when a loss or gradient is not finite; says the step, the task and
/// (for a gradient) the parameter.
struct NonFiniteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Trainer {
 public:
  Trainer(MultiTaskModel& model, std::unique_ptr<Aggregator> aggregator, std::unique_ptr<Optimizer> optimizer,
          TrainerOptions options, Rng rng);

  /// One step of the pipeline on the model's current batch (the caller advances batches).
  const StepRecord& step();
  /// Called after every step with its record.
  void on_step(std::function<void(const StepRecord&)> callback) { callbacks_.push_back(std::move(callback)); }

  std::size_t steps() const { return step_; }
  std::size_t skipped_steps() const { return skipped_; }
  MultiTaskModel& model() { return model_; }
  Aggregator& aggregator() { return *aggregator_; }
  Optimizer& optimizer() { return *optimizer_; }
  const TaskGradients& task_gradients() const { return grads_; }
  const ParameterLayout& layout() const { return layout_; }
  Rng& rng() { return rng_; }
  const TrainerOptions& options() const { return options_; }

  /// Everything a resumed run needs: parameters, both stages' state, the Rng, the step counters
  /// and the model's data order.
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  void check_finite();
  static real blas_norm2(const Tensor& t);
  void compute_pair_metrics();

  MultiTaskModel& model_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<Optimizer> optimizer_;
  TrainerOptions options_;
  Rng rng_;
  ParameterLayout layout_;
  std::vector<real> weights_;
  Tape tape_;
  std::vector<Var> losses_;
  TaskGradients grads_;
  Aggregation agg_;
  Tensor gramian_;
  std::vector<Tensor*> params_;
  std::vector<const Tensor*> grad_ptrs_;
  std::vector<Tensor> flat_grads_;          ///< d (and, scope all, head parts) reshaped per parameter
  std::vector<Tensor> lookahead_, saved_values_;
  StepRecord record_;
  std::size_t step_ = 0, skipped_ = 0;
  std::vector<std::function<void(const StepRecord&)>> callbacks_;
};

}  // namespace mtlgrad
