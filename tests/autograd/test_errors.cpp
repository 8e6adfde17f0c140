// Every error path of the tape and the ops: std::invalid_argument (or logic_error for a Var used
// unassigned) whose message names the op and the shapes or values involved.
#include <cmath>
#include <limits>

#include "test_util.hpp"

#include "mtlgrad/autograd/ops.hpp"

using namespace mtlgrad;

TEST_SUITE("errors") {

TEST_CASE("binary ops name themselves and both shapes when the shapes do not broadcast") {
  Tape t;
  const Tensor a0 = zeros(2, 3), b0 = zeros(3, 2), c0 = zeros(2, 2), d0 = zeros(1, 2);
  Var a = t.leaf(a0), b = t.leaf(b0), c = t.leaf(c0), d = t.leaf(d0);
  CHECK_THROWS_AS(add(a, b), std::invalid_argument);
  CHECK_THROWS_WITH_SUBSTR(add(a, b), "add: shapes [2,3] and [3,2] do not broadcast");
  CHECK_THROWS_WITH_SUBSTR(sub(a, c), "sub: shapes [2,3] and [2,2] do not broadcast");
  CHECK_THROWS_WITH_SUBSTR(mul(d, a), "mul: shapes [1,2] and [2,3] do not broadcast");
  CHECK_THROWS_WITH_SUBSTR(div(b, a), "div: shapes [3,2] and [2,3] do not broadcast");
  CHECK_THROWS_WITH_SUBSTR(a + b, "add: shapes");
  CHECK_THROWS_WITH_SUBSTR(a * b, "mul: shapes");
}

TEST_CASE("matmul and affine name the inner sizes") {
  Tape t;
  const Tensor x0 = zeros(4, 3), w0 = zeros(2, 5), w1 = zeros(3, 5), b0 = zeros(1, 4), b1 = zeros(2, 5);
  Var x = t.leaf(x0), w = t.leaf(w0), wok = t.leaf(w1), b = t.leaf(b0), b2 = t.leaf(b1);
  CHECK_THROWS_WITH_SUBSTR(matmul(x, w), "matmul: shapes [4,3] and [2,5] do not multiply (inner sizes 3 and 2)");
  CHECK_THROWS_WITH_SUBSTR(affine(x, w, b), "affine: shapes x [4,3], W [2,5], b [1,4] do not fit x·W + b");
  CHECK_THROWS_WITH_SUBSTR(affine(x, wok, b), "b [1,4] do not fit");  // bias width
  CHECK_THROWS_WITH_SUBSTR(affine(x, wok, b2), "expected [B,in], [in,out], [1,out]");  // bias rows
}

TEST_CASE("slices name the range and the shape") {
  Tape t;
  const Tensor x0 = zeros(2, 3);
  Var x = t.leaf(x0);
  CHECK_THROWS_WITH_SUBSTR(slice_cols(x, 1, 4), "slice_cols: range [1, 4) is outside columns [0, 3) of shape [2,3]");
  CHECK_THROWS_WITH_SUBSTR(slice_cols(x, 2, 1), "slice_cols: range [2, 1)");
  CHECK_THROWS_WITH_SUBSTR(slice_rows(x, 0, 3), "slice_rows: range [0, 3) is outside rows [0, 2) of shape [2,3]");
  CHECK_THROWS_WITH_SUBSTR(slice_rows(x, 3, 3), "slice_rows: range [3, 3)");
  CHECK(slice_cols(x, 3, 3).shape() == Shape{2, 0});  // an empty slice at the end is allowed
}

TEST_CASE("concatenations name the mismatching shapes, an empty list, foreign tapes") {
  Tape t, other;
  const Tensor a0 = zeros(2, 3), b0 = zeros(3, 3), c0 = zeros(2, 1);
  Var a = t.leaf(a0), b = t.leaf(b0), c = t.leaf(c0), o = other.leaf(a0);
  CHECK_THROWS_WITH_SUBSTR(concat_cols({a, c, b}), "concat_cols: shapes [2,3] and [3,3] differ in rows");
  CHECK_THROWS_WITH_SUBSTR(concat_rows({a, b, c}), "concat_rows: shapes [2,3] and [2,1] differ in columns");
  CHECK_THROWS_WITH_SUBSTR(concat_cols({}), "concat_cols: no inputs");
  CHECK_THROWS_WITH_SUBSTR(concat_rows({}), "concat_rows: no inputs");
  CHECK_THROWS_WITH_SUBSTR(concat_cols({a, o}), "concat_cols: operands belong to different tapes");
}

TEST_CASE("losses name the label count, the label range and the shapes") {
  Tape t;
  const Tensor x0 = zeros(2, 4), y0 = zeros(4, 2), e0 = zeros(0, 4);
  Var x = t.leaf(x0), y = t.leaf(y0), e = t.leaf(e0);
  CHECK_THROWS_WITH_SUBSTR(cross_entropy(x, {0, 1, 2}), "cross_entropy: 3 labels for logits [2,4] (one label per row)");
  CHECK_THROWS_WITH_SUBSTR(cross_entropy(x, {0}), "cross_entropy: 1 labels for logits [2,4]");
  CHECK_THROWS_WITH_SUBSTR(cross_entropy(x, {0, 4}), "cross_entropy: label 4 at row 1 is out of range for 4 classes");
  CHECK_THROWS_WITH_SUBSTR(cross_entropy(e, {}), "cross_entropy: empty batch [0,4]");
  CHECK_THROWS_WITH_SUBSTR(mse(x, y), "mse: prediction [2,4] and target [4,2] differ in shape");
  CHECK_THROWS_WITH_SUBSTR(mse(x, zeros(2, 3)), "mse: prediction [2,4] and target [2,3] differ in shape");
  CHECK_THROWS_WITH_SUBSTR(mse(e, zeros(0, 4)), "mse: empty prediction [0,4]");
  CHECK_THROWS_WITH_SUBSTR(binary_cross_entropy_with_logits(x, zeros(4, 2)),
                           "binary_cross_entropy_with_logits: logits [2,4] and targets [4,2] differ in shape");
  CHECK_THROWS_WITH_SUBSTR(binary_cross_entropy_with_logits(e, zeros(0, 4)), "binary_cross_entropy_with_logits: empty");
}

TEST_CASE("clamp bounds and softplus beta are checked") {
  Tape t;
  const Tensor x0 = zeros(1, 2);
  Var x = t.leaf(x0);
  CHECK_THROWS_WITH_SUBSTR(clamp(x, 1, -1), "clamp: bounds [1.000000, -1.000000] are not an interval");
  CHECK_THROWS_WITH_SUBSTR(clamp(x, std::nan(""), 1), "clamp: bounds [nan, 1.000000] are not an interval");
  CHECK_THROWS_WITH_SUBSTR(clamp_min(x, std::numeric_limits<real>::quiet_NaN()), "clamp: bounds [nan");
  CHECK_NOTHROW(clamp(x, 1, 1));  // a point interval is allowed
  CHECK_THROWS_WITH_SUBSTR(softplus(x, 0), "softplus: beta must be > 0, got 0.000000");
  CHECK_THROWS_WITH_SUBSTR(softplus(x, -2), "softplus: beta must be > 0, got -2.000000");
}

TEST_CASE("reductions of empty inputs") {
  Tape t;
  const Tensor r0 = zeros(0, 3), c0 = zeros(3, 0);
  Var r = t.leaf(r0), c = t.leaf(c0);
  CHECK_THROWS_WITH_SUBSTR(mean(r), "mean: empty input [0,3]");
  CHECK_THROWS_WITH_SUBSTR(mean(c), "mean: empty input [3,0]");
  CHECK_THROWS_WITH_SUBSTR(mean_rows(r), "mean_rows: no rows in [0,3]");
  CHECK_THROWS_WITH_SUBSTR(mean_cols(c), "mean_cols: no columns in [3,0]");
  CHECK_THROWS_WITH_SUBSTR(log_softmax(c), "log_softmax: no columns in [3,0]");
  CHECK(sum(r).item() == 0);  // the empty sum is 0, as in PyTorch
}

TEST_CASE("backward and grad: non-scalar outputs, seed shapes, foreign tapes, unassigned Vars") {
  Tape t, other;
  const Tensor a0 = zeros(2, 3);
  Var a = t.leaf(a0), s = sum(a), o = other.leaf(a0), os = sum(o);
  CHECK_THROWS_WITH_SUBSTR(t.backward(a), "backward: the output must be 1x1 (a loss), got [2,3]; pass a seed");
  CHECK_THROWS_WITH_SUBSTR(t.grad(a, {a}), "grad: the output must be 1x1 (a loss), got [2,3]");
  CHECK_THROWS_WITH_SUBSTR(t.backward(a, zeros(3, 2)), "backward: seed shape [3,2] differs from output shape [2,3]");
  std::vector<Tensor> g;
  CHECK_THROWS_WITH_SUBSTR(t.grad(a, zeros(1, 1), {a}, g), "seed shape [1,1] differs from output shape [2,3]");
  CHECK_THROWS_WITH_SUBSTR(t.backward(os), "backward: the output belongs to another tape");
  CHECK_THROWS_WITH_SUBSTR(t.grad(s, {o}), "grad: a variable belongs to another tape");
  CHECK_THROWS_WITH_SUBSTR(add(a, o), "add: operands belong to different tapes");
  const Tensor w0 = zeros(3, 1);
  Var ow = other.leaf(w0);
  CHECK_THROWS_WITH_SUBSTR(matmul(a, ow), "matmul: operands belong to different tapes");
  CHECK_THROWS_WITH_SUBSTR(a.item(), "item: expected a 1x1 value, got [2,3] (op leaf)");
  Var unassigned;
  CHECK_FALSE(unassigned.valid());
  CHECK_THROWS_AS(unassigned.value(), std::logic_error);
  CHECK_THROWS_WITH_SUBSTR(tanh(unassigned), "Var: used before being assigned a node");
}

TEST_CASE("a failed op leaves the tape unchanged") {
  Tape t, other;
  const Tensor a0 = zeros(2, 3), b0 = zeros(3, 2);
  Var a = t.leaf(a0), b = t.leaf(b0), o = other.leaf(a0);
  const std::size_t n = t.size();
  CHECK_THROWS(add(a, o));
  CHECK_THROWS(add(a, b));
  CHECK_THROWS(matmul(a, a));
  CHECK_THROWS(concat_rows({a, b}));
  CHECK(t.size() == n);
  CHECK(other.size() == 1);
}

}  // TEST_SUITE
