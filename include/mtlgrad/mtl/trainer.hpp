#pragma once
/// @file trainer.hpp
/// One multi-task training step (docs/algorithms.md, "The step pipeline"):
///
///     [nag: evaluate at θ̃ = optimizer.lookahead(θ)]
///     forward once → L_1..L_T → per-task backward → J (T×P) + head gradients
///     spatial stage   d = A(J)                      (aggregator; may keep state; one that
///                     wants_extra_jacobians() also gets the J of the sampler's next two batches,
///                     the data order then put back)
///     temporal stage  θ ← step(θ, [d, head grads])  (optimizer; head i's times head_scale[i])
///     [a stage that wants_losses_after_step(): forward again at θ, no gradients → its L′]
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

/// What the spatial stage aggregates (issue #7; LibMTL and TorchJD offer the same choice):
///  - whole: the whole shared vector, one aggregation per step (default);
///  - per_layer: one aggregation per parameter group — the parameters whose names share the prefix
///    before the last '.' ("trunk.0.weight" and "trunk.0.bias" form "trunk.0") — each group with
///    its own stage instance and state (GradVac's and TorchJD's grouping);
///  - representation: the gradients with respect to the model's shared representation Z
///    (MGDA-UB, Sener & Koltun 2018; LibMTL's rep_grad): J is T×(B·h), much cheaper, and the
///    aggregated direction goes back through the trunk in one backward. Needs a model with a
///    representation (hps_mlp) and scope "shared". Metrics (‖g_i‖, cos_ij) are then on Z.
enum class Granularity { whole, per_layer, representation };
Granularity parse_granularity(const std::string& s, const std::string& path);
std::string to_string(Granularity g);

struct TrainerOptions {
  std::vector<real> task_weights;      ///< w_i; empty means all 1
  GradientScope scope = GradientScope::shared;
  NonFinitePolicy nonfinite = NonFinitePolicy::error;
  Granularity granularity = Granularity::whole;
};

/// What one step did. cos is T×T (cos_ij of the ORIGINAL task gradients, 0 when a norm is 0).
/// On a skipped step the spatial stage's outputs (weights, pair_strength, direction_norm,
/// stage_metrics) are NaN or empty: the step's aggregation was discarded.
struct StepRecord {
  std::size_t step = 0;                 ///< 1-based: the step just taken
  bool skipped = false;                 ///< a non-finite value under policy "skip" (see NonFiniteError)
  std::vector<real> losses;             ///< L_i (unweighted)
  std::vector<real> grad_norms;         ///< ‖g_i‖
  Tensor cos;                           ///< T×T
  std::size_t conflicts = 0;            ///< pairs i < j with g_i·g_j < 0
  std::vector<real> weights;            ///< the spatial stage's weights (empty if not a weighting, or per_layer)
  Tensor pair_strength;                 ///< λ_ij of the memory stages (0×0 otherwise)
  real direction_norm = 0;              ///< ‖d‖
  std::vector<real> stage_metrics;      ///< in the order of Trainer::stage_metric_names()
  bool solver_capped = false;           ///< a solver of the spatial stage stopped at its max_iter
  double seconds_forward = 0, seconds_backward = 0, seconds_spatial = 0, seconds_temporal = 0;
};

/// Thrown under policy "error" when a value of the step is not finite: a loss or gradient (the
/// message names the task and, for a gradient, the parameter), the spatial stage's direction d
/// (names the stage), or the temporal stage's step or the new parameters θ' (names the optimizer
/// and the parameter). what() is the one-line message, "step N: ...".
struct NonFiniteError : std::runtime_error {
  NonFiniteError(std::size_t step, std::string source, const std::string& message)
      : std::runtime_error("step " + std::to_string(step) + ": " + message), step(step), source(std::move(source)) {}
  std::size_t step;    ///< 1-based
  std::string source;  ///< what produced it: "task <name>", "aggregator <name>" or "optimizer <name>"
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
  /// Steps at which a solver of the spatial stage stopped at its max_iter (StepRecord::solver_capped).
  std::size_t solver_capped_steps() const { return solver_capped_; }
  /// What every StepRecord carries, known before the first step (metrics.csv's header): whether
  /// it has the stage's weights (a weighting, and granularity not per_layer), its λ_ij (a memory
  /// stage, not per_layer), and the names of stage_metrics (the stage's metric_names(); per_layer:
  /// each group's, as "<group>.<name>").
  bool records_weights() const;
  bool records_pair_strength() const;
  std::vector<std::string> stage_metric_names() const;
  MultiTaskModel& model() { return model_; }
  Aggregator& aggregator() { return *aggregators_.front(); }
  Optimizer& optimizer() { return *optimizer_; }
  const TaskGradients& task_gradients() const { return grads_; }
  /// The last step's spatial-stage output (its direction d, 1×P) and J's Gramian G = J Jᵀ, for the
  /// run's observers (certificates, the gradient record): valid until the next step.
  const Aggregation& aggregation() const { return agg_; }
  const Tensor& gramian() const { return gramian_; }
  const ParameterLayout& layout() const { return layout_; }
  Rng& rng() { return rng_; }
  const TrainerOptions& options() const { return options_; }

  /// The parameter groups of granularity per_layer (empty otherwise): name and columns of J.
  std::vector<std::string> group_names() const {
    std::vector<std::string> n;
    for (const auto& g : groups_) n.push_back(g.name);
    return n;
  }

  /// Everything a resumed run needs: parameters, both stages' state, the Rng, the step counters
  /// and the model's data order.
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state);

 private:
  void check_finite();
  void aggregate();
  void extra_jacobians();
  void losses_after_step();
  bool direction_finite(std::string& problem) const;
  bool params_finite(std::string& problem) const;
  void skip_step();
  void restore_after_lookahead();
  nlohmann::json aggregator_state() const;
  void aggregator_load_state(const nlohmann::json& state);
  static real blas_norm2(const Tensor& t);
  void compute_pair_metrics();

  MultiTaskModel& model_;
  std::vector<std::unique_ptr<Aggregator>> aggregators_;  ///< one, or one per group (per_layer)
  struct Group {
    std::string name;
    std::size_t begin, end;  ///< columns of J
  };
  std::vector<Group> groups_;
  Tensor group_J_;
  // The stages that want more than this batch's J and losses (aggregator.hpp): the extra forward
  // passes' tape and losses, two more batches' gradients, the losses after the step.
  Tape extra_tape_;
  std::vector<Var> extra_losses_;
  TaskGradients extra_grads_[2];
  Tensor group_extra_[2];
  std::vector<real> after_losses_;
  Aggregation group_agg_;
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
  std::vector<Tensor> rep_grads_;           ///< granularity representation: ∇θ_s of ⟨d, Z⟩
  StepRecord record_;
  std::size_t step_ = 0, skipped_ = 0, solver_capped_ = 0;
  // Policy "skip": the state before the spatial and temporal stages, restored when d, the step or
  // θ' is not finite (so that a skipped step changes nothing).
  nlohmann::json saved_aggregator_, saved_optimizer_;
  Rng saved_rng_;
  std::vector<Tensor> saved_params_;
  bool at_lookahead_ = false;  ///< the parameters hold θ̃ (nag) until the step restores θ
  std::vector<std::function<void(const StepRecord&)>> callbacks_;
};

}  // namespace mtlgrad
