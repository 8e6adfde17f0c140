#pragma once
/// @file model.hpp
/// What the trainer needs from a multi-task model. The trainer's layer knows no concrete model and
/// no data set: the models layer (include/mtlgrad/models/) defines them and their registry.
///
/// A model has shared parameters θ_s (the trunk) and per-task parameters θ_1..θ_T (the heads;
/// possibly none, as in the 2-D toy). forward() records one forward pass on the CURRENT training
/// batch and returns the T task losses; next_batch() moves to the next one. Calling forward()
/// twice without next_batch() evaluates the same batch (the trainer's look-ahead and TAG need it).

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

}  // namespace mtlgrad
