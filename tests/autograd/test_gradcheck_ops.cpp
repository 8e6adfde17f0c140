// The whole Jacobian of every op by backward (one-hot seeds) against central differences, on seeded
// random inputs kept away from the kinks (the kinks are checked by value in test_torch_fixture.cpp).
#include "test_util.hpp"

#include "mtlgrad/autograd/gradcheck.hpp"
#include "mtlgrad/autograd/ops.hpp"
#include "mtlgrad/core/rng.hpp"

using namespace mtlgrad;

namespace {

struct Row {
  std::string name;
  GradcheckFn f;
  std::vector<Tensor> inputs;
  bool zero_jacobian = false;  ///< pow(x, 0): the Jacobian is zero by definition
};

// Inputs: normals, uniforms in [lo, hi), and |x| in [0.2, 1.5) with a random sign (off the kinks).
struct Inputs {
  Rng rng{42};
  Tensor normal(std::size_t r, std::size_t c) { return rng.normal_tensor(r, c); }
  Tensor uniform(std::size_t r, std::size_t c, real lo, real hi) { return rng.uniform_tensor(r, c, lo, hi); }
  Tensor away(std::size_t r, std::size_t c) {
    Tensor t = rng.uniform_tensor(r, c, real(0.2), real(1.5));
    for (real& v : t)
      if (rng.uniform() < 0.5) v = -v;
    return t;
  }
};

GradcheckFn un(Var (*op)(Var)) {
  return [op](Tape&, const std::vector<Var>& x) { return op(x[0]); };
}
GradcheckFn bin(Var (*op)(Var, Var)) {
  return [op](Tape&, const std::vector<Var>& x) { return op(x[0], x[1]); };
}

std::vector<Row> op_table() {
  Inputs in;
  std::vector<Row> rows;
  // Binary ops: equal shapes and every broadcast, each way round ([B,n] with [1,n], [B,1], [1,1]).
  const std::vector<std::pair<std::string, std::pair<Shape, Shape>>> patterns = {
      {"[3,4]&[3,4]", {{3, 4}, {3, 4}}}, {"[3,4]&[1,4]", {{3, 4}, {1, 4}}}, {"[3,4]&[3,1]", {{3, 4}, {3, 1}}},
      {"[3,4]&[1,1]", {{3, 4}, {1, 1}}}, {"[1,4]&[3,4]", {{1, 4}, {3, 4}}}, {"[3,1]&[3,4]", {{3, 1}, {3, 4}}},
      {"[1,1]&[3,4]", {{1, 1}, {3, 4}}}, {"[3,1]&[1,4]", {{3, 1}, {1, 4}}}};
  const std::vector<std::pair<std::string, Var (*)(Var, Var)>> binary = {
      {"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
  for (const auto& [op, f] : binary)
    for (const auto& [pat, shapes] : patterns) {
      const auto [sa, sb] = shapes;
      Tensor b = op == "div" ? in.uniform(sb[0], sb[1], real(0.5), 2) : in.normal(sb[0], sb[1]);
      rows.push_back({op + " " + pat, bin(f), {in.normal(sa[0], sa[1]), b}});
    }
  rows.push_back({"add same operand twice", [](Tape&, const std::vector<Var>& x) { return x[0] + x[0]; },
                  {in.normal(2, 3)}});
  rows.push_back({"mul same operand twice", [](Tape&, const std::vector<Var>& x) { return x[0] * x[0]; },
                  {in.normal(2, 3)}});
  rows.push_back({"neg", un(neg), {in.normal(3, 4)}});
  rows.push_back({"scale", [](Tape&, const std::vector<Var>& x) { return scale(x[0], real(-1.5)); }, {in.normal(3, 4)}});
  rows.push_back({"add_scalar", [](Tape&, const std::vector<Var>& x) { return x[0] + real(2); }, {in.normal(3, 4)}});
  rows.push_back({"scalar minus", [](Tape&, const std::vector<Var>& x) { return real(2) - x[0]; }, {in.normal(3, 4)}});

  // Unary.
  rows.push_back({"exp", un(exp), {in.uniform(3, 4, -2, 2)}});
  rows.push_back({"log", un(log), {in.uniform(3, 4, real(0.5), 3)}});
  rows.push_back({"sqrt", un(sqrt), {in.uniform(3, 4, real(0.5), 3)}});
  for (real p : {real(0), real(1), real(2), real(3)})
    rows.push_back({"pow " + std::to_string(p), [p](Tape&, const std::vector<Var>& x) { return pow(x[0], p); },
                    {in.normal(3, 4)}, p == 0});
  for (real p : {real(0.5), real(-1), real(-2.5), real(1.5)})
    rows.push_back({"pow " + std::to_string(p), [p](Tape&, const std::vector<Var>& x) { return pow(x[0], p); },
                    {in.uniform(3, 4, real(0.5), 2)}});
  rows.push_back({"abs", un(abs), {in.away(3, 4)}});
  rows.push_back({"clamp min only", [](Tape&, const std::vector<Var>& x) { return clamp_min(x[0], real(-0.1)); },
                  {in.away(3, 4)}});
  rows.push_back({"clamp max only", [](Tape&, const std::vector<Var>& x) { return clamp_max(x[0], real(0.1)); },
                  {in.away(3, 4)}});
  rows.push_back({"clamp both", [](Tape&, const std::vector<Var>& x) { return clamp(x[0], real(-0.5), real(0.75)); },
                  {matrix({{-2, -0.3, 0.1}, {0.4, 0.9, 3}})}});
  rows.push_back({"tanh", un(tanh), {in.normal(3, 4)}});
  rows.push_back({"sigmoid", un(sigmoid), {in.normal(3, 4)}});
  rows.push_back({"relu", un(relu), {in.away(3, 4)}});
  rows.push_back({"leaky_relu", [](Tape&, const std::vector<Var>& x) { return leaky_relu(x[0]); }, {in.away(3, 4)}});
  rows.push_back({"leaky_relu 0.3", [](Tape&, const std::vector<Var>& x) { return leaky_relu(x[0], real(0.3)); },
                  {in.away(3, 4)}});
  rows.push_back({"softplus", [](Tape&, const std::vector<Var>& x) { return softplus(x[0]); }, {in.normal(3, 4)}});
  rows.push_back({"softplus beyond threshold", [](Tape&, const std::vector<Var>& x) { return softplus(x[0]); },
                  {matrix({{21, 25, 30}, {-3, 0.5, 40}})}});
  rows.push_back({"softplus beta 2 threshold 3", [](Tape&, const std::vector<Var>& x) { return softplus(x[0], 2, 3); },
                  {matrix({{-1, 0.3, 1.2}, {1.6, 2.5, 4}})}});

  // Linear algebra and shape.
  rows.push_back({"matmul", bin(matmul), {in.normal(3, 4), in.normal(4, 2)}});
  rows.push_back({"matmul x·x", [](Tape&, const std::vector<Var>& x) { return matmul(x[0], x[0]); }, {in.normal(3, 3)}});
  rows.push_back({"affine", [](Tape&, const std::vector<Var>& x) { return affine(x[0], x[1], x[2]); },
                  {in.normal(5, 3), in.normal(3, 4), in.normal(1, 4)}});
  rows.push_back({"transpose", un(transpose), {in.normal(3, 4)}});
  rows.push_back({"slice_cols", [](Tape&, const std::vector<Var>& x) { return slice_cols(x[0], 1, 3); }, {in.normal(3, 5)}});
  rows.push_back({"slice_rows", [](Tape&, const std::vector<Var>& x) { return slice_rows(x[0], 2, 5); }, {in.normal(5, 3)}});
  rows.push_back({"slices of one input, recombined", [](Tape&, const std::vector<Var>& x) {
                    return slice_cols(x[0], 0, 2) * slice_cols(x[0], 2, 4);
                  }, {in.normal(3, 4)}});
  rows.push_back({"concat_cols of 3", [](Tape&, const std::vector<Var>& x) { return concat_cols({x[0], x[1], x[2]}); },
                  {in.normal(3, 2), in.normal(3, 1), in.normal(3, 3)}});
  rows.push_back({"concat_rows of 3", [](Tape&, const std::vector<Var>& x) { return concat_rows({x[0], x[1], x[2]}); },
                  {in.normal(2, 3), in.normal(1, 3), in.normal(3, 3)}});
  rows.push_back({"concat_cols with a repeat", [](Tape&, const std::vector<Var>& x) {
                    return concat_cols({x[0], x[1], x[0], x[1]});
                  }, {in.normal(2, 2), in.normal(2, 1)}});

  // Images ([B, C·H·W] rows, NCHW).
  rows.push_back({"conv2d 3x3", [](Tape&, const std::vector<Var>& x) { return conv2d(x[0], x[1], x[2], {2, 5, 4}, 3); },
                  {in.normal(2, 40), in.normal(3, 18), in.normal(1, 3)}});
  rows.push_back({"conv2d 3x3 stride 2 padding 1",
                  [](Tape&, const std::vector<Var>& x) { return conv2d(x[0], x[1], x[2], {1, 5, 6}, 3, 2, 1); },
                  {in.normal(2, 30), in.normal(2, 9), in.normal(1, 2)}});
  // Distinct values a grid step apart: no tie within a window moves under the central difference.
  Tensor pool_x = zeros(2, 2 * 5 * 4);
  for (std::size_t k = 0; k < pool_x.size(); ++k) pool_x.data()[k] = real(0.1) * real((k * 37) % pool_x.size());
  rows.push_back({"max_pool2d 2", [](Tape&, const std::vector<Var>& x) { return max_pool2d(x[0], {2, 5, 4}, 2); },
                  {pool_x}});
  rows.push_back({"max_pool2d 3 stride 1", [](Tape&, const std::vector<Var>& x) { return max_pool2d(x[0], {2, 5, 4}, 3, 1); },
                  {pool_x}});

  // Reductions.
  rows.push_back({"sum", un(sum), {in.normal(3, 4)}});
  rows.push_back({"sum_rows", un(sum_rows), {in.normal(3, 4)}});
  rows.push_back({"sum_cols", un(sum_cols), {in.normal(3, 4)}});
  rows.push_back({"mean", un(mean), {in.normal(3, 4)}});
  rows.push_back({"mean_rows", un(mean_rows), {in.normal(3, 4)}});
  rows.push_back({"mean_cols", un(mean_cols), {in.normal(3, 4)}});
  rows.push_back({"log_softmax", un(log_softmax), {in.normal(3, 4)}});

  // Losses.
  rows.push_back({"mse (both differentiable)", [](Tape&, const std::vector<Var>& x) { return mse(x[0], x[1]); },
                  {in.normal(4, 3), in.normal(4, 3)}});
  const Tensor target = in.normal(4, 3);
  rows.push_back({"mse (constant target)", [target](Tape&, const std::vector<Var>& x) { return mse(x[0], target); },
                  {in.normal(4, 3)}});
  rows.push_back({"cross_entropy", [](Tape&, const std::vector<Var>& x) { return cross_entropy(x[0], {2, 0, 1, 2, 3}); },
                  {in.normal(5, 4)}});
  const Tensor bce_targets = matrix({{0, 1, 0.25}, {1, 0.5, 0}});
  rows.push_back({"binary_cross_entropy_with_logits", [bce_targets](Tape&, const std::vector<Var>& x) {
                    return binary_cross_entropy_with_logits(x[0], bce_targets);
                  }, {in.normal(2, 3)}});
  return rows;
}

}  // namespace

TEST_SUITE("gradcheck") {

TEST_CASE("every op: analytic Jacobian equals central differences") {
  const std::vector<Row> rows = op_table();
  CHECK(rows.size() > 70);
  for (const Row& r : rows) {
    INFO("op " << r.name);
    const GradcheckResult g = gradcheck(r.f, r.inputs);
    CHECK_MESSAGE(g.ok, g.report);
    // Not a vacuous pass: the Jacobian has the full size and something in it is non-zero.
    std::size_t n = 0;
    for (const Tensor& x : r.inputs) n += x.size();
    CHECK(g.analytic.shape(1) == n);
    CHECK((xt::amax(xt::abs(g.analytic))() > 0) != r.zero_jacobian);
  }
}

TEST_CASE("a composition: two-layer tanh network with a softmax loss") {
  Rng rng(7);
  auto f = [](Tape&, const std::vector<Var>& x) {
    Var h = tanh(affine(x[0], x[1], x[2]));
    return cross_entropy(matmul(h, x[3]), {0, 2, 1, 1});
  };
  const GradcheckResult g =
      gradcheck(f, {rng.normal_tensor(4, 3), rng.normal_tensor(3, 5), rng.normal_tensor(1, 5), rng.normal_tensor(5, 3)});
  CHECK_MESSAGE(g.ok, g.report);
}

TEST_CASE("gradcheck is deterministic") {
  Rng rng(3);
  const Tensor x = rng.normal_tensor(3, 3);
  auto f = [](Tape&, const std::vector<Var>& v) { return log_softmax(v[0]); };
  const GradcheckResult a = gradcheck(f, {x}), b = gradcheck(f, {x});
  CHECK(a.analytic == b.analytic);
  CHECK(a.numeric == b.numeric);
}

}  // TEST_SUITE
