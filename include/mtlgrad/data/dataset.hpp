#pragma once
/// @file dataset.hpp
/// A multi-task data set held in memory: one input matrix shared by every task and one target
/// matrix per task, plus the helpers that cut it into parts (row selection, train/test split).
///
///     inputs      N×D
///     targets[t]  N×outputs_t   (regression: real values)
///                 N×1           (classification: the class index 0..classes_t−1 stored as real)
///
/// Class indices are stored as `real` so that every target is a Tensor; they are exact integers in
/// both builds (float holds integers up to 2^24 exactly).

#include <cstddef>
#include <string>
#include <vector>

#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

/// What one task predicts.
struct TaskSpec {
  enum class Kind { regression, classification };
  std::string name;
  Kind kind = Kind::regression;
  /// Regression: the number of outputs (target columns). Classification: the number of classes.
  std::size_t size = 1;

  /// Columns of this task's target matrix: `size` for regression, 1 for classification.
  std::size_t target_cols() const { return kind == Kind::classification ? 1 : size; }
  static TaskSpec regression(std::string name, std::size_t outputs = 1) {
    return {std::move(name), Kind::regression, outputs};
  }
  static TaskSpec classification(std::string name, std::size_t classes) {
    return {std::move(name), Kind::classification, classes};
  }
};

/// "regression" or "classification".
const char* kind_name(TaskSpec::Kind k);

struct MultiTaskData {
  Tensor inputs;                ///< N×D
  std::vector<Tensor> targets;  ///< one per task, N rows each
  std::vector<TaskSpec> tasks;  ///< one per task

  std::size_t size() const { return inputs.shape(0); }
  std::size_t input_dim() const { return inputs.shape(1); }
  std::size_t num_tasks() const { return tasks.size(); }

  /// Throws std::invalid_argument naming `what` and the first inconsistency: a target count that
  /// differs from the task count, a target whose shape is not N×target_cols, a non-finite input or
  /// target, a class label that is not an integer in [0, classes).
  void check(const std::string& what = "data") const;
};

/// A mini-batch: the selected rows of the inputs and of each task's targets.
struct Batch {
  Tensor inputs;
  std::vector<Tensor> targets;
  std::size_t size() const { return inputs.shape(0); }
};

/// Copies the rows `indices` of `data` (in that order) into `batch`. The batch's tensors are
/// resized only when their shape changes, so a loop with a fixed batch size allocates nothing
/// after its first batch. An index out of range throws std::invalid_argument.
void gather(const MultiTaskData& data, const std::vector<std::size_t>& indices, Batch& batch);

/// The rows `indices` of `data` (in that order), with the same tasks. Indices out of range throw.
MultiTaskData take_rows(const MultiTaskData& data, const std::vector<std::size_t>& indices);

struct DataSplit {
  MultiTaskData train;
  MultiTaskData test;
};

/// A random train/test split: a permutation drawn from `rng`; its first `n_test` entries (kept in
/// increasing order) form the test set, the rest (also in increasing order) the training set.
/// Requires n_test <= data.size().
DataSplit split_train_test(const MultiTaskData& data, std::size_t n_test, Rng& rng);

}  // namespace mtlgrad
