#pragma once
/// @file shared_trunk.hpp
/// The short way to a multi-task model of one's own: a trunk Module, one head Module per task, a
/// data set and (optionally) a loss per task make a MultiTaskModel that the Trainer, `mtlgrad run`
/// and the registry take as it is (hard parameter sharing, Caruana 1997):
///
///     x ─► trunk ─► z ─► head_i ─► ŷ_i ─► loss_i(ŷ_i, target_i) = L_i
///
///     auto trunk = mtlgrad::mlp({16, 32}, "relu", rng, /*activate_last=*/true);
///     std::vector<std::unique_ptr<mtlgrad::Module>> heads;
///     heads.push_back(mtlgrad::mlp({32, 1}, "relu", rng));
///     heads.push_back(mtlgrad::mlp({32, 3}, "relu", rng));
///     mtlgrad::SharedTrunkModel model("mine", std::move(trunk), std::move(heads), data, 32, rng.split());
///
/// Shared parameters are "trunk.<k>.weight|bias", task i's "head<i>.<k>.weight|bias". Without
/// explicit losses, task i's is the data's: cross-entropy for a classification task (class labels
/// in its target column), the mean squared error for a regression task. evaluate() reports the
/// held-out losses and, for classification tasks, the accuracy (argmax of ŷ_i).
/// evaluate() and training_losses() forward the whole set in chunks of eval_chunk_rows() rows (1024
/// by default), one tape per chunk, so their memory is bounded by a chunk, not the set. With the
/// default losses the per-example losses are summed in row order across the chunks and divided once,
/// the same arithmetic as one pass over the set, so the numbers equal one pass's bit for bit where
/// the GEMMs give each row the same bits whatever the number of rows (this OpenBLAS does in double;
/// in float its one-row products take another kernel, so chunks of 1 row differ in the last bits:
/// tests/models/test_shared_trunk_chunks.cpp). A loss given in `losses` is a
/// black box returning a mean: its full-set value is Σ_chunks rows·loss(chunk) / n, equal to one
/// pass's up to rounding only.
/// Batches of `batch_size` rows in an order drawn from `data_rng`, epoch after epoch.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mtlgrad/data/dataset.hpp"
#include "mtlgrad/data/sampler.hpp"
#include "mtlgrad/mtl/model.hpp"
#include "mtlgrad/nn/module.hpp"

namespace mtlgrad {

/// A task's loss: the head's output ŷ (B×k) and the batch's target rows of the task (B×cols) → 1×1.
using TaskLoss = std::function<Var(Tape& tape, Var output, const Tensor& target)>;
/// mse(ŷ, target).
TaskLoss mse_loss();
/// cross_entropy(ŷ, labels), the labels being the target's one column.
TaskLoss cross_entropy_loss();

class SharedTrunkModel : public MultiTaskModel {
 public:
  /// A trunk and its heads, built together (when their initialisation order matters).
  struct Parts {
    std::unique_ptr<Module> trunk;
    std::vector<std::unique_ptr<Module>> heads;
  };

  /// `data` must outlive the model; heads.size() must equal the data's task count, and `losses`
  /// is empty (each task's default, above) or one per task (std::invalid_argument otherwise).
  SharedTrunkModel(std::string name, std::unique_ptr<Module> trunk, std::vector<std::unique_ptr<Module>> heads,
                   const DataSplit& data, std::size_t batch_size, Rng data_rng, std::vector<TaskLoss> losses = {});
  SharedTrunkModel(std::string name, Parts parts, const DataSplit& data, std::size_t batch_size, Rng data_rng,
                   std::vector<TaskLoss> losses = {})
      : SharedTrunkModel(std::move(name), std::move(parts.trunk), std::move(parts.heads), data, batch_size, data_rng,
                         std::move(losses)) {}

  std::size_t num_tasks() const override { return train_.tasks.size(); }
  std::vector<std::string> task_names() const override;
  std::vector<NamedParameter> shared_parameters() override { return trunk_->named_parameters("trunk."); }
  std::vector<NamedParameter> head_parameters(std::size_t task) override;
  void forward(Tape& tape, std::vector<Var>& losses) override;
  Var representation() const override { return z_; }
  bool next_batch() override;
  std::size_t batches_per_epoch() const override { return sampler_.batches_per_epoch(); }
  nlohmann::json evaluate() override;
  bool training_losses(std::vector<real>& losses) override;
  nlohmann::json data_state() const override { return state_before_batch_; }
  void load_data_state(const nlohmann::json& state) override;
  /// Rows per chunk of the full-set evaluation (std::invalid_argument for 0).
  void set_eval_chunk_rows(std::size_t rows);
  std::size_t eval_chunk_rows() const { return eval_chunk_rows_; }
  /// "<name>: trunk <trunk>, head0 <head 0>, ..."
  std::string describe() const override;

  /// The losses of `batch` recorded on `tape` (forward() on the current batch uses it).
  void losses_of(Tape& tape, const Batch& batch, std::vector<Var>& losses, std::vector<Var>* outputs = nullptr,
                 Var* representation = nullptr);

 private:
  void draw_batch();
  /// Losses of every row of `data` (and, when `right` is given, the count of correct argmax
  /// predictions per classification task), chunk by chunk.
  void full_pass(const MultiTaskData& data, std::vector<real>& losses, std::vector<std::size_t>* right);

  std::string name_;
  const MultiTaskData& train_;
  const MultiTaskData& test_;
  std::unique_ptr<Module> trunk_;
  std::vector<std::unique_ptr<Module>> heads_;
  std::vector<TaskLoss> losses_;
  BatchSampler sampler_;
  nlohmann::json state_before_batch_;
  Batch batch_;
  std::vector<std::size_t> labels_;  // the default cross-entropy's labels, reused batch after batch
  Var z_;  ///< the trunk's output in the last forward()
  std::size_t eval_chunk_rows_ = 1024;
};

}  // namespace mtlgrad
