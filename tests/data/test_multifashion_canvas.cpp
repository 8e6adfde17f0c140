// MultiFashion's "canvas" option: the 36×36 canvas of step 2 kept as the input (no resize).
#include "test_util.hpp"

#include <algorithm>

#include "mtlgrad/data/multifashion.hpp"

using namespace mtlgrad;

TEST_SUITE("data") {

TEST_CASE("MultiFashion with canvas: inputs are the 36×36 canvases; partners and labels as without") {
  Rng r(9);
  LabelledImages s;
  s.rows = s.cols = 28;
  s.images = r.uniform_tensor(5, 784, 0, 1);
  for (std::size_t i = 0; i < 5; ++i) s.labels.push_back(std::uint8_t(9 - i));
  Rng r1(4), r2(4), r3(4);
  const MultiTaskData c = build_multifashion(s, r1, /*keep_canvas=*/true);
  const MultiTaskData resized = build_multifashion(s, r2);
  const std::vector<std::size_t> partner = draw_partners(5, r3);
  REQUIRE(c.inputs.shape(0) == 5);
  REQUIRE(c.inputs.shape(1) == 36 * 36);
  CHECK(resized.inputs.shape(1) == 28 * 28);
  for (std::size_t i = 0; i < 5; ++i) {
    INFO("item " << i);
    // Step 2 by hand: item i at [0:28, 0:28], its partner at [6:34, 6:34], the max where they overlap.
    const real* row = c.inputs.data() + i * 1296;
    const real* left = s.images.data() + i * 784;
    const real* right = s.images.data() + partner[i] * 784;
    bool same = true;
    for (std::size_t y = 0; y < 36; ++y)
      for (std::size_t x = 0; x < 36; ++x) {
        real want = 0;
        if (y < 28 && x < 28) want = left[y * 28 + x];
        if (y >= 6 && y < 34 && x >= 6 && x < 34) want = std::max(want, right[(y - 6) * 28 + (x - 6)]);
        same = same && row[y * 36 + x] == want;
      }
    CHECK(same);
    CHECK(c.targets[0](i, 0) == real(9 - i));
    CHECK(c.targets[1](i, 0) == real(9 - partner[i]));
    CHECK(c.targets[1](i, 0) == resized.targets[1](i, 0));
  }
}

TEST_CASE("MultiFashion's canvas option: read as a boolean, default false") {
  CHECK_FALSE(read_multifashion_options(nlohmann::json::object(), "data").canvas);
  CHECK(read_multifashion_options(nlohmann::json{{"canvas", true}}, "data").canvas);
  CHECK_THROWS_WITH_SUBSTR(read_multifashion_options(nlohmann::json{{"canvas", 1}}, "data"), "data.canvas");
}

}  // TEST_SUITE
