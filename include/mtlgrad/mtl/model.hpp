#pragma once
/// @file model.hpp
/// What the trainer needs from a multi-task model. The framework knows no concrete model; they
/// live in models/ and register themselves in models/registry.cpp.
///
/// A model has shared parameters θ_s (the trunk) and per-task parameters θ_1..θ_T (the heads;
/// possibly none, as in the 2-D toy). forward() records one forward pass on the CURRENT training
/// batch and returns the T task losses; next_batch() moves to the next one. Calling forward()
/// twice without next_batch() evaluates the same batch (the trainer's look-ahead and TAG need it).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/data/dataset.hpp"
#include "mtlgrad/nn/module.hpp"

namespace mtlgrad {

class MultiTaskModel {
 public:
  virtual ~MultiTaskModel() = default;
  virtual std::size_t num_tasks() const = 0;
  /// Names of the tasks, for metrics columns ("f1", "f2" for the toy).
  virtual std::vector<std::string> task_names() const;
  /// θ_s, in the order that defines the column layout of J (each flattened row-major).
  virtual std::vector<NamedParameter> shared_parameters() = 0;
  /// θ_i, task i's own parameters (empty for a model without heads).
  virtual std::vector<NamedParameter> head_parameters(std::size_t task) = 0;
  /// Records the forward pass on the current batch; writes the T losses (each 1×1).
  virtual void forward(Tape& tape, std::vector<Var>& losses) = 0;
  /// The shared representation of the last forward() (the trunk's output Z, B×h), for the
  /// trainer's granularity "representation" (MGDA-UB, LibMTL's rep_grad); an invalid Var (the
  /// default) when the model has none.
  virtual Var representation() const { return Var(); }
  /// Advances to the next training batch; returns true when that starts a new epoch.
  virtual bool next_batch() { return false; }
  /// Batches in one epoch (1 for a model without data).
  virtual std::size_t batches_per_epoch() const { return 1; }
  /// The task losses on the WHOLE training set at the current parameters (for summary.json's
  /// "final_losses"); false for a model without data, whose forward() already is the objective.
  virtual bool training_losses(std::vector<real>& /*losses*/) { return false; }
  /// Held-out metrics: {"loss": [T], "accuracy": [T] (classification tasks; null otherwise)}, or
  /// an empty object for a model without held-out data.
  virtual nlohmann::json evaluate() { return nlohmann::json::object(); }
  /// The data order (sampler position and its Rng), for checkpoints.
  virtual nlohmann::json data_state() const { return nullptr; }
  virtual void load_data_state(const nlohmann::json& /*state*/) {}
  /// One line: "toy2d: CAGrad's two-objective toy, x = (x1, x2)".
  virtual std::string describe() const = 0;

  /// Every parameter: shared first, then task 0's head, task 1's head, ...
  std::vector<NamedParameter> all_parameters();
};

/// What a model factory gets besides its own "model" section.
struct ModelContext {
  Rng init_rng;                 ///< initialises the parameters
  Rng data_rng;                 ///< orders the mini-batches
  const DataSplit* data = nullptr;  ///< the config's "data" section, built; nullptr without one
  std::size_t batch_size = 32;  ///< the config's "batch_size"
};

/// A registered model: its factory takes the "model" section of a config, its key path for
/// messages, and the context (Rngs, data).
struct ModelEntry {
  std::string name;
  std::string summary;
  nlohmann::json defaults;        ///< the model's options with their defaults
  std::string default_config;     ///< path of its default experiment config, relative to the source tree
  bool needs_data = false;        ///< the config must have a "data" section
  std::function<std::unique_ptr<MultiTaskModel>(const nlohmann::json& spec, const std::string& path, ModelContext& ctx)> make;
};

/// Every registered model (defined by the models layer).
const std::vector<ModelEntry>& model_registry();
/// Builds the model named by spec["name"]; an unknown name lists what exists.
/// A model with data without a "data" section (or the reverse) is a ConfigError.
std::unique_ptr<MultiTaskModel> make_model(const nlohmann::json& spec, const std::string& path, ModelContext& ctx);

}  // namespace mtlgrad
