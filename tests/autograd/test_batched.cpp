// BatchedSweep against the reference: Tape::grad once per output, on graphs built from every op
// of the batched table, with shared and per-output parts, weighted seeds and unreached leaves.
#include "test_util.hpp"

#include <cmath>
#include <limits>

#include "mtlgrad/autograd/batched.hpp"
#include "mtlgrad/autograd/ops.hpp"
#include "mtlgrad/core/rng.hpp"

using namespace mtlgrad;

namespace {

// The reference: block t of every leaf's gradient by its own reverse sweep.
std::vector<std::vector<Tensor>> per_output(Tape& tape, const std::vector<Var>& outs, const std::vector<real>& seeds,
                                            const std::vector<Var>& leaves) {
  std::vector<std::vector<Tensor>> r(outs.size());
  for (std::size_t t = 0; t < outs.size(); ++t) tape.grad(outs[t], scalar(seeds[t]), leaves, r[t]);
  return r;
}

// The batched sweep with a destination for every leaf and output; false if unsupported.
bool batched(Tape& tape, const std::vector<Var>& outs, const std::vector<real>& seeds, const std::vector<Var>& leaves,
             BatchedSweep& s, std::vector<std::vector<Tensor>>& got) {
  if (!s.prepare(tape, outs)) return false;
  got.assign(outs.size(), {});
  for (std::size_t t = 0; t < outs.size(); ++t)
    for (const Var& v : leaves) {
      got[t].push_back(Tensor(v.shape(), real(-7)));  // garbage: every block must be written
      s.set_destination(v, t, got[t].back().data());
    }
  s.run(seeds);
  return true;
}

void check_same(const std::vector<std::vector<Tensor>>& got, const std::vector<std::vector<Tensor>>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t t = 0; t < got.size(); ++t)
    for (std::size_t k = 0; k < got[t].size(); ++k) {
      INFO("output " << t << ", leaf " << k);
      CHECK_TENSOR_NEAR(got[t][k], want[t][k], tolerance(1e-12, 1e-5));
    }
}

}  // namespace

TEST_SUITE("batched sweep") {

TEST_CASE("a two-layer trunk with three heads (affine, relu, tanh, sigmoid, leaky_relu, cross_entropy, mse) matches one sweep per output") {
  Rng rng(11);
  const Tensor X = rng.uniform_tensor(5, 4, -1, 1), Y = rng.uniform_tensor(5, 2, -1, 1);
  Tensor W1 = rng.uniform_tensor(4, 6, -1, 1), b1 = rng.uniform_tensor(1, 6, -1, 1);
  Tensor W2 = rng.uniform_tensor(6, 3, -1, 1), b2 = rng.uniform_tensor(1, 3, -1, 1);
  Tensor H0 = rng.uniform_tensor(3, 4, -1, 1), H1 = rng.uniform_tensor(3, 2, -1, 1), H2 = rng.uniform_tensor(3, 3, -1, 1);
  Tape tape;
  Var w1 = tape.leaf(W1), c1 = tape.leaf(b1), w2 = tape.leaf(W2), c2 = tape.leaf(b2);
  Var h0 = tape.leaf(H0), h1 = tape.leaf(H1), h2 = tape.leaf(H2);
  Var z = tanh(affine(relu(affine(tape.input(X), w1, c1)), w2, c2));
  const std::vector<Var> outs = {cross_entropy(matmul(z, h0), {0, 3, 1, 2, 3}),
                                 mse(sigmoid(matmul(z, h1)), tape.input(Y)),
                                 cross_entropy(log_softmax(leaky_relu(matmul(z, h2), real(0.2))), {2, 2, 0, 1, 0})};
  const std::vector<Var> leaves = {w1, c1, w2, c2, h0, h1, h2};
  const std::vector<real> seeds = {real(1), real(0.5), real(-2)};
  BatchedSweep s;
  std::vector<std::vector<Tensor>> got;
  REQUIRE(batched(tape, outs, seeds, leaves, s, got));
  check_same(got, per_output(tape, outs, seeds, leaves));
  // A head that output t does not reach gets zeros, as Tape::grad returns.
  CHECK(got[0][5] == zeros(3, 2));
  CHECK(got[1][4] == zeros(3, 4));

  SUBCASE("the same buffers serve a second recording of the same graph") {
    W1 *= real(0.5);
    tape.clear();
    Var v1 = tape.leaf(W1), d1 = tape.leaf(b1), v2 = tape.leaf(W2), d2 = tape.leaf(b2), g0 = tape.leaf(H0);
    Var zz = tanh(affine(relu(affine(tape.input(X), v1, d1)), v2, d2));
    const std::vector<Var> o = {cross_entropy(matmul(zz, g0), {1, 1, 1, 0, 0}), sum(zz) * real(2)};
    // sum and scale have no batched VJP: the sweep declines and the caller falls back.
    CHECK_FALSE(s.prepare(tape, o));
    const std::vector<Var> ok = {o[0], cross_entropy(matmul(zz, g0), {0, 0, 0, 0, 0})};
    const std::vector<Var> l = {v1, d1, v2, d2, g0};
    REQUIRE(batched(tape, ok, {real(1), real(3)}, l, s, got));
    check_same(got, per_output(tape, ok, {real(1), real(3)}, l));
  }
}

TEST_CASE("a value used twice sums both contributions, inner nodes that feed a matmul from the right too") {
  Rng rng(5);
  Tensor A = rng.uniform_tensor(3, 3, -1, 1), B = rng.uniform_tensor(3, 2, -1, 1);
  Tape tape;
  Var a = tape.leaf(A), b = tape.leaf(B);
  Var u = tanh(matmul(a, a));           // a on both sides of one product
  Var v = matmul(u, sigmoid(matmul(a, b)));  // an inner node as the right operand
  const std::vector<Var> outs = {mse(v, tape.input(B)), mse(matmul(u, b), tape.input(B))};
  BatchedSweep s;
  std::vector<std::vector<Tensor>> got;
  REQUIRE(batched(tape, outs, {real(1), real(1)}, {a, b}, s, got));
  check_same(got, per_output(tape, outs, {real(1), real(1)}, {a, b}));
}

TEST_CASE("each kernel of the matrix-product VJP matches one sweep per output") {
  // ∂x = G·Wᵀ takes three routes in src/autograd/batched_vjp.cpp: an outer product for a W of one
  // column (a head of one output), Wᵀ copied out + an NN GEMM for small products (≤ 2^20
  // multiply-adds) and BLAS's NT GEMM for larger ones; ∂b sums sixteen columns at a time, then
  // eight, then one by one (64 = 4·16, 11 = 8 + 3, 1 here). Each runs on blocks both first written
  // and added to.
  Rng rng(21);
  const std::size_t B = 300;  // ∂x of the 64×64 layer: 2·300·64·64 ≈ 2.5M multiply-adds → NT
  const Tensor X = rng.uniform_tensor(B, 8, -1, 1), Y = rng.uniform_tensor(B, 1, -1, 1);
  Tensor W0 = rng.uniform_tensor(8, 64, -1, 1), b0 = rng.uniform_tensor(1, 64, -1, 1);
  Tensor W1 = rng.uniform_tensor(64, 64, -0.2, 0.2), b1 = rng.uniform_tensor(1, 64, -1, 1);
  Tensor W2 = rng.uniform_tensor(64, 11, -0.2, 0.2), b2 = rng.uniform_tensor(1, 11, -1, 1);  // ∂x: ≈ 0.4M → NN
  Tensor H0 = rng.uniform_tensor(11, 1, -1, 1), c0 = rng.uniform_tensor(1, 1, -1, 1);        // ∂x: outer product
  Tensor H1 = rng.uniform_tensor(11, 5, -1, 1);
  Tape tape;
  Var w0 = tape.leaf(W0), d0 = tape.leaf(b0), w1 = tape.leaf(W1), d1 = tape.leaf(b1), w2 = tape.leaf(W2);
  Var d2 = tape.leaf(b2), h0 = tape.leaf(H0), e0 = tape.leaf(c0), h1 = tape.leaf(H1);
  Var h = relu(affine(tape.input(X), w0, d0));
  Var z = tanh(affine(relu(affine(h, w1, d1)), w2, d2));
  std::vector<std::size_t> labels(B);
  for (std::size_t r = 0; r < B; ++r) labels[r] = r % 5;
  const std::vector<Var> outs = {mse(affine(z, h0, e0), tape.input(Y)), cross_entropy(matmul(z, h1), labels)};
  const std::vector<Var> leaves = {w0, d0, w1, d1, w2, d2, h0, e0, h1};
  BatchedSweep s;
  std::vector<std::vector<Tensor>> got;
  REQUIRE(batched(tape, outs, {real(1), real(0.5)}, leaves, s, got));
  check_same(got, per_output(tape, outs, {real(1), real(0.5)}, leaves));
  // Each output reaching z through two products of one head: the second adds to the block of ∂z
  // the first wrote (the outer product for h0, the NN GEMM for h1).
  const std::vector<Var> twice = {mse(affine(z, h0, e0), tanh(affine(z, h0, e0))),
                                  mse(matmul(z, h1), sigmoid(matmul(z, h1)))};
  REQUIRE(batched(tape, twice, {real(1), real(-2)}, leaves, s, got));
  check_same(got, per_output(tape, twice, {real(1), real(-2)}, leaves));
}

TEST_CASE("a leaf without a destination is left alone, and one bound after the outputs gets zeros") {
  Tensor W = matrix({{1, 2}, {3, 4}}), X = matrix({{1, -1}});
  Tape tape;
  Var w = tape.leaf(W);
  const std::vector<Var> outs = {mse(relu(matmul(tape.input(X), w)), tape.input(X))};
  BatchedSweep s;
  REQUIRE(s.prepare(tape, outs));
  Tensor late_value = matrix({{5}});
  Var late = tape.leaf(late_value);
  Tensor dl = matrix({{9}});
  s.set_destination(late, 0, dl.data());
  CHECK(dl(0, 0) == 0);
  s.run({real(1)});  // nothing to write to: runs through
  // Hand derivation: x·W = [-2, -2], relu = [0, 0], mse = ((0-1)² + (0+1)²)/2 = 1, and ∂ through relu is 0.
  CHECK(outs[0].item() == doctest::Approx(1));
}

TEST_CASE("NaN takes the same course on both paths, as PyTorch's rules say") {
  // relu(A) with A = [[NaN, −1], [2, 0.5]] is [[NaN, 0], [2, 0.5]]; out_t = mse(relu(A)·W_t, Y).
  // Backward, row 0 of G_t·W_tᵀ is NaN: relu passes it where y is NaN and gives 0 where y = 0
  // (threshold_backward), so ∂A = [[NaN, 0], [finite, finite]]. W_t's gradient mixes row 0: all NaN.
  const real nan = std::numeric_limits<real>::quiet_NaN();
  Tensor A = zeros(2, 2);
  A(0, 0) = nan;
  A(0, 1) = -1;
  A(1, 0) = 2;
  A(1, 1) = real(0.5);
  Rng rng(5);
  const Tensor W0 = rng.uniform_tensor(2, 3, -1, 1), W1 = rng.uniform_tensor(2, 3, -1, 1);
  const Tensor Y = rng.uniform_tensor(2, 3, -1, 1);
  Tape tape;
  Var a = tape.leaf(A), w0 = tape.leaf(W0), w1 = tape.leaf(W1);
  Var r = relu(a);
  CHECK(std::isnan(r.value()(0, 0)));
  const std::vector<Var> outs = {mse(matmul(r, w0), tape.input(Y)), mse(leaky_relu(matmul(r, w1)), tape.input(Y))};
  const std::vector<Var> leaves = {a, w0, w1};
  const std::vector<real> seeds = {real(1), real(-0.5)};
  BatchedSweep s;
  std::vector<std::vector<Tensor>> got;
  REQUIRE(batched(tape, outs, seeds, leaves, s, got));
  const auto want = per_output(tape, outs, seeds, leaves);
  for (std::size_t t = 0; t < 2; ++t) {
    INFO("output " << t);
    const Tensor& dA = got[t][0];
    CHECK(std::isnan(dA(0, 0)));
    CHECK(dA(0, 1) == 0);
    CHECK(std::isfinite(dA(1, 0)));
    CHECK(std::isfinite(dA(1, 1)));
    for (real v : got[t][1 + t]) CHECK(std::isnan(v));
    for (std::size_t k = 0; k < leaves.size(); ++k) {
      INFO("leaf " << k);
      for (std::size_t e = 0; e < got[t][k].size(); ++e) {
        const real x = got[t][k].data()[e], y = want[t][k].data()[e];
        INFO("entry " << e << ": batched " << x << ", per-task " << y);
        if (std::isnan(y)) CHECK(std::isnan(x));
        else CHECK(x == doctest::Approx(y).epsilon(tolerance(1e-12, 1e-5)));
      }
    }
  }
  // The finite row by hand for output 0: ∂A_1j = Σ_c G_1c W0_jc with G = 2(relu(A)·W0 − Y)/6.
  for (std::size_t j = 0; j < 2; ++j) {
    double d = 0;
    for (std::size_t c = 0; c < 3; ++c) {
      const double p = 2.0 * W0(0, c) + 0.5 * W0(1, c);
      d += 2.0 * (p - Y(1, c)) / 6.0 * W0(j, c);
    }
    CHECK(got[0][0](1, j) == doctest::Approx(d).epsilon(tolerance(1e-12, 1e-5)));
  }
}

TEST_CASE("batched sweep errors name what was wrong") {
  Tensor W = matrix({{1, 2}, {3, 4}});
  Tape tape, other;
  Var w = tape.leaf(W);
  Var y = matmul(w, w);
  BatchedSweep s;
  CHECK_THROWS_WITH_SUBSTR(s.run({real(1)}), "batched sweep: run before prepare");
  CHECK_THROWS_WITH_SUBSTR(s.prepare(tape, {}), "batched sweep: no outputs");
  CHECK_THROWS_WITH_SUBSTR(s.prepare(tape, {y}), "output 0 must be 1x1 (a loss), got [2,2]");
  Var o = other.leaf(W);
  CHECK_THROWS_WITH_SUBSTR(s.prepare(tape, {mse(o, o)}), "output 0 belongs to another tape");
  CHECK_THROWS_WITH_SUBSTR(s.run({real(1)}), "batched sweep: run before prepare");  // a failed prepare leaves nothing to run
  Var l = mse(y, tape.leaf(W));
  REQUIRE(s.prepare(tape, {l}));
  Tensor g = zeros(2, 2);
  CHECK_THROWS_WITH_SUBSTR(s.set_destination(w, 1, g.data()), "set_destination for output 1 of 1");
  CHECK_THROWS_WITH_SUBSTR(s.set_destination(y, 0, g.data()), "set_destination of a 'matmul' node; only leaves");
  CHECK_THROWS_WITH_SUBSTR(s.set_destination(o, 0, g.data()), "set_destination of a Var of another tape");
  CHECK_THROWS_WITH_SUBSTR(s.run({real(1), real(2)}), "2 seeds for 1 outputs");
}

}
