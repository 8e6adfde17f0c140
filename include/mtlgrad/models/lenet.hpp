#pragma once
/// @file lenet.hpp
/// The LeNet of the multi-objective MultiMNIST/MultiFashion literature (Sener & Koltun 2018,
/// "Multi-Task Learning as Multi-Objective Optimization"; Lin et al. 2019, "Pareto Multi-Task
/// Learning"), hard parameter sharing: a shared convolutional trunk and one Linear head per task.
///
///     x (1×S×S) ─► conv 9×9 (1→10) ─► max-pool 2 ─► relu ─► conv 5×5 (10→20) ─► max-pool 2 ─► relu
///              ─► Linear(20·s·s → hidden) ─► relu = z ─► head_i = Linear(hidden → classes_i) ─► L_i
///
/// On the 36×36 MultiFashion canvas ("canvas": true) s = 5 and the trunk's Linear is the papers'
/// 500 → 50; on the 28×28 resized images s = 3 (180 → 50). The side S is read from the data (its
/// inputs must be S·S pixels, one channel); each task must be a classification task (cross-entropy
/// on its labels). Shared parameters are "trunk.<k>.weight|bias" (k = 0, 3 the convolutions,
/// weight [Cout, C·k·k] as PyTorch's flattened; k = 6 the Linear, weight [in, out]); task i's are
/// "head<i>.0.weight|bias". Initialisation is PyTorch's default per layer, drawn in layer order.
///
/// Option: "hidden" (50), the width of the shared representation z.

#include "mtlgrad/models/registry.hpp"
#include "mtlgrad/models/shared_trunk.hpp"

namespace mtlgrad::models {

struct LeNetOptions {
  std::size_t hidden = 50;
};

class LeNet : public SharedTrunkModel {
 public:
  /// Throws std::invalid_argument when the data's inputs are not square one-channel images large
  /// enough for the trunk, or a task is not a classification task.
  LeNet(const LeNetOptions& options, const DataSplit& data, std::size_t batch_size, Rng init_rng, Rng data_rng);
};

ModelRegistry::Entry lenet_entry();

}  // namespace mtlgrad::models
