#pragma once
/// @file multifashion.hpp
/// MultiFashion: two overlapping Fashion-MNIST items per image, one task per item (docs/algorithms.md,
/// "MultiFashion"). The construction follows MultiMNIST (Sabour, Frosst & Hinton 2017, "Dynamic Routing
/// Between Capsules") as adapted to two-task learning by Sener & Koltun 2018 ("Multi-Task
/// Learning as Multi-Objective Optimization", NeurIPS), with Fashion-MNIST items:
///
///  1. Partners. For item i of a set of n (n >= 2) a partner j ≠ i is drawn from the run's Rng:
///     k = rng.below(n − 1), j = k + [k >= i]; items are visited in order i = 0..n−1.
///  2. Canvas. A 36×36 canvas, zero, holds item i at rows/cols [0:28, 0:28] (top left) and item j
///     at [6:34, 6:34] (bottom right); where they overlap a pixel takes the max of the two.
///  3. Resize. The canvas is resized to 28×28 bilinearly as PyTorch's
///     interpolate(mode="bilinear", align_corners=False, antialias=False) does (resize.hpp) —
///     unless the option "canvas" keeps the 36×36 canvas as it is (the input of the LeNet of
///     Sener & Koltun 2018 and Lin et al. 2019, models/lenet.hpp).
///  4. Tasks. "left" = the class of item i, "right" = the class of item j (10 classes each).
///
/// Pixels are real in [0, 1] (byte / 255). The result is a function of the source images and the
/// seed only. Train images pair within the training file and test images within the test file
/// (t10k), each with its own Rng stream split from the seed.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/data/dataset.hpp"
#include "mtlgrad/data/idx.hpp"

namespace mtlgrad {

/// Side of a source item (28) and of the canvas (36), and where the right item starts (6).
constexpr std::size_t kFashionSide = 28, kCanvasSide = 36, kRightOffset = 6;

/// Writes the 36×36 canvas of step 2 for two 28×28 row-major images into `canvas` (1296 values).
void compose_pair(const real* left, const real* right, real* canvas);

/// Step 1: partner[i] for i = 0..n−1 (n >= 2).
std::vector<std::size_t> draw_partners(std::size_t n, Rng& rng);

/// Steps 1–4 on a set of 28×28 items (source.images: n × 784). n < 2 or another image size throws.
/// With `keep_canvas`, step 3 is skipped: the inputs are the 36×36 canvases (n × 1296).
MultiTaskData build_multifashion(const LabelledImages& source, Rng& rng, bool keep_canvas = false);

struct MultiFashionOptions {
  std::string dir = fashion_mnist_dir();  ///< where the IDX files are
  std::size_t n = 0;                      ///< training items: the first n of the file (0 = all 60 000)
  std::size_t n_test = 0;                 ///< test items: the first n_test of t10k (0 = all 10 000)
  std::uint64_t seed = 0;
  bool canvas = false;                    ///< keep the 36×36 canvas (no resize to 28×28)
};

/// Reads {"dir", "n", "n_test", "seed", "canvas"}; unknown keys and invalid values throw ConfigError. The
/// name key is declared.
MultiFashionOptions read_multifashion_options(const nlohmann::json& spec, const std::string& path);

/// Reads the Fashion-MNIST files and builds the training and test sets. Rng(seed) is split once
/// for the training pairs, then once for the test pairs.
DataSplit load_multifashion(const MultiFashionOptions& o);

}  // namespace mtlgrad
