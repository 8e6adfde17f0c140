// The public view of a recording: Tape::op, inputs and value (Node itself is not installed).
#include "test_util.hpp"
#include "mtlgrad/autograd/batched.hpp"
#include "mtlgrad/autograd/ops.hpp"

using namespace mtlgrad;

TEST_CASE("tape inspection: op names, input indices and values in creation order") {
  Tape t;
  const Tensor a0 = matrix({{2}}), b0 = matrix({{-3}});
  Var a = t.leaf(a0), b = t.input(b0);
  Var c = a * b;         // #2 = -6
  Var d = relu(c + a);   // #3 = -4, #4 = 0
  REQUIRE(t.size() == 5);
  CHECK(std::string(t.op(0)) == "leaf");
  CHECK(std::string(t.op(1)) == "input");
  CHECK(std::string(t.op(2)) == "mul");
  CHECK(std::string(t.op(3)) == "add");
  CHECK(std::string(t.op(4)) == "relu");
  CHECK(t.inputs(0).empty());
  CHECK(t.inputs(2) == std::vector<std::uint32_t>{0, 1});
  CHECK(t.inputs(3) == std::vector<std::uint32_t>{2, 0});
  CHECK(t.inputs(4) == std::vector<std::uint32_t>{3});
  CHECK(&t.value(0) == &a0);  // a leaf's value is the bound tensor itself
  CHECK(t.value(2)(0, 0) == -6);
  CHECK(t.value(3)(0, 0) == -4);
  CHECK(t.value(4)(0, 0) == 0);
  CHECK(d.item() == 0);
}

TEST_CASE("tape inspection: an index past the recording throws and names it") {
  Tape t;
  const Tensor a0 = matrix({{1}});
  t.leaf(a0);
  CHECK_THROWS_WITH_SUBSTR(t.op(1), "Tape::op: node 1 of a recording of 1 nodes");
  CHECK_THROWS_WITH_SUBSTR(t.inputs(5), "Tape::inputs: node 5");
  t.clear();
  CHECK_THROWS_WITH_SUBSTR(t.value(0), "Tape::value: node 0 of a recording of 0 nodes");
}

TEST_CASE("tape: a stale Var is refused by every entry point with one line naming the problem") {
  Tape t;
  const Tensor a0 = row({1, 2}), b0 = row({3, 4});
  Var old = t.leaf(a0);
  Var old_loss = sum(old);
  t.clear();
  t.clear();  // two generations later: still stale, and the message says where the tape is
  const Tensor zero = row({0, 0});
  Var fresh = t.leaf(b0);
  Var fresh_loss = mse(fresh, t.constant(zero));  // mse: an op with a batched VJP
  try {
    (void)old.index();
    FAIL("a stale Var was accepted");
  } catch (const std::logic_error& e) {
    const std::string m = e.what();
    CHECK(m == "Var: stale: node 0 was recorded before the tape's clear() (recording 0, the tape is at 2); "
               "record it again after clear()");
    CHECK(m.find('\n') == std::string::npos);
  }
  CHECK_THROWS_WITH_SUBSTR(old + fresh, "stale");        // an op with one stale operand
  CHECK_THROWS_WITH_SUBSTR(fresh * old, "stale");
  CHECK_THROWS_WITH_SUBSTR(t.backward(old_loss), "stale");
  CHECK_THROWS_WITH_SUBSTR(old_loss.item(), "stale");
  BatchedSweep s;
  CHECK_THROWS_WITH_SUBSTR(s.prepare(t, {old_loss}), "stale");
  REQUIRE(s.prepare(t, {fresh_loss}));
  real dst[2] = {0, 0};
  CHECK_THROWS_WITH_SUBSTR(s.set_destination(old, 0, dst), "stale");
  // The fresh recording is untouched by the refused calls: ∂ mean(b²)/∂b = 2b/2 = (3, 4).
  s.set_destination(fresh, 0, dst);
  s.run({real(1)});
  CHECK(dst[0] == 3);
  CHECK(dst[1] == 4);
}
