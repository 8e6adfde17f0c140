// MultiFashion in code, without the CLI (docs/algorithms.md, "MultiFashion"): two overlapping Fashion-MNIST items per
// image, task "left" = the class of the top-left item, "right" = the bottom-right one. A shared MLP
// trunk [256, 128] with one linear head per task (hps_mlp), PCGrad + Adam (lr 1e-3), batches of
// 128. Prints each epoch's mean training losses and the held-out accuracies (chance is 10 %).
//
//     example_07_multifashion [N_TRAIN=6000] [EPOCHS=5]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "mtlgrad/models/hps_mlp.hpp"
#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/data/multifashion.hpp"
#include "mtlgrad/mtl/trainer.hpp"

int main(int argc, char** argv) {
  mtlgrad::MultiFashionOptions data_options;
  data_options.n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 6000;
  data_options.n_test = 2000;
  const std::size_t epochs = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 5;
  if (!std::filesystem::exists(data_options.dir + "/train-images-idx3-ubyte.gz")) {
    std::fprintf(stderr, "Fashion-MNIST not found in %s (Debian: apt install dataset-fashion-mnist)\n",
                 data_options.dir.c_str());
    return 1;
  }
  mtlgrad::blas::set_threads(1);
  const mtlgrad::DataSplit data = mtlgrad::load_multifashion(data_options);
  std::printf("MultiFashion: %zu training and %zu test images of %zu pixels, tasks left/right (10 classes)\n",
              data.train.size(), data.test.size(), data.train.input_dim());

  mtlgrad::Rng root(0);
  mtlgrad::models::HpsMlpOptions model_options;
  model_options.trunk = {256, 128};
  mtlgrad::models::HpsMlp model(model_options, data, 128, root.split(), root.split());
  mtlgrad::Trainer trainer(model, mtlgrad::make_aggregator({{"name", "pcgrad"}}),
                           mtlgrad::make_optimizer({{"name", "adam"}, {"lr", 1e-3}}), {}, root.split());
  std::printf("%s\n\n%5s %12s %12s %10s %10s %8s\n", model.describe().c_str(), "epoch", "loss left", "loss right",
              "acc left", "acc right", "seconds");
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
    double sum[2] = {0, 0};
    const std::size_t batches = model.batches_per_epoch();
    for (std::size_t b = 0; b < batches; ++b) {
      const mtlgrad::StepRecord& r = trainer.step();
      sum[0] += double(r.losses[0]);
      sum[1] += double(r.losses[1]);
      model.next_batch();
    }
    const nlohmann::json eval = model.evaluate();
    std::printf("%5zu %12.4f %12.4f %9.1f%% %9.1f%% %8.1f\n", epoch, sum[0] / double(batches), sum[1] / double(batches),
                100 * eval["accuracy"][0].get<double>(), 100 * eval["accuracy"][1].get<double>(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 0;
}
