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

#include "mtlgrad/models/registry.hpp"
#include "mtlgrad/models/shared_trunk.hpp"

namespace mtlgrad::models {

struct HpsMlpOptions {
  std::vector<std::size_t> trunk = {64, 64};
  std::vector<std::size_t> head = {};
  std::string activation = "relu";
};

/// SharedTrunkModel with MLPs of `options` for the trunk and the heads (the default losses).
class HpsMlp : public SharedTrunkModel {
 public:
  HpsMlp(const HpsMlpOptions& options, const DataSplit& data, std::size_t batch_size, Rng init_rng, Rng data_rng);
};

ModelRegistry::Entry hps_mlp_entry();

}  // namespace mtlgrad::models
