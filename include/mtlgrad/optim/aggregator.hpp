#pragma once
/// @file aggregator.hpp
/// The spatial stage: combines the task Jacobian J (T×P, row i = ∇_{θ_s}(w_i L_i)) of one step
/// into one update direction d ∈ R^P (docs/algorithms.md, "The step pipeline").
///
/// PUBLIC CONTRACT (the trainer and the CLI rely on exactly this):
///   - aggregate(J, rng, out): writes out.direction (1×P) and, for stages that are weightings
///     (d = Jᵀw), out.weights (T values; empty for stages that are not). Stateful stages
///     (the memory family, gradvac, dwa, ...) update their state in this call.
///     rng is the run's seeded generator (pcgrad's random order, graddrop, rlw).
///     out.pair_strength is T×T (λ_ij of the memory stages) or left empty (0×0).
///   - aggregate_with_gramian(J, G, rng, out): the same step when the caller already holds J's
///     Gramian G = J Jᵀ (the trainer computes it for its metrics at every step). The stages that
///     work on G (pcgrad, the memory family, gradvac, the Gramian weightings) take it instead of
///     computing it again, and every stage checks J's finiteness on G's diagonal (O(T)) instead of
///     scanning J: two passes over the T·P values of J saved. Bit-identical to aggregate(J, rng,
///     out) when G was made by gramian() or gramian_unchecked() on this J (the one Gramian kernel).
///   - observe_losses(losses): called by the trainer before aggregate() with the step's task losses
///     (the loss-based weightings use them; the default ignores them).
///   - observe_extra_jacobians(J_a, J_b): called before aggregate(J), only when
///     wants_extra_jacobians(), with the task Jacobians of two more independent mini-batches at the
///     same parameters (stochastic methods such as SDMGrad). A stage that gets none uses J for both.
///   - observe_losses_after_step(losses): called after the temporal stage's step, only when
///     wants_losses_after_step(), with the same mini-batch's task losses at the updated parameters
///     (one extra forward pass, no gradients; FAMO). Wrapper stages forward both calls.
///   - out.head_scale: T factors the trainer multiplies head i's gradient by (empty = all 1), for
///     the stages whose reference back-propagates a weighted or transformed loss through the
///     task heads as well as the shared trunk.
///   - reset(), state(), load_state(): clear, save and restore the state (stateless stages: null).
///   - options(): every option with its value, as JSON ({"name": "pcgrad", "order": "random", ...}).
///   - weighting(), pair_strengths(), metric_names(): what every Aggregation of the stage holds
///     besides d, declared before the first step (metrics.csv's columns).
///   - make_aggregator(spec, path) builds one from {"name": ..., options}; aggregators() lists them.
/// Bad input (P = 0 with T > 0 is fine; J with 0 rows, non-finite entries) throws
/// std::invalid_argument naming the stage and what was wrong.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/registry.hpp"
#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

struct Aggregation {
  Tensor direction;            ///< 1×P
  std::vector<real> weights;   ///< T (d = Σ_i weights[i] g_i), or empty
  Tensor pair_strength;        ///< T×T λ_ij of the memory stages, or 0×0
  /// The stage's own per-step numbers, in the order of Aggregator::metric_names() (an iterative
  /// solver's iterations and residual, ...): extra columns of metrics.csv. Empty for a stage that
  /// declares none.
  std::vector<real> metrics;
  /// True when an iterative solve of this step stopped at its max_iter before meeting its tolerance.
  bool solver_capped = false;
  /// T factors for the task heads' gradients (head i's gradient times head_scale[i]), or empty:
  /// the heads' gradients are left as they are (every stage before the loss-transforming ones).
  std::vector<real> head_scale;
};

class Aggregator {
 public:
  virtual ~Aggregator() = default;
  virtual std::string name() const = 0;
  virtual void aggregate(const Tensor& J, Rng& rng, Aggregation& out) = 0;
  /// aggregate(J, rng, out) with G = J Jᵀ given (see above). G must be T×T (std::invalid_argument
  /// naming the stage otherwise); a non-finite G_ii (J has a non-finite entry, or ‖g_i‖² overflows)
  /// throws the same error aggregate() would.
  void aggregate_with_gramian(const Tensor& J, const Tensor& G, Rng& rng, Aggregation& out);
  virtual void observe_losses(const std::vector<real>& /*losses*/) {}
  /// See the contract above. The defaults ignore the call; the caller makes it only when the
  /// matching wants_*() is true (fixed for the stage's life).
  virtual void observe_extra_jacobians(const Tensor& /*J_a*/, const Tensor& /*J_b*/) {}
  virtual void observe_losses_after_step(const std::vector<real>& /*losses*/) {}
  virtual bool wants_extra_jacobians() const { return false; }
  virtual bool wants_losses_after_step() const { return false; }
  virtual void reset() {}
  virtual nlohmann::json state() const { return nullptr; }
  virtual void load_state(const nlohmann::json& /*state*/) {}
  virtual nlohmann::json options() const = 0;
  /// The names of the stage's per-step metric columns (Aggregation::metrics), fixed for the
  /// stage's life, so that metrics.csv's header is known before the first step.
  virtual std::vector<std::string> metric_names() const { return {}; }
  /// Whether aggregate() fills out.weights (a weighting, d = Jᵀw) and out.pair_strength (T×T λ_ij)
  /// at every step: fixed for the stage's life, like metric_names().
  virtual bool weighting() const { return false; }
  virtual bool pair_strengths() const { return false; }

 protected:
  /// For the stages, at the start of aggregate(): checks J (T ≥ 1 rows, every entry finite) and
  /// returns its Gramian — the caller's during aggregate_with_gramian() (checked on its diagonal,
  /// O(T)), else gramian(J, scratch) after a scan of J. Errors name `stage`.
  const Tensor& checked_gramian(const char* stage, const Tensor& J, Tensor& scratch) const;
  /// The same check for a stage that needs no Gramian (O(T) when the caller gave one).
  void check_input(const char* stage, const Tensor& J) const;

 private:
  const Tensor* given_gramian_ = nullptr;  // set only for the duration of aggregate_with_gramian()
};

/// Every registered spatial stage. A program that links mtlgrad adds its own with
/// aggregators().add({name, summary, schema, factory}) before it runs anything (docs/extending.md).
Registry<Aggregator>& aggregators();
/// aggregators().create(spec, path).
std::unique_ptr<Aggregator> make_aggregator(const nlohmann::json& spec, const std::string& path = "aggregator");

}  // namespace mtlgrad
