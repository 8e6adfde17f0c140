#include "test_util.hpp"

#include <xtensor/xview.hpp>

#include <chrono>
#include <filesystem>

#include <xtensor/xview.hpp>

#include "mtlgrad/data/multifashion.hpp"
#include "mtlgrad/data/resize.hpp"

using namespace mtlgrad;

namespace {

Tensor from_list(const nlohmann::json& j, std::size_t rows, std::size_t cols) {
  Tensor t = zeros(rows, cols);
  REQUIRE(j.size() == rows * cols);
  for (std::size_t k = 0; k < rows * cols; ++k) t.data()[k] = j[k].get<real>();
  return t;
}

// n random 28×28 items with labels i mod 10.
LabelledImages random_items(std::size_t n, std::uint64_t seed) {
  Rng r(seed);
  LabelledImages s;
  s.rows = s.cols = 28;
  s.images = r.uniform_tensor(n, 784, 0, 1);
  for (std::size_t i = 0; i < n; ++i) s.labels.push_back(std::uint8_t(i % 10));
  return s;
}

Tensor compose_and_resize(const LabelledImages& s, std::size_t left, std::size_t right) {
  std::vector<real> canvas(36 * 36);
  compose_pair(s.images.data() + left * 784, s.images.data() + right * 784, canvas.data());
  Tensor out = zeros(1, 784);
  BilinearResize(36, 36, 28, 28).apply(canvas.data(), out.data());
  return out;
}

bool have_fashion() {
  return std::filesystem::exists(std::string(fashion_mnist_dir()) + "/train-images-idx3-ubyte.gz");
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("BilinearResize matches torch interpolate(bilinear) with align_corners=False") {
  const nlohmann::json fx = test::load_fixture("data_resize.json");
  REQUIRE(fx.at("resize").size() == 4);
  for (const auto& c : fx.at("resize")) {
    const std::size_t ih = c["in"][0], iw = c["in"][1], oh = c["out"][0], ow = c["out"][1];
    CAPTURE(ih);
    CAPTURE(iw);
    CAPTURE(oh);
    CAPTURE(ow);
    const Tensor got = BilinearResize(ih, iw, oh, ow)(from_list(c["input"], ih, iw));
    CHECK_TENSOR_NEAR(got, from_list(c["output"], oh, ow), tolerance(1e-12, 1e-5));
  }
  CHECK_THROWS_WITH_SUBSTR(BilinearResize(0, 3, 2, 2), "sizes must be >= 1, got 0×3 -> 2×2");
  CHECK_THROWS_WITH_SUBSTR(BilinearResize(2, 3, 2, 2)(zeros(3, 2)), "BilinearResize: expected shape [2,3], got [3,2]");
}

TEST_CASE("compose_pair: left at [0:28 0:28] and right at [6:34 6:34] and the overlap takes the max") {
  std::vector<real> left(784, real(0.2)), right(784, real(0.5)), canvas(36 * 36, real(7));
  left[27 * 28 + 27] = real(0.9);  // left's last pixel, inside the overlap
  right[0] = real(0.1);            // right's first pixel, inside the overlap
  right[27 * 28 + 27] = real(0.3); // right's last pixel, outside the left item
  compose_pair(left.data(), right.data(), canvas.data());
  const auto at = [&](std::size_t r, std::size_t c) { return canvas[r * 36 + c]; };
  CHECK(at(0, 0) == real(0.2));    // left only
  CHECK(at(5, 27) == real(0.2));   // left only (above the right item)
  CHECK(at(6, 6) == real(0.2));    // max(left 0.2, right's first pixel 0.1)
  CHECK(at(10, 10) == real(0.5));  // max(0.2, 0.5)
  CHECK(at(27, 27) == real(0.9));  // max(left's last pixel 0.9, 0.5)
  CHECK(at(28, 28) == real(0.5));  // right only
  CHECK(at(33, 33) == real(0.3));  // right's last pixel
  CHECK(at(3, 30) == 0);           // neither (the canvas is cleared)
  CHECK(at(30, 3) == 0);
  CHECK(at(34, 34) == 0);
  CHECK(at(35, 0) == 0);
}

TEST_CASE("MultiFashion: partners and tasks and images follow the construction and the seed") {
  const LabelledImages s = random_items(50, 3);
  Rng r1(17), r2(17), rp(17), r3(18);
  const MultiTaskData a = build_multifashion(s, r1);
  const MultiTaskData b = build_multifashion(s, r2);
  const std::vector<std::size_t> partner = draw_partners(50, rp);
  CHECK(a.inputs == b.inputs);
  CHECK(a.targets[1] == b.targets[1]);
  CHECK_NOTHROW(a.check());
  REQUIRE(a.tasks.size() == 2);
  CHECK(a.tasks[0].name == "left");
  CHECK(a.tasks[1].name == "right");
  CHECK(a.tasks[1].size == 10);
  for (std::size_t i = 0; i < 50; ++i) {
    CHECK(partner[i] != i);
    CHECK(partner[i] < 50);
    CHECK(a.targets[0](i, 0) == real(i % 10));
    CHECK(a.targets[1](i, 0) == real(partner[i] % 10));
  }
  for (std::size_t i : {0u, 17u, 49u}) {
    const Tensor row = xt::view(a.inputs, xt::range(i, i + 1), xt::all());
    CHECK(row == compose_and_resize(s, i, partner[i]));
  }
  const MultiTaskData c = build_multifashion(s, r3);
  Rng rq(18);
  CHECK(draw_partners(50, rq) != partner);
  CHECK(c.inputs != a.inputs);

  LabelledImages small = random_items(1, 0);
  Rng r(0);
  CHECK_THROWS_WITH_SUBSTR(build_multifashion(small, r), "needs at least 2 items to pair, got 1");
  small = random_items(3, 0);
  small.labels.pop_back();
  CHECK_THROWS_WITH_SUBSTR(build_multifashion(small, r), "3 images but 2 labels");
  small.rows = 27;
  CHECK_THROWS_WITH_SUBSTR(build_multifashion(small, r), "expected 28×28 items, got 27×28");
}

TEST_CASE("MultiFashion on the real files matches numpy canvas + torch resize") {
  if (!have_fashion()) {
    FAIL("dataset-fashion-mnist is not installed (scripts/deps installs it); this case reads the real files");
  }
  const nlohmann::json fx = test::load_fixture("data_resize.json");
  REQUIRE(fx.contains("multifashion"));
  const LabelledImages train = load_fashion_mnist(fashion_mnist_dir(), "train");
  for (const auto& p : fx["multifashion"]) {
    const std::size_t l = p["left"], r = p["right"];
    CAPTURE(l);
    CAPTURE(r);
    CHECK(train.labels[l] == p["left_label"].get<int>());
    CHECK(train.labels[r] == p["right_label"].get<int>());
    CHECK_TENSOR_NEAR(compose_and_resize(train, l, r), from_list(p["image"], 1, 784), tolerance(1e-12, 1e-5));
  }
}

TEST_CASE("load_multifashion: options and subsets and the full build") {
  using nlohmann::json;
  CHECK_THROWS_WITH_SUBSTR(read_multifashion_options(json{{"n", 1}}, "data"), "data.n: 1 is out of range");
  CHECK_THROWS_WITH_SUBSTR(read_multifashion_options(json{{"seeds", 1}}, "data"), "data.seeds: unknown key (did you mean 'seed'?)");
  MultiFashionOptions missing;
  missing.dir = "/nonexistent/fashion";
  CHECK_THROWS_WITH_SUBSTR(load_multifashion(missing), "/nonexistent/fashion/train-images-idx3-ubyte.gz: cannot open");
  if (!have_fashion()) {
    FAIL("dataset-fashion-mnist is not installed (scripts/deps installs it); this case reads the real files");
  }
  const MultiFashionOptions o = read_multifashion_options(json{{"n", 300}, {"n_test", 100}, {"seed", 4}}, "data");
  const DataSplit a = load_multifashion(o), b = load_multifashion(o);
  CHECK(a.train.size() == 300);
  CHECK(a.test.size() == 100);
  CHECK(a.train.inputs == b.train.inputs);
  CHECK(a.test.targets[1] == b.test.targets[1]);

  const auto t0 = std::chrono::steady_clock::now();
  const DataSplit full = load_multifashion(MultiFashionOptions{});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("MultiFashion 60 000 + 10 000 built in " << seconds << " s");
  CHECK(full.train.size() == 60000);
  CHECK(full.test.size() == 10000);
  CHECK(full.train.input_dim() == 784);
  CHECK(full.train.targets[0](0, 0) == 9);  // the first training item is the left one of row 0
  CHECK_NOTHROW(full.train.check());
}

}  // TEST_SUITE
