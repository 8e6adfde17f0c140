// Values and vector–Jacobian products of every op, the kinks, compositions and the CAGrad toy,
// against PyTorch float64 (tests/fixtures/autograd_torch.json, tools/gen_autograd_fixtures.py),
// and of NaN and infinity through every op (autograd_torch_nan.json, tools/gen_autograd_nan_fixtures.py).
#include <functional>
#include <map>
#include <set>

#include "autograd/torch_fixture.hpp"
#include "mtlgrad/autograd/ops.hpp"

using namespace mtlgrad;
using mtlgrad::test::nested;

namespace {

struct Case {
  std::vector<Tensor> consts;
  std::vector<std::size_t> labels;
};
using Builder = std::function<Var(Tape&, const std::vector<Var>&, const Case&)>;

Builder unary(Var (*op)(Var)) {
  return [op](Tape&, const std::vector<Var>& x, const Case&) { return op(x[0]); };
}

// The CAGrad toy of docs/algorithms.md on x = [x1 x2] (1×2), written as the generator writes it.
Var toy(Var x, int which) {
  const real lower = real(5e-6);
  Var x1 = slice_cols(x, 0, 1), x2 = slice_cols(x, 1, 2);
  Var f_log = which == 1 ? log(clamp_min(abs(real(0.5) * (-x1 - real(7)) - tanh(-x2)), lower)) + real(6)
                         : log(clamp_min(abs(real(0.5) * (-x1 + real(3)) + tanh(-x2) + real(2)), lower)) + real(6);
  Var c1 = clamp_min(tanh(real(0.5) * x2), 0);
  Var c2 = clamp_min(tanh(real(-0.5) * x2), 0);
  Var dx1 = which == 1 ? -x1 + real(7) : -x1 - real(7);
  Var f_sq = (pow(dx1, 2) + real(0.1) * pow(-x2 - real(8), 2)) * real(0.1) - real(20);
  return c1 * f_log + c2 * f_sq;
}

std::map<std::string, Builder> builders() {
  std::map<std::string, Builder> b;
  const std::map<std::string, Var (*)(Var, Var)> binary = {{"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
  for (const auto& [name, op] : binary)
    for (const char* pattern : {"eq", "row", "col", "scalar", "row_rev", "col_rev", "scalar_rev", "outer"})
      b[name + "_" + pattern] = [op = op](Tape&, const std::vector<Var>& x, const Case&) { return op(x[0], x[1]); };

  b["neg"] = unary(neg);
  b["scale"] = unary([](Var x) { return real(-2.5) * x; });
  b["plus_const"] = unary([](Var x) { return x + real(1.75); });
  b["const_minus"] = unary([](Var x) { return real(1.75) - x; });
  b["exp"] = unary(exp);
  b["log"] = unary(log);
  b["sqrt"] = unary(sqrt);
  for (const auto& [tag, p] : std::map<std::string, real>{
           {"0", 0}, {"1", 1}, {"2", 2}, {"3", 3}, {"0.5", real(0.5)}, {"-1", -1}, {"-2.5", real(-2.5)}})
    b["pow_" + tag] = [p = p](Tape&, const std::vector<Var>& x, const Case&) { return pow(x[0], p); };
  b["abs"] = unary(abs);
  b["clamp_min"] = unary([](Var x) { return clamp_min(x, real(-0.5)); });
  b["clamp_max"] = unary([](Var x) { return clamp_max(x, real(0.5)); });
  b["clamp_both"] = unary([](Var x) { return clamp(x, real(-0.5), real(0.75)); });
  b["tanh"] = unary(tanh);
  b["sigmoid"] = unary(sigmoid);
  b["relu"] = unary(relu);
  b["leaky_relu"] = unary([](Var x) { return leaky_relu(x); });
  b["leaky_relu_0.2"] = unary([](Var x) { return leaky_relu(x, real(0.2)); });
  b["softplus"] = unary([](Var x) { return softplus(x); });
  b["softplus_beta2_th5"] = unary([](Var x) { return softplus(x, 2, 5); });

  b["matmul"] = [](Tape&, const std::vector<Var>& x, const Case&) { return matmul(x[0], x[1]); };
  b["matmul_self"] = [](Tape&, const std::vector<Var>& x, const Case&) { return matmul(x[0], x[0]); };
  b["affine"] = [](Tape&, const std::vector<Var>& x, const Case&) { return affine(x[0], x[1], x[2]); };
  b["transpose"] = unary(transpose);
  b["slice_cols"] = unary([](Var x) { return slice_cols(x, 1, 3); });
  b["slice_rows"] = unary([](Var x) { return slice_rows(x, 1, 4); });
  b["concat_cols"] = [](Tape&, const std::vector<Var>& x, const Case&) { return concat_cols({x[0], x[1], x[2]}); };
  b["concat_rows"] = [](Tape&, const std::vector<Var>& x, const Case&) { return concat_rows({x[0], x[1], x[2]}); };
  b["concat_cols_reuse"] = [](Tape&, const std::vector<Var>& x, const Case&) {
    return concat_cols({x[0], x[1], x[0]});
  };

  b["sum"] = unary(sum);
  b["sum_rows"] = unary(sum_rows);
  b["sum_cols"] = unary(sum_cols);
  b["mean"] = unary(mean);
  b["mean_rows"] = unary(mean_rows);
  b["mean_cols"] = unary(mean_cols);
  b["log_softmax"] = unary(log_softmax);

  b["mse"] = [](Tape&, const std::vector<Var>& x, const Case&) { return mse(x[0], x[1]); };
  b["mse_const"] = [](Tape&, const std::vector<Var>& x, const Case& c) { return mse(x[0], c.consts[0]); };
  b["cross_entropy"] = [](Tape&, const std::vector<Var>& x, const Case& c) { return cross_entropy(x[0], c.labels); };
  b["bce_with_logits"] = [](Tape&, const std::vector<Var>& x, const Case& c) {
    return binary_cross_entropy_with_logits(x[0], c.consts[0]);
  };

  b["reuse"] = unary([](Var x) { return x * exp(x) - x / (real(1) + x * x); });
  b["tanh_layer"] = [](Tape&, const std::vector<Var>& x, const Case&) {
    return sum_cols(tanh(matmul(x[0], x[1]) + x[2]));
  };
  b["logsumexp"] = unary([](Var x) { return log(sum_cols(exp(x))); });
  b["softmax_weighted"] = [](Tape&, const std::vector<Var>& x, const Case&) {
    return sum_cols(exp(log_softmax(x[0])) * x[1]);
  };
  b["normalize"] = unary([](Var x) { return x / sqrt(sum_cols(x * x) + real(1e-3)); });
  b["sigmoid_gate"] = [](Tape&, const std::vector<Var>& x, const Case&) {
    return sigmoid(x[0]) * tanh(x[1]) + relu(x[0] - x[1]);
  };
  b["cagrad_f1"] = unary([](Var x) { return toy(x, 1); });
  b["cagrad_f2"] = unary([](Var x) { return toy(x, 2); });
  return b;
}

}  // namespace

TEST_SUITE("torch fixture") {

TEST_CASE("every op, kink and composition matches PyTorch float64 in value and VJP") {
  const auto fixture = mtlgrad::test::load_fixture("autograd_torch.json");
  const auto table = builders();
  std::set<std::string> used;
  REQUIRE(fixture.at("cases").size() > 100);
  for (const auto& c : fixture.at("cases")) {
    const std::string name = c.at("name"), expr = c.at("expr");
    INFO("case " << name);
    const auto it = table.find(expr);
    REQUIRE_MESSAGE(it != table.end(), "no builder for expression '" << expr << "'");
    used.insert(expr);
    std::vector<Tensor> inputs;
    for (const auto& j : c.at("inputs")) inputs.push_back(nested(j));
    Case extra;
    if (c.contains("consts"))
      for (const auto& j : c.at("consts")) extra.consts.push_back(nested(j));
    if (c.contains("labels")) extra.labels = c.at("labels").get<std::vector<std::size_t>>();
    const double floor = c.value("floor", 1.0);

    Tape t;
    std::vector<Var> xs;
    for (const Tensor& x : inputs) xs.push_back(t.leaf(x));
    Var y = it->second(t, xs, extra);
    const double value_err = mtlgrad::test::max_rel_err_floor(y.value(), nested(c.at("value")), floor);
    CHECK_MESSAGE(value_err <= mtlgrad::test::kTorchTol, "value: max rel err " << value_err);
    std::vector<Tensor> g;
    t.grad(y, nested(c.at("seed")), xs, g);
    for (std::size_t k = 0; k < xs.size(); ++k) {
      const double err = mtlgrad::test::max_rel_err_floor(g[k], nested(c.at("grads")[k]), floor);
      CHECK_MESSAGE(err <= mtlgrad::test::kTorchTol, "gradient of input " << k << ": max rel err " << err);
    }
  }
  // Both tables list the same expressions: a builder without a golden case is a gap in the fixture.
  for (const auto& [expr, _] : table) CHECK_MESSAGE(used.count(expr), "builder '" << expr << "' has no golden case");
}

TEST_CASE("NaN and infinity through every op: PyTorch float64's values and VJPs") {
  // tests/fixtures/autograd_torch_nan.json (tools/gen_autograd_nan_fixtures.py): NaN exactly where
  // torch has NaN, the same infinities, the finite entries to the usual tolerance.
  const auto fixture = mtlgrad::test::load_fixture("autograd_torch_nan.json");
  const auto table = builders();
  REQUIRE(fixture.at("cases").size() > 50);
  for (const auto& c : fixture.at("cases")) {
    const std::string name = c.at("name"), expr = c.at("expr");
    INFO("case " << name);
    const auto it = table.find(expr);
    REQUIRE_MESSAGE(it != table.end(), "no builder for expression '" << expr << "'");
    Case extra;
    if (c.contains("consts"))
      for (const auto& j : c.at("consts")) extra.consts.push_back(nested(j));
    if (c.contains("labels")) extra.labels = c.at("labels").get<std::vector<std::size_t>>();
    std::vector<Tensor> inputs;  // the leaves refer to them
    for (const auto& j : c.at("inputs")) inputs.push_back(nested(j));
    Tape t;
    std::vector<Var> xs;
    for (const Tensor& x : inputs) xs.push_back(t.leaf(x));
    Var y = it->second(t, xs, extra);
    const Tensor want = nested(c.at("value"));
    CHECK_MESSAGE(mtlgrad::test::nonfinite_mismatch(y.value(), want) == "", "value");
    CHECK(mtlgrad::test::max_rel_err_finite(y.value(), want, 1.0) <= mtlgrad::test::kTorchTol);
    std::vector<Tensor> g;
    t.grad(y, nested(c.at("seed")), xs, g);
    for (std::size_t k = 0; k < xs.size(); ++k) {
      INFO("gradient of input " << k);
      const Tensor gw = nested(c.at("grads")[k]);
      CHECK(mtlgrad::test::nonfinite_mismatch(g[k], gw) == "");
      CHECK(mtlgrad::test::max_rel_err_finite(g[k], gw, 1.0) <= mtlgrad::test::kTorchTol);
    }
  }
}

TEST_CASE("kinks take PyTorch's one-sided values (by hand, beside the fixture)") {
  // abs'(0) = 0, relu'(0) = 0, leaky_relu'(0) = slope, clamp passes at x == lo and x == hi,
  // d(x^0)/dx = 0 even at x = 0.
  Tape t;
  const Tensor x0 = row({-1, 0, 2});
  Var x = t.leaf(x0);
  CHECK(t.grad(sum(abs(x)), {x})[0] == row({-1, 0, 1}));
  CHECK(t.grad(sum(relu(x)), {x})[0] == row({0, 0, 1}));
  CHECK(t.grad(sum(leaky_relu(x, real(0.25))), {x})[0] == row({real(0.25), real(0.25), 1}));
  CHECK(t.grad(sum(pow(x, 0)), {x})[0] == row({0, 0, 0}));
  const Tensor c0 = row({-2, -1, 0, 1, 2});
  Var c = t.leaf(c0);
  CHECK(t.grad(sum(clamp(c, -1, 1)), {c})[0] == row({0, 1, 1, 1, 0}));
  CHECK(t.grad(sum(clamp_min(c, 0)), {c})[0] == row({0, 0, 1, 1, 1}));
  CHECK(t.grad(sum(clamp_max(c, 0)), {c})[0] == row({1, 1, 1, 0, 0}));
}

}  // TEST_SUITE
