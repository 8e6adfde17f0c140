// The gradient-surgery family beyond the Gramian weightings: gradvac (stateful surgery), graddrop and
// rlw (random), dwa and uw (loss-based); and the contract every family stage keeps (T = 1, zero J,
// bad input, options).
#include "test_util.hpp"

#include <xtensor/xview.hpp>
#include "spatial/spatial_util.hpp"

#include <cmath>
#include <limits>

#include <xtensor/xview.hpp>

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/gradvac.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;

namespace {


Tensor from_json(const json& j) {
  Tensor t = zeros(j.size(), j[0].size());
  for (std::size_t i = 0; i < j.size(); ++i)
    for (std::size_t k = 0; k < j[i].size(); ++k) t(i, k) = j[i][k].get<real>();
  return t;
}

// One step of `a`: losses first when given (the trainer's order), then aggregate.
Aggregation step(Aggregator& a, const Tensor& J, Rng& rng, const std::vector<real>& losses = {}) {
  if (!losses.empty()) a.observe_losses(losses);
  Aggregation out;
  a.aggregate(J, rng, out);
  return out;
}

const std::vector<std::string> kFamily = {"mgda", "cagrad", "gradvac", "imtl-g", "aligned-mtl", "upgrad",
                                          "dualproj", "graddrop", "nash-mtl", "rlw", "dwa", "uw"};

bool loss_based(const std::string& name) { return name == "dwa" || name == "uw"; }

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("gradvac: a fresh gradvac equals pcgrad (fixed and random order and both reductions)") {
  Rng g(61);
  for (std::size_t T = 2; T <= 5; ++T)
    for (int trial = 0; trial < 10; ++trial) {
      const Tensor J = g.normal_tensor(T, 6);
      for (const char* order : {"fixed", "random"})
        for (const char* red : {"sum", "mean"}) {
          const json opts = {{"order", order}, {"reduction", red}};
          json gv = opts, pc = opts;
          gv["name"] = "gradvac";
          pc["name"] = "pcgrad";
          Rng r1(trial), r2(trial);
          const auto a = step(*make_aggregator(gv), J, r1);
          const auto b = step(*make_aggregator(pc), J, r2);
          CHECK_TENSOR_NEAR(a.direction, b.direction, tolerance(1e-12, 1e-4));
          CHECK_TENSOR_NEAR(as_row(a.weights), as_row(b.weights), tolerance(1e-12, 1e-4));
          CHECK(r1 == r2);  // the same draws
        }
    }
}

TEST_CASE("gradvac: by hand with targets 0.5 on orthogonal gradients") {
  // g1 = (1,0), g2 = (0,1), φ̂ = 0.5: cos = 0 < 0.5, so g1' = g1 + g2·(0.5·1 − 0)/(1·√0.75) = (1, 1/√3),
  // whose cosine with g2 is exactly the target 0.5; symmetric for g2'. d = (1 + 1/√3)(1, 1);
  // the targets move to (1 − β)·0.5 + β·0 = 0.25.
  GradVac a(SurgeryOptions{SurgeryOptions::Order::fixed, SurgeryOptions::Reduction::sum}, real(0.5));
  a.load_state({{"t", 1}, {"tasks", 2}, {"phi", tensor_to_json(matrix({{0, 0.5}, {0.5, 0}}))}});
  Rng rng(0);
  const auto out = step(a, matrix({{1, 0}, {0, 1}}), rng);
  const real c = 1 + 1 / std::sqrt(real(3));
  CHECK_TENSOR_NEAR(out.direction, row({c, c}), tolerance(1e-15, 1e-6));
  CHECK_TENSOR_NEAR(a.targets(), matrix({{0, 0.25}, {0.25, 0}}), tolerance(1e-15, 1e-6));
  CHECK(a.state()["t"] == 2);
}

TEST_CASE("gradvac: three steps against the numpy pseudo-code (tools/gen_family_golden.py)") {
  const json fx = load_fixture("family_golden.json")["gradvac"];
  auto a = make_aggregator({{"name", "gradvac"}, {"order", "fixed"}, {"beta", fx["beta"]}});
  Rng rng(0);
  for (std::size_t s = 0; s < 3; ++s) {
    const auto out = step(*a, from_json(fx["J"][s]), rng);
    CHECK_TENSOR_NEAR(out.direction, from_json(json::array({fx["d"][s]})), tolerance(1e-12, 1e-4));
  }
  CHECK_TENSOR_NEAR(tensor_from_json(a->state()["phi"], "phi"), from_json(fx["phi"]), tolerance(1e-12, 1e-4));
  // Step 2 differs from pcgrad: the memory matters.
  auto pc = make_aggregator({{"name", "pcgrad"}, {"order", "fixed"}});
  CHECK(max_rel_err(step(*pc, from_json(fx["J"][2]), rng).direction, from_json(json::array({fx["d"][2]}))) > 1e-3);
}

TEST_CASE("gradvac: state round trip is bit-identical and reset and errors name what is wrong") {
  Rng g(67);
  const Tensor J1 = g.normal_tensor(3, 4), J2 = g.normal_tensor(3, 4), J3 = g.normal_tensor(3, 4);
  auto a = make_aggregator({{"name", "gradvac"}});
  Rng r(5);
  step(*a, J1, r);
  step(*a, J2, r);
  const json saved = a->state();
  const json rng_saved = r.state();
  const auto cont = step(*a, J3, r);
  auto b = make_aggregator({{"name", "gradvac"}});
  b->load_state(json::parse(saved.dump()));
  Rng r2(0);
  r2.load_state(rng_saved);
  const auto resumed = step(*b, J3, r2);
  CHECK(resumed.direction == cont.direction);
  CHECK(b->state() == a->state());
  a->reset();
  CHECK(a->state()["t"] == 0);
  Rng r3(9), r4(9);
  CHECK(step(*a, J1, r3).direction == step(*make_aggregator({{"name", "gradvac"}}), J1, r4).direction);
  CHECK_THROWS_WITH_SUBSTR(step(*a, g.normal_tensor(2, 4), r3), "gradvac: the Jacobian has T = 2 tasks but the state holds T = 3");
  CHECK_THROWS_WITH_SUBSTR(a->load_state({{"t", 1}}), "gradvac: load_state: expected {\"t\": n, \"tasks\": T");
  CHECK_THROWS_WITH_SUBSTR(a->load_state({{"t", 1}, {"tasks", 2}}), "gradvac: load_state: 'phi' is missing");
  CHECK_THROWS_WITH_SUBSTR(a->load_state({{"t", 1}, {"tasks", 3}, {"phi", tensor_to_json(matrix({{0, 1}, {1, 0}}))}}),
                           "gradvac: load_state: 'phi' has shape [2,2], expected [3,3]");
}

TEST_CASE("graddrop: the sign masks by hand with the Rng's uniforms and leak 1 is the sum") {
  // Column 0: both positive, P = 1 > U: both kept. Column 1: P = (1 + (−2 + 1)/3)/2 = 1/3: the positive
  // entry survives when U < 1/3, the negative one otherwise. Column 2: all zero, P = ½, d = 0.
  const Tensor J = matrix({{1, -2, 0}, {3, 1, 0}});
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed), draws(seed);
    const auto out = step(*make_aggregator({{"name", "graddrop"}}), J, rng);
    draws.uniform();
    const real u1 = real(draws.uniform());
    CHECK_TENSOR_NEAR(out.direction, row({4, u1 < real(1) / 3 ? real(1) : real(-2), 0}), 0);
    CHECK(out.weights.empty());
    CHECK(rng == (draws.uniform(), draws));  // exactly one uniform per coordinate
  }
  Rng rng(3);
  Rng g(71);
  const Tensor Jr = g.normal_tensor(4, 9);
  CHECK_TENSOR_NEAR(step(*make_aggregator({{"name", "graddrop"}, {"leak", 1}}), Jr, rng).direction,
                    step(*make_aggregator("sum"), Jr, rng).direction, tolerance(1e-15, 1e-6));
  // leak ½: halfway between the masked direction (leak 0) and the sum, with the same draws.
  Rng ra(4), rb(4), rc(4);
  const Tensor d0 = step(*make_aggregator({{"name", "graddrop"}}), Jr, ra).direction;
  const Tensor dh = step(*make_aggregator({{"name", "graddrop"}, {"leak", 0.5}}), Jr, rb).direction;
  const Tensor ds = step(*make_aggregator("sum"), Jr, rc).direction;
  const Tensor mid = (d0 + ds) / real(2);
  CHECK_TENSOR_NEAR(dh, mid, tolerance(1e-15, 1e-6));
}

TEST_CASE("rlw: weights are the softmax of T normal draws of the Rng") {
  Rng g(73);
  const Tensor J = g.normal_tensor(3, 5);
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    Rng rng(seed), draws(seed);
    const auto out = step(*make_aggregator("rlw"), J, rng);
    real e[3], s = 0;
    for (real& x : e) s += (x = std::exp(draws.normal()));
    CHECK_TENSOR_NEAR(as_row(out.weights), row({e[0] / s, e[1] / s, e[2] / s}), tolerance(1e-15, 1e-6));
    Tensor d = zeros(1, 5);
    for (std::size_t i = 0; i < 3; ++i) xt::view(d, 0, xt::all()) += out.weights[i] * xt::view(J, i, xt::all());
    CHECK_TENSOR_NEAR(out.direction, d, tolerance(1e-15, 1e-6));
  }
}

TEST_CASE("dwa: weights 1 for two steps then T softmax of the loss ratios over the temperature") {
  const Tensor J = matrix({{1, 0}, {0, 1}});
  auto a = make_aggregator("dwa");
  Rng rng(0);
  CHECK(step(*a, J, rng, {1, 2}).weights == std::vector<real>{1, 1});
  CHECK(step(*a, J, rng, {0.5, 1.5}).weights == std::vector<real>{1, 1});
  // Step 3: r = (0.5/1, 1.5/2) = (0.5, 0.75); w = 2 e^{r/2} / Σ e^{r/2}.
  const real e1 = std::exp(real(0.25)), e2 = std::exp(real(0.375));
  const json saved = a->state();
  const auto out = step(*a, J, rng, {0.4, 1.0});
  CHECK_TENSOR_NEAR(as_row(out.weights), row({2 * e1 / (e1 + e2), 2 * e2 / (e1 + e2)}), tolerance(1e-15, 1e-6));
  CHECK_TENSOR_NEAR(out.direction, as_row(out.weights), tolerance(1e-15, 1e-6));
  auto b = make_aggregator({{"name", "dwa"}, {"temperature", 2}});
  b->load_state(json::parse(saved.dump()));
  CHECK(step(*b, J, rng, {0.4, 1.0}).weights == out.weights);
  // Step 4 uses r = (0.4/0.5, 1.0/1.5); a zero loss two steps back gives r = 1.
  const auto s4 = step(*a, J, rng, {1, 1});
  const real f1 = std::exp(real(0.8) / 2), f2 = std::exp(real(1.0 / 1.5) / 2);
  CHECK_TENSOR_NEAR(as_row(s4.weights), row({2 * f1 / (f1 + f2), 2 * f2 / (f1 + f2)}), tolerance(1e-15, 1e-6));
  a->reset();
  CHECK(step(*a, J, rng, {3, 3}).weights == std::vector<real>{1, 1});
  CHECK_THROWS_WITH_SUBSTR(step(*a, J, rng), "dwa: needs this step's task losses: call observe_losses() before aggregate()");
  CHECK_THROWS_WITH_SUBSTR(step(*a, J, rng, {1, 2, 3}), "dwa: 3 losses for a Jacobian [2,2]");
  CHECK_THROWS_WITH_SUBSTR(a->observe_losses({1, std::numeric_limits<real>::infinity()}), "dwa: observe_losses: non-finite loss of task 1");
  CHECK_THROWS_WITH_SUBSTR(a->observe_losses({}), "dwa: observe_losses: empty list of losses");
  CHECK_THROWS_WITH_SUBSTR(b->load_state({{"tasks", 2}, {"previous", {1}}, {"before", json::array()}}),
                           "dwa: load_state: 'previous' has 1 values, expected T = 2");
  CHECK_THROWS_WITH_SUBSTR(b->load_state({{"previous", {1}}}), "dwa: load_state: expected an object with \"tasks\": T");
  CHECK_THROWS_WITH_SUBSTR(b->load_state({{"tasks", 2}, {"previous", json::array()}, {"before", {1, 2}}}),
                           "dwa: load_state: 'before' is set but 'previous' is empty");
  CHECK_THROWS_WITH_SUBSTR(b->load_state({{"tasks", 2}, {"previous", 3}}), "dwa: load_state: 'previous' is missing or not an array");
  b->load_state({{"tasks", 2}, {"previous", {1, 2}}, {"before", json::array()}});
  CHECK_THROWS_WITH_SUBSTR(step(*b, matrix({{1, 2}}), rng, {1}), "dwa: the Jacobian has T = 1 tasks but the state holds T = 2");
}

TEST_CASE("uw: w = exp(-s) and s follows SGD on exp(-s) L + s") {
  // lr 0.1, losses (2, 0.5): step 1 w = (1, 1), s ← −0.1·(1 − 2) = 0.1 and −0.1·(1 − 0.5) = −0.05;
  // step 2 w = (e^{−0.1}, e^{0.05}).
  const Tensor J = matrix({{1, 0}, {0, 1}});
  auto a = make_aggregator({{"name", "uw"}, {"lr", 0.1}});
  Rng rng(0);
  CHECK(step(*a, J, rng, {2, 0.5}).weights == std::vector<real>{1, 1});
  CHECK_TENSOR_NEAR(as_row(a->state()["s"].get<std::vector<real>>()), row({0.1, -0.05}), tolerance(1e-15, 1e-6));
  const json saved = a->state();
  const auto out = step(*a, J, rng, {2, 0.5});
  CHECK_TENSOR_NEAR(as_row(out.weights), row({std::exp(real(-0.1)), std::exp(real(0.05))}), tolerance(1e-15, 1e-6));
  auto b = make_aggregator({{"name", "uw"}, {"lr", 0.1}});
  b->load_state(saved);
  CHECK(step(*b, J, rng, {2, 0.5}).weights == out.weights);
  // The fixed point: s → log L (w → 1/L), for constant losses.
  auto c = make_aggregator({{"name", "uw"}, {"lr", 0.5}});
  for (int t = 0; t < 200; ++t) step(*c, J, rng, {4, 0.25});
  CHECK_TENSOR_NEAR(as_row(c->state()["s"].get<std::vector<real>>()), row({std::log(real(4)), std::log(real(0.25))}),
                    tolerance(1e-12, 1e-5));
  CHECK_THROWS_WITH_SUBSTR(step(*c, matrix({{1, 2}}), rng, {1}), "uw: the Jacobian has T = 1 tasks but the state holds T = 2");
  CHECK_THROWS_WITH_SUBSTR(b->load_state({{"tasks", 2}, {"s", {1, "x"}}}), "uw: load_state: 's' holds \"x\", expected numbers");
}

TEST_CASE("uw: both forms follow torch's SGD on Kendall et al.'s loss (tools/gen_weighting_golden.py)") {
  const json fx = load_fixture("weighting_golden.json");
  const Tensor J = matrix({{1, 0}, {0, 1}});
  Rng rng(0);
  for (const auto& c : fx["uw"]) {
    CAPTURE(c["form"].get<std::string>());
    CAPTURE(c["lr"].get<double>());
    auto a = make_aggregator({{"name", "uw"}, {"lr", c["lr"]}, {"form", c["form"]}});
    for (std::size_t t = 0; t < c["losses"].size(); ++t)
      CHECK_TENSOR_NEAR(as_row(step(*a, J, rng, c["losses"][t].get<std::vector<real>>()).weights),
                        as_row(c["weights"][t].get<std::vector<real>>()), tolerance(1e-15, 1e-6));
    CHECK_TENSOR_NEAR(as_row(a->state()["s"].get<std::vector<real>>()), as_row(c["s"].get<std::vector<real>>()),
                      tolerance(1e-15, 1e-6));
  }
  // By hand, "libmtl" starts at s = −0.5: w = ½e^{0.5} for every task.
  auto b = make_aggregator({{"name", "uw"}, {"form", "libmtl"}});
  CHECK_TENSOR_NEAR(as_row(step(*b, J, rng, {3, 4}).weights), as_row({std::exp(real(0.5)) / 2, std::exp(real(0.5)) / 2}),
                    tolerance(1e-15, 1e-6));
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "uw"}, {"form", "paper"}}), "form");
}

TEST_CASE("family: every stage runs on T = 1 and zero J and P = 0 without NaN") {
  Rng g(79);
  const Tensor one = matrix({{1, -2, 3}});
  for (const auto& name : kFamily) {
    CAPTURE(name);
    for (const Tensor& J : {one, zeros(3, 4), zeros(1, 4), g.normal_tensor(3, 0), zeros(2, 1)}) {
      auto a = make_aggregator(name);
      Rng rng(1);
      const auto out = step(*a, J, rng, loss_based(name) ? std::vector<real>(J.shape(0), real(1)) : std::vector<real>{});
      REQUIRE(out.direction.shape(1) == J.shape(1));
      CHECK(all_finite(out.direction));
      for (real w : out.weights) CHECK(std::isfinite(w));
      bool zero_J = true;
      for (real x : J) zero_J &= x == 0;
      if (zero_J) CHECK_TENSOR_NEAR(out.direction, zeros(1, J.shape(1)), 0);
    }
    // T = 1: a non-negative multiple of g (graddrop keeps a lone gradient's signs: d = g).
    auto a = make_aggregator(name);
    Rng rng(1);
    const auto out = step(*a, one, rng, loss_based(name) ? std::vector<real>{1} : std::vector<real>{});
    const real c = out.direction(0, 0);
    CHECK(c >= 0);
    CHECK_TENSOR_NEAR(out.direction, one * c, tolerance(1e-14, 1e-6));
  }
}

TEST_CASE("family: bad input is named by every stage") {
  Tensor nan = matrix({{1, 2}, {3, 4}});
  nan(1, 0) = std::numeric_limits<real>::quiet_NaN();
  for (const auto& name : kFamily) {
    CAPTURE(name);
    auto a = make_aggregator(name);
    Rng rng(0);
    if (loss_based(name)) a->observe_losses({1, 1});
    CHECK_THROWS_WITH_SUBSTR(step(*a, zeros(0, 3), rng), name + ": the Jacobian has no rows (T = 0 tasks)");
    CHECK_THROWS_WITH_SUBSTR(step(*a, nan, rng), name + ": non-finite gradient entry J[1][0]");
    CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", name}, {"bogus", 1}}), "aggregator.bogus: unknown key");
    // options() lists every option and rebuilds the same stage; the registry's defaults build it.
    CHECK(make_aggregator(a->options())->options() == a->options());
    for (const auto& e : aggregators().entries())
      if (e.name == name) {
        const json options = a->options();
        CHECK(make_aggregator(e.defaults)->options() == options);
        for (const auto& item : options.items()) CHECK(e.defaults.contains(item.key()));
        CHECK(e.defaults.size() == options.size());
      }
  }
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "cagrad"}, {"rescal", 1}}), "aggregator.rescal: unknown key (did you mean 'rescale'?)");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "mgda"}, {"max_iter", 0}}), "aggregator: mgda: max_iter = 0 is out of range (expected >= 1)");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "mgda"}, {"tol", -1}}), "aggregator: mgda: tol = -1");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "mgda"}, {"max_iter", -3}}), "aggregator.max_iter: expected a non-negative integer");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "cagrad"}, {"c", -0.5}}), "cagrad: c = -0.5");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "cagrad"}, {"rescale", 3}}), "cagrad: rescale = 3 is out of range (expected 0, 1 or 2)");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "gradvac"}, {"beta", 1.5}}), "gradvac: beta = 1.5");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "gradvac"}, {"order", "sorted"}}), "aggregator.order: \"sorted\" is out of range");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "upgrad"}, {"reg_eps", 0}}), "upgrad: reg_eps = 0");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "dualproj"}, {"norm_eps", -1}}), "dualproj: norm_eps = -1");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "graddrop"}, {"leak", 2}}), "graddrop: leak = 2");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "nash-mtl"}, {"max_norm", -1}}), "nash-mtl: max_norm = -1");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "nash-mtl"}, {"reg_eps", 0}}), "nash-mtl: reg_eps = 0");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "dwa"}, {"temperature", 0}}), "dwa: temperature = 0");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "uw"}, {"lr", -1}}), "uw: lr = -1");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "upgrad"}, {"weights", "x"}}), "aggregator.weights: expected an array");
  Rng rng(0);
  for (const char* name : {"upgrad", "dualproj", "aligned-mtl"})
    CHECK_THROWS_WITH_SUBSTR(step(*make_aggregator({{"name", name}, {"weights", {1, 2, 3}}}), matrix({{1, 2}, {3, 4}}), rng),
                             std::string(name) + ": 3 preference weights for T = 2 tasks");
}

}  // TEST_SUITE
