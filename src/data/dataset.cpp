#include "mtlgrad/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mtlgrad {

const char* kind_name(TaskSpec::Kind k) {
  return k == TaskSpec::Kind::classification ? "classification" : "regression";
}

void MultiTaskData::check(const std::string& what) const {
  const std::size_t n = size();
  if (targets.size() != tasks.size())
    throw std::invalid_argument(what + ": " + std::to_string(targets.size()) + " target matrices for " +
                                std::to_string(tasks.size()) + " tasks");
  if (!all_finite(inputs)) throw std::invalid_argument(what + ": inputs contain NaN or infinity");
  for (std::size_t t = 0; t < tasks.size(); ++t) {
    const TaskSpec& task = tasks[t];
    const std::string where = what + ": task " + std::to_string(t) + " '" + task.name + "'";
    if (task.size == 0)
      throw std::invalid_argument(where + ": " + kind_name(task.kind) + " task with size 0 (expected >= 1)");
    check_shape(where.c_str(), targets[t], Shape{n, task.target_cols()});
    if (!all_finite(targets[t])) throw std::invalid_argument(where + ": targets contain NaN or infinity");
    if (task.kind != TaskSpec::Kind::classification) continue;
    for (std::size_t i = 0; i < n; ++i) {
      const real y = targets[t](i, 0);
      if (y < 0 || y >= real(task.size) || y != std::floor(y))
        throw std::invalid_argument(where + ": label " + std::to_string(double(y)) + " at row " +
                                    std::to_string(i) + " is not a class in [0, " +
                                    std::to_string(task.size) + ")");
    }
  }
}

namespace {

// Copies row `from` of src into row `to` of dst (same column count).
void copy_row(const Tensor& src, std::size_t from, Tensor& dst, std::size_t to) {
  const std::size_t cols = src.shape(1);
  std::copy_n(src.data() + from * cols, cols, dst.data() + to * cols);
}

}  // namespace

void gather(const MultiTaskData& data, const std::vector<std::size_t>& indices, Batch& batch) {
  const std::size_t b = indices.size();
  if (batch.inputs.shape() != Shape{b, data.input_dim()}) batch.inputs.resize(Shape{b, data.input_dim()});
  batch.targets.resize(data.targets.size());
  for (std::size_t t = 0; t < data.targets.size(); ++t)
    if (batch.targets[t].shape() != Shape{b, data.targets[t].shape(1)})
      batch.targets[t].resize(Shape{b, data.targets[t].shape(1)});
  for (std::size_t r = 0; r < b; ++r) {
    if (indices[r] >= data.size())
      throw std::invalid_argument("gather: index " + std::to_string(indices[r]) + " out of range for " +
                                  std::to_string(data.size()) + " rows");
    copy_row(data.inputs, indices[r], batch.inputs, r);
    for (std::size_t t = 0; t < data.targets.size(); ++t) copy_row(data.targets[t], indices[r], batch.targets[t], r);
  }
}

MultiTaskData take_rows(const MultiTaskData& data, const std::vector<std::size_t>& indices) {
  Batch b;
  gather(data, indices, b);
  return {std::move(b.inputs), std::move(b.targets), data.tasks};
}

DataSplit split_train_test(const MultiTaskData& data, std::size_t n_test, Rng& rng) {
  if (n_test > data.size())
    throw std::invalid_argument("split_train_test: n_test = " + std::to_string(n_test) + " exceeds the " +
                                std::to_string(data.size()) + " rows");
  std::vector<std::size_t> perm = rng.permutation(data.size());
  std::vector<std::size_t> test(perm.begin(), perm.begin() + std::ptrdiff_t(n_test));
  std::vector<std::size_t> train(perm.begin() + std::ptrdiff_t(n_test), perm.end());
  std::sort(test.begin(), test.end());
  std::sort(train.begin(), train.end());
  return {take_rows(data, train), take_rows(data, test)};
}

}  // namespace mtlgrad
