#pragma once
/// @file aggregator.hpp
/// The spatial stage: combines the task Jacobian J (T×P, row i = ∇_{θ_s}(w_i L_i)) of one step
/// into one update direction d ∈ R^P (ALGORITHMS.md §2–3).
///
/// PUBLIC CONTRACT (the trainer and the CLI rely on exactly this):
///   - aggregate(J, rng, out): writes out.direction (1×P) and, for stages that are weightings
///     (d = Jᵀw), out.weights (T values; empty for stages that are not). Stateful stages
///     (the memory family, gradvac, dwa, ...) update their state in this call.
///     rng is the run's seeded generator (pcgrad's random order, graddrop, rlw).
///     out.pair_strength is T×T (λ_ij of the memory stages) or left empty (0×0).
///   - observe_losses(losses): called by the trainer before aggregate() with the step's task losses
///     (the loss-based weightings use them; the default ignores them).
///   - reset(), state(), load_state(): clear, save and restore the state (stateless stages: null).
///   - options(): every option with its value, as JSON ({"name": "pcgrad", "order": "random", ...}).
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
};

class Aggregator {
 public:
  virtual ~Aggregator() = default;
  virtual std::string name() const = 0;
  virtual void aggregate(const Tensor& J, Rng& rng, Aggregation& out) = 0;
  virtual void observe_losses(const std::vector<real>& /*losses*/) {}
  virtual void reset() {}
  virtual nlohmann::json state() const { return nullptr; }
  virtual void load_state(const nlohmann::json& /*state*/) {}
  virtual nlohmann::json options() const = 0;
};

/// Every registered spatial stage.
const Registry<Aggregator>& aggregators();
/// aggregators().create(spec, path).
std::unique_ptr<Aggregator> make_aggregator(const nlohmann::json& spec, const std::string& path = "aggregator");

}  // namespace mtlgrad
