#pragma once
/// @file hps_mlp.hpp
/// Hard parameter sharing (Caruana 1997; Ruder 2017, "An Overview of Multi-Task Learning in Deep
/// Neural Networks"): a shared MLP trunk and one MLP head per task.
///
///     x ─► trunk (Linear, act, …, Linear, act) ─► z ─► head_i (Linear, act, …, Linear) ─► ŷ_i ─► L_i
///
/// Task i's loss is cross-entropy for a classification task (labels in its target column) and the
/// mean squared error for a regression task. Shared parameters are "trunk.<k>.weight|bias"; task
/// i's are "head<i>.<k>.weight|bias".
///
/// Options: "trunk" (hidden sizes, default [64, 64]), "head" (hidden sizes of each head, default
/// [] — one Linear), "activation" ("relu" | "tanh" | "sigmoid" | "leaky_relu", default "relu").
/// The data come from the config's "data" section; batches of "batch_size" in a seeded order.

#include <memory>

#include "mtlgrad/data/dataset.hpp"
#include "mtlgrad/data/sampler.hpp"
#include "mtlgrad/mtl/model.hpp"

namespace mtlgrad::models {

struct HpsMlpOptions {
  std::vector<std::size_t> trunk = {64, 64};
  std::vector<std::size_t> head = {};
  std::string activation = "relu";
};

class HpsMlp : public MultiTaskModel {
 public:
  HpsMlp(const HpsMlpOptions& options, const DataSplit& data, std::size_t batch_size, Rng init_rng, Rng data_rng);

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
  std::string describe() const override;

  /// The losses of `batch` recorded on `tape` (forward() on the current batch uses it).
  void losses_of(Tape& tape, const Batch& batch, std::vector<Var>& losses, std::vector<Var>* outputs = nullptr,
                 Var* representation = nullptr);

 private:
  void draw_batch();
  /// Losses (and, for classification, outputs) of every row of `data`, in one forward pass.
  void full_pass(const MultiTaskData& data, std::vector<real>& losses, std::vector<Tensor>* outputs, Batch& all);

  const MultiTaskData& train_;
  const MultiTaskData& test_;
  std::unique_ptr<Sequential> trunk_;
  std::vector<std::unique_ptr<Sequential>> heads_;
  BatchSampler sampler_;
  nlohmann::json state_before_batch_;
  Batch batch_;
  std::vector<std::size_t> labels_;
  Var z_;  ///< the trunk's output in the last forward()
};

ModelEntry hps_mlp_entry();

}  // namespace mtlgrad::models
