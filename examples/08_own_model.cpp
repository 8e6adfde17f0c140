// Your own multi-task model in a few lines: a shared MLP trunk, one head per task, PCGrad + Adam.
// The data: the "teacher" set (a regression task and a 3-class task on 8 inputs). Prints each
// epoch's held-out losses and accuracies.
#include <cstdio>

#include "mtlgrad/data/data.hpp"
#include "mtlgrad/models/shared_trunk.hpp"
#include "mtlgrad/mtl/trainer.hpp"

using namespace mtlgrad;

int main() {
  const DataSplit data = make_data({{"name", "teacher"}, {"n", 1024}, {"dim", 8}}, "data");
  Rng rng(0);
  auto trunk = mlp({8, 64, 32}, "relu", rng, /*activate_last=*/true);
  std::vector<std::unique_ptr<Module>> heads;
  heads.push_back(mlp({32, 1}, "relu", rng));  // regression: mse
  heads.push_back(mlp({32, 3}, "relu", rng));  // 3 classes: cross-entropy
  SharedTrunkModel model("mine", std::move(trunk), std::move(heads), data, /*batch_size=*/32, rng.split());

  Trainer trainer(model, make_aggregator("pcgrad"), make_optimizer({{"name", "adam"}, {"lr", 1e-3}}), {}, rng.split());
  for (int epoch = 1; epoch <= 10; ++epoch) {
    for (std::size_t b = 0; b < model.batches_per_epoch(); ++b, model.next_batch()) trainer.step();
    std::printf("epoch %2d  %s\n", epoch, model.evaluate().dump().c_str());
  }
  return 0;
}
