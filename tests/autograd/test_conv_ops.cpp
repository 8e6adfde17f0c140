// conv2d and max_pool2d against torch float64 (tests/fixtures/conv_torch.json, written by
// tools/gen_conv_fixtures.py), their batched VJPs against one Tape::grad per output, and their
// shape errors. The central-difference Jacobians are in test_gradcheck_ops.cpp's table.
#include "test_util.hpp"

#include <cmath>
#include <limits>

#include <xtensor/xview.hpp>

#include "mtlgrad/autograd/batched.hpp"
#include "mtlgrad/autograd/ops.hpp"
#include "mtlgrad/core/rng.hpp"
#include "torch_fixture.hpp"

using namespace mtlgrad;
using mtlgrad::test::nested;
using nlohmann::json;

namespace {

// Rebuilds a fixture case with mtlgrad's ops; x[k] are the case's inputs as leaves.
Var build(const json& c, const std::vector<Var>& x) {
  const std::string e = c["expr"];
  const ImageShape in{c["image"][0], c["image"][1], c["image"][2]};
  if (e == "conv2d") return conv2d(x[0], x[1], x[2], in, c["kernel"], c["stride"], c["padding"]);
  if (e == "max_pool2d") return max_pool2d(x[0], in, c["kernel"], c["stride"]);
  REQUIRE(e == "conv_pool_relu_conv");
  const ImageShape a = conv2d_shape(in, 3, 3);
  const ImageShape p = max_pool2d_shape(a, 2);
  return conv2d(relu(max_pool2d(conv2d(x[0], x[1], x[2], in, 3), a, 2)), x[3], x[4], p, 2);
}

}  // namespace

TEST_SUITE("conv ops") {

TEST_CASE("conv2d and max_pool2d: values and VJPs equal torch float64") {
  const json fx = test::load_fixture("conv_torch.json");
  REQUIRE(fx["cases"].size() >= 10);
  const double tol = tolerance(1e-12, 2e-5);
  for (const json& c : fx["cases"]) {
    INFO("case " << c["name"].get<std::string>());
    std::vector<Tensor> inputs;
    for (const json& t : c["inputs"]) inputs.push_back(nested(t));
    Tape tape;
    std::vector<Var> x;
    for (const Tensor& t : inputs) x.push_back(tape.leaf(t));
    Var y = build(c, x);
    CHECK_TENSOR_NEAR(y.value(), nested(c["value"]), tol);
    std::vector<Tensor> g;
    tape.grad(y, nested(c["seed"]), x, g);
    for (std::size_t k = 0; k < x.size(); ++k) {
      INFO("input " << k);
      CHECK_TENSOR_NEAR(g[k], nested(c["grads"][k]), tol);
    }
  }
}

TEST_CASE("a conv trunk with two heads: the batched sweep equals one Tape::grad per output") {
  Rng rng(5);
  const ImageShape in{2, 9, 8};
  const std::size_t B = 3;
  const Tensor X = rng.normal_tensor(B, in.size());
  Tensor W1 = rng.normal_tensor(4, 2 * 3 * 3), b1 = rng.normal_tensor(1, 4);
  const ImageShape a = conv2d_shape(in, 4, 3, 1, 1);  // 4×9×8
  const ImageShape p = max_pool2d_shape(a, 2);        // 4×4×4
  Tensor W2 = rng.normal_tensor(3, 4 * 2 * 2), b2 = rng.normal_tensor(1, 3);
  const ImageShape c = conv2d_shape(p, 3, 2, 2);      // 3×2×2
  Tensor H0 = rng.normal_tensor(c.size(), 5), H1 = rng.normal_tensor(c.size(), 4);
  for (bool input_grad : {false, true}) {
    INFO("input takes a gradient: " << input_grad);
    Tape tape;
    Var x = input_grad ? tape.leaf(X) : tape.input(X);
    Var w1 = tape.leaf(W1), c1 = tape.leaf(b1), w2 = tape.leaf(W2), c2 = tape.leaf(b2);
    Var h0 = tape.leaf(H0), h1 = tape.leaf(H1);
    Var z = relu(conv2d(relu(max_pool2d(conv2d(x, w1, c1, in, 3, 1, 1), a, 2)), w2, c2, p, 2, 2));
    const std::vector<Var> outs = {cross_entropy(matmul(z, h0), {0, 4, 2}), cross_entropy(matmul(z, h1), {3, 1, 1})};
    std::vector<Var> leaves = {w1, c1, w2, c2, h0, h1};
    if (input_grad) leaves.push_back(x);
    const std::vector<real> seeds = {real(1), real(-0.5)};
    BatchedSweep s;
    REQUIRE(s.prepare(tape, outs));
    std::vector<std::vector<Tensor>> got(2), want(2);
    for (std::size_t t = 0; t < 2; ++t)
      for (const Var& v : leaves) got[t].push_back(Tensor(v.shape(), real(-7)));  // garbage: all must be written
    for (std::size_t t = 0; t < 2; ++t)
      for (std::size_t k = 0; k < leaves.size(); ++k) s.set_destination(leaves[k], t, got[t][k].data());
    s.run(seeds);
    for (std::size_t t = 0; t < 2; ++t) tape.grad(outs[t], scalar(seeds[t]), leaves, want[t]);
    for (std::size_t t = 0; t < 2; ++t)
      for (std::size_t k = 0; k < leaves.size(); ++k) {
        INFO("output " << t << ", leaf " << k);
        CHECK_TENSOR_NEAR(got[t][k], want[t][k], tolerance(1e-12, 1e-5));
        if (k != 5 - t) CHECK(xt::amax(xt::abs(want[t][k]))() > 0);  // not vacuous: all but the other head are reached
      }
    CHECK(got[0][5] == zeros(H1.shape(0), H1.shape(1)));  // head 1 is not reached by output 0
  }
}

TEST_CASE("conv2d over a batch in chunks of images equals each image alone, and the batched sweep agrees") {
  // 4×24×24 images, 5×5 kernels: 100·400 values of columns per image, so a chunk holds 6 images
  // and a batch of 7 is one full chunk and a remainder.
  Rng rng(8);
  const ImageShape in{4, 24, 24};
  const std::size_t B = 7;
  const Tensor X = rng.normal_tensor(B, in.size()), W = rng.normal_tensor(3, 100), b = rng.normal_tensor(1, 3);
  const ImageShape out = conv2d_shape(in, 3, 5, 1, 1);
  const Tensor S = rng.normal_tensor(B, out.size());
  Tape tape;
  Var x = tape.leaf(X), w = tape.leaf(W), c = tape.leaf(b);
  Var y = conv2d(x, w, c, in, 5, 1, 1);
  std::vector<Tensor> g;
  tape.grad(y, S, {x, w, c}, g);
  Tensor dW = zeros(3, 100), db = zeros(1, 3);
  for (std::size_t r = 0; r < B; ++r) {
    INFO("image " << r);
    const Tensor Xr = xt::view(X, xt::range(r, r + 1), xt::all()), Sr = xt::view(S, xt::range(r, r + 1), xt::all());
    Tape one;
    Var xr = one.leaf(Xr), wr = one.leaf(W), cr = one.leaf(b);
    Var yr = conv2d(xr, wr, cr, in, 5, 1, 1);
    const Tensor yrow = xt::view(y.value(), xt::range(r, r + 1), xt::all());
    CHECK_TENSOR_NEAR(yrow, yr.value(), tolerance(1e-12, 1e-5));
    std::vector<Tensor> gr;
    one.grad(yr, Sr, {xr, wr, cr}, gr);
    const Tensor dxrow = xt::view(g[0], xt::range(r, r + 1), xt::all());
    CHECK_TENSOR_NEAR(dxrow, gr[0], tolerance(1e-12, 1e-5));
    dW += gr[1];
    db += gr[2];
  }
  CHECK_TENSOR_NEAR(g[1], dW, tolerance(1e-11, 1e-4));
  CHECK_TENSOR_NEAR(g[2], db, tolerance(1e-11, 1e-4));

  const Tensor T1 = rng.normal_tensor(B, out.size()), T2 = rng.normal_tensor(B, out.size());
  const std::vector<Var> outs = {mse(y, tape.input(T1)), mse(relu(y), tape.input(T2))};
  const std::vector<Var> leaves = {x, w, c};
  BatchedSweep sweep;
  REQUIRE(sweep.prepare(tape, outs));
  std::vector<std::vector<Tensor>> got(2), want(2);
  for (std::size_t t = 0; t < 2; ++t)
    for (std::size_t k = 0; k < 3; ++k) {
      got[t].push_back(Tensor(leaves[k].shape(), real(-7)));
      sweep.set_destination(leaves[k], t, got[t][k].data());
    }
  sweep.run({real(1), real(2)});
  for (std::size_t t = 0; t < 2; ++t) {
    tape.grad(outs[t], scalar(real(t + 1)), leaves, want[t]);
    for (std::size_t k = 0; k < 3; ++k) {
      INFO("output " << t << ", leaf " << k);
      CHECK_TENSOR_NEAR(got[t][k], want[t][k], tolerance(1e-12, 1e-5));
    }
  }
}

TEST_CASE("conv2d and max_pool2d: shape errors name the op and the shapes") {
  Tape tape;
  const Tensor X = zeros(2, 2 * 5 * 5), W = zeros(3, 2 * 3 * 3), b = zeros(1, 3);
  Var x = tape.input(X), w = tape.leaf(W), c = tape.leaf(b);
  const ImageShape in{2, 5, 5};
  CHECK_THROWS_WITH_SUBSTR(conv2d(x, w, c, ImageShape{1, 5, 5}, 3), "conv2d: input [2,50] is not a batch of 1×5×5 images");
  CHECK_THROWS_WITH_SUBSTR(conv2d(x, w, c, in, 2), "conv2d: weight [3,18] and bias [1,3] do not fit 2×2 kernels over 2 channels");
  const Tensor b4 = zeros(1, 4);
  CHECK_THROWS_WITH_SUBSTR(conv2d(x, w, tape.leaf(b4), in, 3), "conv2d: weight [3,18] and bias [1,4] do not fit");
  CHECK_THROWS_WITH_SUBSTR(conv2d(x, w, c, in, 3, 0), "conv2d: kernel (3) and stride (0) must be positive");
  CHECK_THROWS_WITH_SUBSTR(conv2d_shape(in, 3, 6), "conv2d: a 6×6 kernel does not fit an image of 2×5×5 with padding 0");
  CHECK(conv2d_shape(in, 3, 6, 1, 1).height == 2);
  CHECK_THROWS_WITH_SUBSTR(max_pool2d(x, ImageShape{2, 4, 6}, 2), "max_pool2d: input [2,50] is not a batch of 2×4×6 images");
  CHECK_THROWS_WITH_SUBSTR(max_pool2d(x, in, 6), "max_pool2d: a 6×6 window does not fit an image of 2×5×5");
  CHECK_THROWS_WITH_SUBSTR(max_pool2d(x, in, 0), "max_pool2d: a 0×0 window does not fit");
  CHECK(tape.size() == 4);  // the failed ops recorded nothing
}

TEST_CASE("max_pool2d: a NaN takes the window (PyTorch's rule) and gets its gradient") {
  Tape tape;
  const real nan = std::numeric_limits<real>::quiet_NaN();
  const Tensor X = matrix({{1, nan, 3, 2}});  // one 1×2×2 image
  Var x = tape.leaf(X);
  Var y = max_pool2d(x, ImageShape{1, 2, 2}, 2);
  CHECK(std::isnan(y.value()(0, 0)));
  const std::vector<Tensor> g = tape.grad(sum(y), {x});
  CHECK(g[0] == matrix({{0, 1, 0, 0}}));
}

}  // TEST_SUITE
