#include "mtlgrad/data/multifashion.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/data/resize.hpp"

namespace mtlgrad {

void compose_pair(const real* left, const real* right, real* canvas) {
  std::fill_n(canvas, kCanvasSide * kCanvasSide, real(0));
  for (std::size_t r = 0; r < kFashionSide; ++r) std::copy_n(left + r * kFashionSide, kFashionSide, canvas + r * kCanvasSide);
  for (std::size_t r = 0; r < kFashionSide; ++r) {
    real* row = canvas + (r + kRightOffset) * kCanvasSide + kRightOffset;
    const real* src = right + r * kFashionSide;
    for (std::size_t c = 0; c < kFashionSide; ++c) row[c] = std::max(row[c], src[c]);
  }
}

std::vector<std::size_t> draw_partners(std::size_t n, Rng& rng) {
  if (n < 2) throw std::invalid_argument("MultiFashion: needs at least 2 items to pair, got " + std::to_string(n));
  std::vector<std::size_t> partner(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = rng.below(n - 1);
    partner[i] = k + (k >= i ? 1 : 0);
  }
  return partner;
}

MultiTaskData build_multifashion(const LabelledImages& source, Rng& rng, bool keep_canvas) {
  const std::size_t n = source.images.shape(0);
  const std::size_t d = kFashionSide * kFashionSide;
  if (source.rows != kFashionSide || source.cols != kFashionSide || source.images.shape(1) != d)
    throw std::invalid_argument("MultiFashion: expected 28×28 items, got " + std::to_string(source.rows) + "×" +
                                std::to_string(source.cols));
  if (source.labels.size() != n)
    throw std::invalid_argument("MultiFashion: " + std::to_string(n) + " images but " +
                                std::to_string(source.labels.size()) + " labels");
  const std::vector<std::size_t> partner = draw_partners(n, rng);
  const BilinearResize resize(kCanvasSide, kCanvasSide, kFashionSide, kFashionSide);
  const std::size_t side = keep_canvas ? kCanvasSide : kFashionSide;
  MultiTaskData out;
  out.inputs = zeros(n, side * side);
  out.targets = {zeros(n, 1), zeros(n, 1)};
  out.tasks = {TaskSpec::classification("left", 10), TaskSpec::classification("right", 10)};
  std::vector<real> canvas(kCanvasSide * kCanvasSide);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = partner[i];
    real* row = out.inputs.data() + i * side * side;
    compose_pair(source.images.data() + i * d, source.images.data() + j * d, keep_canvas ? row : canvas.data());
    if (!keep_canvas) resize.apply(canvas.data(), row);
    out.targets[0](i, 0) = real(source.labels[i]);
    out.targets[1](i, 0) = real(source.labels[j]);
  }
  return out;
}

MultiFashionOptions read_multifashion_options(const nlohmann::json& spec, const std::string& path) {
  OptionReader r(spec, path);
  r.declare("name");
  MultiFashionOptions o;
  o.dir = r.get<std::string>("dir", o.dir);
  o.n = r.get<std::size_t>("n", o.n);
  o.n_test = r.get<std::size_t>("n_test", o.n_test);
  o.seed = r.get<std::uint64_t>("seed", o.seed);
  o.canvas = r.get<bool>("canvas", o.canvas);
  r.check(o.n != 1, "n", "0 (all) or >= 2: each item needs a partner");
  r.check(o.n_test != 1, "n_test", "0 (all) or >= 2: each item needs a partner");
  r.finish();
  return o;
}

DataSplit load_multifashion(const MultiFashionOptions& o) {
  Rng root(o.seed);
  Rng train_rng = root.split();
  Rng test_rng = root.split();
  DataSplit s;
  s.train = build_multifashion(load_fashion_mnist(o.dir, "train", o.n), train_rng, o.canvas);
  s.test = build_multifashion(load_fashion_mnist(o.dir, "t10k", o.n_test), test_rng, o.canvas);
  return s;
}

}  // namespace mtlgrad
