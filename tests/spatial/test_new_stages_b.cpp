// fairgrad, config, m-config, excessmtl, db-mtl, stch and gls: golden multi-step sequences from an
// independent reference (tools/gen_new_stages_golden_b.py: torch autograd, pinv on J, L-BFGS), the
// properties every stage keeps (task permutation, scaling of J, finiteness, bit-identical state
// round trip), non-conflict where the method claims it, hand computations and the errors.
#include "test_util.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <xtensor/xview.hpp>

#include "mtlgrad/optim/aggregator.hpp"
#include "spatial/spatial_util.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;

namespace {

// What the property tests need to know about each stage.
struct StageFacts {
  json spec;
  bool needs_losses;
  real scale_power;  // d(cJ) = c^scale_power d(J)
};

const std::vector<StageFacts>& stages() {
  static const std::vector<StageFacts> s = {
      {{{"name", "fairgrad"}}, false, 0},
      {{{"name", "fairgrad"}, {"alpha", 2}}, false, real(-1) / 3},  // c^((1−α)/(1+α))
      {{{"name", "config"}}, false, 1},
      {{{"name", "m-config"}}, false, 0},
      {{{"name", "excessmtl"}, {"robust_step_size", 0.5}}, false, 1},
      {{{"name", "db-mtl"}}, true, 1},
      {{{"name", "stch"}, {"warmup_steps", 1}, {"nadir_steps", 2}}, true, 1},
      {{{"name", "gls"}}, true, 1}};
  return s;
}

// One step: losses first when the stage needs them (the trainer's order), then aggregate.
Aggregation step(Aggregator& a, const Tensor& J, const std::vector<real>& losses) {
  if (!losses.empty()) a.observe_losses(losses);
  Rng rng(0);
  Aggregation out;
  a.aggregate(J, rng, out);
  return out;
}

// Rows with a common component, so that some pairs conflict and some do not.
Tensor random_jacobian(Rng& g, std::size_t T, std::size_t P) {
  const Tensor base = g.normal_tensor(1, P);
  Tensor J = g.normal_tensor(T, P);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t k = 0; k < P; ++k) J(i, k) += real(0.5) * base(0, k);
  return J;
}

std::vector<real> random_losses(Rng& g, std::size_t T) {
  std::vector<real> L(T);
  for (real& l : L) l = real(0.2) + real(2) * real(g.uniform());
  return L;
}

real dot_row(const Tensor& J, std::size_t i, const Tensor& d) {
  real s = 0;
  for (std::size_t k = 0; k < J.shape(1); ++k) s += J(i, k) * d(0, k);
  return s;
}

real max_abs(const Tensor& t) {
  real m = 0;
  for (real x : t) m = std::max(m, std::abs(x));
  return m;
}

bool same_bits(const std::vector<real>& a, const std::vector<real>& b) { return a == b; }

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("new stages b: golden sequences from tools/gen_new_stages_golden_b.py") {
  const json fx = load_fixture("new_stages_b.json");
  REQUIRE(fx["cases"].size() == 21);
  for (const auto& c : fx["cases"]) {
    const json spec = c["options"];
    CAPTURE(spec.dump());
    auto a = make_aggregator(spec);
    const std::string name = spec["name"];
    for (std::size_t s = 0; s < c["J"].size(); ++s) {
      CAPTURE(s);
      const Tensor J = from_rows(c["J"][s]);
      const std::vector<real> losses = c.contains("losses") ? c["losses"][s].get<std::vector<real>>() : std::vector<real>{};
      const Aggregation out = step(*a, J, losses);
      // Relative to the direction's size (some entries are near 0).
      const Tensor want = from_rows(json::array({c["d"][s]}));
      const real scale = std::max(max_abs(want), real(1e-300));
      CHECK_TENSOR_NEAR(out.direction / scale, want / scale, tolerance(1e-10, 2e-4));
      if (c.contains("weights")) {
        const auto w = c["weights"][s].get<std::vector<real>>();
        const real wmax = *std::max_element(w.begin(), w.end());
        CHECK_TENSOR_NEAR(as_row(out.weights) / wmax, as_row(w) / wmax, tolerance(1e-10, 2e-4));
      }
      if (c.contains("head_scale")) {
        CHECK_TENSOR_NEAR(as_row(out.head_scale), as_row(c["head_scale"][s].get<std::vector<real>>()), tolerance(1e-12, 1e-5));
      } else if (a->weighting()) {
        CHECK(out.head_scale == out.weights);  // the reference back-propagates Σ w_i L_i through the heads
      } else {
        CHECK(out.head_scale.empty());
      }
      if (name == "fairgrad") {
        REQUIRE(out.metrics.size() == 2);
        CHECK(out.metrics[0] >= 1);
        CHECK(out.metrics[1] <= tolerance(1e-13, 1e-4));
        CHECK_FALSE(out.solver_capped);
      }
    }
  }
}

TEST_CASE("new stages b: permuting the tasks permutes w and leaves d, over several steps") {
  Rng g(101);
  for (const auto& f : stages()) {
    CAPTURE(f.spec.dump());
    for (std::size_t T : {2u, 3u, 5u}) {
      CAPTURE(T);
      std::vector<std::size_t> perm(T);
      for (std::size_t i = 0; i < T; ++i) perm[i] = (T - i) % T;  // reverse and rotate
      auto a = make_aggregator(f.spec), b = make_aggregator(f.spec);
      for (int s = 0; s < 4; ++s) {
        const Tensor J = random_jacobian(g, T, 7);
        const std::vector<real> L = random_losses(g, T);
        Tensor Jp = zeros(T, 7);
        std::vector<real> Lp(T);
        for (std::size_t i = 0; i < T; ++i) {
          for (std::size_t k = 0; k < 7; ++k) Jp(i, k) = J(perm[i], k);
          Lp[i] = L[perm[i]];
        }
        const auto x = step(*a, J, f.needs_losses ? L : std::vector<real>{});
        const auto y = step(*b, Jp, f.needs_losses ? Lp : std::vector<real>{});
        CHECK_TENSOR_NEAR(y.direction, x.direction, tolerance(1e-10, 1e-4));
        REQUIRE(y.weights.size() == x.weights.size());
        for (std::size_t i = 0; i < y.weights.size(); ++i)
          CHECK(std::abs(y.weights[i] - x.weights[perm[i]]) <= tolerance(1e-10, 1e-4) * (1 + std::abs(x.weights[perm[i]])));
        REQUIRE(y.head_scale.size() == x.head_scale.size());
        for (std::size_t i = 0; i < y.head_scale.size(); ++i)
          CHECK(std::abs(y.head_scale[i] - x.head_scale[perm[i]]) <= tolerance(1e-10, 1e-4) * (1 + std::abs(x.head_scale[perm[i]])));
      }
    }
  }
}

TEST_CASE("new stages b: scaling J by c scales d by c^k (k per stage), over several steps") {
  // The guards of the references (excessmtl's √(S + 1e-7), db-mtl's ‖b_i‖ + 1e-8, m-config's
  // √ŝ + 1e-8) are absolute, so these stages are scale-free only where the guards are negligible:
  // J's rows start at norms ~1e3 here, which keeps the guards below 1e-10 relative.
  Rng g(103);
  for (const auto& f : stages()) {
    CAPTURE(f.spec.dump());
    for (real c : {real(1e2), real(1e5)}) {
      CAPTURE(c);
      auto a = make_aggregator(f.spec), b = make_aggregator(f.spec);
      for (int s = 0; s < 4; ++s) {
        const Tensor J = random_jacobian(g, 3, 6) * real(1e3);
        const std::vector<real> L = f.needs_losses ? random_losses(g, 3) : std::vector<real>{};
        const auto x = step(*a, J, L);
        const Tensor Jc = J * c;
        const auto y = step(*b, Jc, L);
        const Tensor want = x.direction * std::pow(c, f.scale_power);
        CHECK_TENSOR_NEAR(y.direction / max_abs(want), want / max_abs(want), tolerance(1e-9, 1e-3));
      }
    }
  }
}

TEST_CASE("new stages b: finite on T = 1, zero J, a zero row, P = 0 and scales 1e-10 to 1e10") {
  Rng g(107);
  const real big = std::is_same_v<real, double> ? real(1e10) : real(1e8);
  for (const auto& f : stages()) {
    CAPTURE(f.spec.dump());
    Tensor zero_row = random_jacobian(g, 3, 5);
    for (std::size_t k = 0; k < 5; ++k) zero_row(1, k) = 0;
    for (const Tensor& J : {matrix({{1, -2, 3}}), zeros(3, 4), zeros(1, 4), zero_row, zeros(2, 0),
                            Tensor(random_jacobian(g, 3, 5) * real(1e-10)), Tensor(random_jacobian(g, 3, 5) * big)}) {
      CAPTURE(shape_str(J));
      auto a = make_aggregator(f.spec);
      for (int s = 0; s < 3; ++s) {
        const auto out = step(*a, J, f.needs_losses ? std::vector<real>(J.shape(0), real(0.5) + real(s)) : std::vector<real>{});
        REQUIRE(out.direction.shape(1) == J.shape(1));
        CHECK(all_finite(out.direction));
        for (real w : out.weights) CHECK(std::isfinite(w));
        for (real h : out.head_scale) CHECK(std::isfinite(h));
        if (max_abs(J) == 0) CHECK(max_abs(out.direction) == 0);
      }
    }
    // T = 1: a non-negative multiple of g (m-config: of its momentum, the same g every step).
    auto a = make_aggregator(f.spec);
    const Tensor one = matrix({{1, -2, 3}});
    const auto out = step(*a, one, f.needs_losses ? std::vector<real>{2} : std::vector<real>{});
    if (f.spec["name"] != "m-config") {
      CHECK(out.direction(0, 0) > 0);
      CHECK_TENSOR_NEAR(out.direction, one * out.direction(0, 0), tolerance(1e-14, 1e-6));
    }
  }
}

TEST_CASE("new stages b: state() and load_state() continue bit-identically and reset() starts over") {
  Rng g(109);
  for (const auto& f : stages()) {
    CAPTURE(f.spec.dump());
    std::vector<Tensor> Js;
    std::vector<std::vector<real>> Ls;
    for (int s = 0; s < 6; ++s) {
      Js.push_back(random_jacobian(g, 3, 5));
      Ls.push_back(f.needs_losses ? random_losses(g, 3) : std::vector<real>{});
    }
    auto a = make_aggregator(f.spec);
    std::vector<Aggregation> fresh;
    for (int s = 0; s < 3; ++s) fresh.push_back(step(*a, Js[s], Ls[s]));
    const json saved = json::parse(a->state().dump());
    auto b = make_aggregator(f.spec);
    b->load_state(saved);
    CHECK(b->state() == a->state());
    for (int s = 3; s < 6; ++s) {
      const auto x = step(*a, Js[s], Ls[s]);
      const auto y = step(*b, Js[s], Ls[s]);
      CHECK(x.direction == y.direction);
      CHECK(same_bits(x.weights, y.weights));
      CHECK(same_bits(x.head_scale, y.head_scale));
    }
    CHECK(a->state() == b->state());
    a->reset();
    for (int s = 0; s < 3; ++s) CHECK(step(*a, Js[s], Ls[s]).direction == fresh[s].direction);
    b->load_state(nullptr);
    CHECK(step(*b, Js[0], Ls[0]).direction == fresh[0].direction);
  }
}

TEST_CASE("new stages b: options() rebuild the stage and every stage names bad input") {
  Tensor nan = matrix({{1, 2}, {3, 4}});
  nan(1, 0) = std::numeric_limits<real>::quiet_NaN();
  for (const auto& f : stages()) {
    const std::string name = f.spec["name"];
    CAPTURE(name);
    auto a = make_aggregator(f.spec);
    CHECK(make_aggregator(a->options())->options() == a->options());
    Rng rng(0);
    Aggregation out;
    if (f.needs_losses) a->observe_losses({1, 1});
    CHECK_THROWS_WITH_SUBSTR(a->aggregate(nan, rng, out), name + ": non-finite gradient entry J[1][0]");
    CHECK_THROWS_WITH_SUBSTR(a->aggregate(zeros(0, 3), rng, out), name + ": the Jacobian has no rows (T = 0 tasks)");
    CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", name}, {"bogus", 1}}), "aggregator.bogus: unknown key");
    if (!f.needs_losses) continue;
    auto c = make_aggregator(f.spec);
    CHECK_THROWS_WITH_SUBSTR(c->aggregate(matrix({{1, 2}, {3, 4}}), rng, out),
                             name + ": needs this step's task losses: call observe_losses() before aggregate()");
    c->observe_losses({1, 2, 3});
    CHECK_THROWS_WITH_SUBSTR(c->aggregate(matrix({{1, 2}, {3, 4}}), rng, out), name + ": 3 losses for a Jacobian with T = 2 rows");
    CHECK_THROWS_WITH_SUBSTR(c->observe_losses({1, 0}), name + ": observe_losses: loss of task 1 is 0.0; the stage takes its logarithm");
    CHECK_THROWS_WITH_SUBSTR(c->observe_losses({-1, 2}), name + ": observe_losses: loss of task 0 is -1.0");
    CHECK_THROWS_WITH_SUBSTR(c->observe_losses({1, std::numeric_limits<real>::infinity()}),
                             name + ": observe_losses: non-finite loss of task 1");
    CHECK_THROWS_WITH_SUBSTR(c->observe_losses({}), name + ": observe_losses: empty list of losses");
    // Each list of losses serves one step only.
    c->observe_losses({1, 2});
    c->aggregate(matrix({{1, 2}, {3, 4}}), rng, out);
    CHECK_THROWS_WITH_SUBSTR(c->aggregate(matrix({{1, 2}, {3, 4}}), rng, out), name + ": needs this step's task losses");
  }
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "fairgrad"}, {"alpha", 0}}), "fairgrad: alpha = 0");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "fairgrad"}, {"max_iter", 0}}), "fairgrad: max_iter = 0");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "config"}, {"weights", {1, -1}}}), "config: weights holds -1");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "m-config"}, {"betas", {0.5, 1}}}), "m-config: betas = [0.5, 1");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "m-config"}, {"rows", "some"}}), "aggregator.rows: \"some\" is out of range");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "excessmtl"}, {"robust_step_size", -1}}), "excessmtl: robust_step_size = -1");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "db-mtl"}, {"beta", 1.5}}), "db-mtl: beta = 1.5");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "db-mtl"}, {"beta_sigma", -1}}), "db-mtl: beta_sigma = -1");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "stch"}, {"mu", 0}}), "stch: mu = 0");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "stch"}, {"nadir_steps", 0}}), "stch: nadir_steps = 0");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "stch"}, {"nadir", {1, 0}}}), "stch: nadir holds 0");
  Rng rng(0);
  Aggregation out;
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "config"}, {"weights", {1, 2, 3}}})->aggregate(matrix({{1, 2}, {3, 4}}), rng, out),
                           "config: 3 weights for T = 2 tasks");
  auto stch = make_aggregator({{"name", "stch"}, {"nadir", {1, 2, 3}}});
  stch->observe_losses({1, 2});
  CHECK_THROWS_WITH_SUBSTR(stch->aggregate(matrix({{1, 2}, {3, 4}}), rng, out), "stch: nadir has 3 values for T = 2 tasks");
  // A stateful stage refuses a Jacobian of another shape than its state's.
  for (const char* name : {"m-config", "excessmtl", "db-mtl", "stch"}) {
    CAPTURE(name);
    auto a = make_aggregator(name);
    step(*a, matrix({{1, 2}, {3, 4}}), {1, 2});
    a->observe_losses({1, 2, 3});
    CHECK_THROWS_WITH_SUBSTR(a->aggregate(matrix({{1, 2}, {3, 4}, {5, 6}}), rng, out),
                             std::string(name) + ": the Jacobian has T = 3 tasks but the state holds T = 2");
  }
  for (const char* name : {"m-config", "excessmtl", "db-mtl"}) {
    auto a = make_aggregator(name);
    step(*a, matrix({{1, 2}, {3, 4}}), {1, 2});
    a->observe_losses({1, 2});
    CHECK_THROWS_WITH_SUBSTR(a->aggregate(matrix({{1, 2, 3}, {3, 4, 5}}), rng, out),
                             std::string(name) + ": the Jacobian has P = 3 parameters but the state holds P = 2");
  }
}

TEST_CASE("new stages b: load_state names the bad field") {
  auto db = make_aggregator("db-mtl");
  CHECK_THROWS_WITH_SUBSTR(db->load_state({{"b", 1}}), "db-mtl: load_state: 't' is missing or not a non-negative integer");
  CHECK_THROWS_WITH_SUBSTR(db->load_state({{"t", 2}}), "db-mtl: load_state: 'b' is missing");
  auto ex = make_aggregator("excessmtl");
  ex->observe_losses({1});
  step(*ex, matrix({{1, 2}, {3, 4}}), {});
  json s = ex->state();
  s["lambda"] = {1, 0};
  CHECK_THROWS_WITH_SUBSTR(ex->load_state(s), "excessmtl: load_state: 'lambda' holds 0");
  s["lambda"] = {1, 2, 3};
  CHECK_THROWS_WITH_SUBSTR(ex->load_state(s), "excessmtl: load_state: 'lambda' has 3 values, expected 2");
  s.erase("e0");
  s["lambda"] = {1, 1};
  CHECK_THROWS_WITH_SUBSTR(ex->load_state(s), "excessmtl: load_state: 'e0' is missing or not an array");
  auto st = make_aggregator("stch");
  CHECK_THROWS_WITH_SUBSTR(st->load_state({{"t", 1}, {"tasks", 2}, {"sum", {1}}, {"nadir", json::array()}}),
                           "stch: load_state: 'sum' has 1 values, expected 2");
  CHECK_THROWS_WITH_SUBSTR(st->load_state({{"t", 1}, {"tasks", 2}, {"sum", {1, 1}}, {"nadir", {1, -2}}}),
                           "stch: load_state: 'nadir' holds -2");
  CHECK_THROWS_WITH_SUBSTR(st->load_state({{"t", 1}, {"tasks", 2}, {"sum", {1, "x"}}, {"nadir", json::array()}}),
                           "stch: load_state: 'sum' holds \"x\", expected numbers");
  auto mc = make_aggregator("m-config");
  step(*mc, matrix({{1, 2}, {3, 4}}), {});
  json m = mc->state();
  m["n"] = {1, -1};
  CHECK_THROWS_WITH_SUBSTR(mc->load_state(m), "m-config: load_state: 'n' holds -1");
  m["n"] = {1, 1, 1};
  CHECK_THROWS_WITH_SUBSTR(mc->load_state(m), "m-config: load_state: 'm' has shape [2,2] for 3 counts 'n'");
  m["n"] = {1, 1};
  m.erase("s");
  CHECK_THROWS_WITH_SUBSTR(mc->load_state(m), "m-config: load_state: 's' is missing");
}

TEST_CASE("config: g_i·d > 0 for every task on independent rows, in the ratios p, at every scale") {
  Rng g(113);
  int checked = 0;
  for (std::size_t T = 2; T <= 5; ++T)
    for (real scale : {real(1e-10), real(1), real(1e10)})
      for (int trial = 0; trial < 5; ++trial) {
        const Tensor J = random_jacobian(g, T, 6) * scale;
        std::vector<real> p(T);
        for (std::size_t i = 0; i < T; ++i) p[i] = real(0.5) + real(i % 3);
        for (const json& spec : {json{{"name", "config"}}, json{{"name", "config"}, {"weights", p}}}) {
          const auto out = run(spec, J);
          const bool uniform = !spec.contains("weights");
          std::vector<real> cosine(T);
          const real dn = std::sqrt(dot_row(out.direction, 0, out.direction));
          for (std::size_t i = 0; i < T; ++i) {
            const real gi = std::sqrt(dot_row(J, i, xt::view(J, xt::range(i, i + 1), xt::all())));
            CHECK(dot_row(J, i, out.direction) > 0);
            cosine[i] = dot_row(J, i, out.direction) / (gi * dn);
          }
          // u_i·d̂ ∝ p_i: the projections of the unit gradients come in the wanted ratios.
          for (std::size_t i = 1; i < T; ++i)
            CHECK(std::abs(cosine[i] / cosine[0] - (uniform ? 1 : p[i] / p[0])) <= tolerance(1e-9, 1e-3));
          // d's length is the sum of the gradients' projections on it.
          real proj = 0;
          for (std::size_t i = 0; i < T; ++i) proj += dot_row(J, i, out.direction) / dn;
          CHECK(std::abs(dn - proj) <= tolerance(1e-10, 1e-4) * dn);
          ++checked;
        }
      }
  CHECK(checked == 4 * 3 * 5 * 2);
}

TEST_CASE("config: opposite rows give d = 0, parallel rows their sum, a zero row weight 0") {
  CHECK(max_abs(run({{"name", "config"}}, matrix({{1, 2, -1}, {-2, -4, 2}})).direction) == 0);
  // Parallel rows: U⁺1 = u/… reaches every row equally, d = (‖g_1‖ + ‖g_2‖) u = g_1 + g_2.
  CHECK_TENSOR_NEAR(run({{"name", "config"}}, matrix({{1, 2, 2}, {2, 4, 4}})).direction, row({3, 6, 6}), tolerance(1e-14, 1e-6));
  // Orthogonal rows (3, 0) and (0, 4): ĉ = (1, 1)/√2, Σ g_i·ĉ = 7/√2, d = (3.5, 3.5).
  const auto o = run({{"name", "config"}}, matrix({{3, 0}, {0, 4}}));
  CHECK_TENSOR_NEAR(o.direction, row({3.5, 3.5}), tolerance(1e-14, 1e-6));
  CHECK_TENSOR_NEAR(as_row(o.weights), row({3.5 / 3, 3.5 / 4}), tolerance(1e-14, 1e-6));
  const auto z = run({{"name", "config"}}, matrix({{3, 0}, {0, 0}, {0, 4}}));
  CHECK(z.weights[1] == 0);
  CHECK_TENSOR_NEAR(z.direction, row({3.5, 3.5}), tolerance(1e-14, 1e-6));
}

TEST_CASE("fairgrad: (Gw)_i = w_i^(-1/alpha), non-conflicting on independent rows, and alpha 1 is nash-mtl's fixed point") {
  Rng g(127);
  for (real alpha : {real(0.5), real(1), real(2), real(5)})
    for (std::size_t T = 2; T <= 5; ++T)
      for (real scale : {real(1e-10), real(1), real(1e10)}) {
        CAPTURE(alpha);
        CAPTURE(T);
        CAPTURE(scale);
        const Tensor J = random_jacobian(g, T, 6) * scale;
        const auto out = run({{"name", "fairgrad"}, {"alpha", alpha}}, J);
        CHECK_FALSE(out.solver_capped);
        for (std::size_t i = 0; i < T; ++i) {
          const real u = dot_row(J, i, out.direction);  // (Gw)_i
          CHECK(u > 0);
          CHECK(std::abs(u * std::pow(out.weights[i], 1 / alpha) - 1) <= tolerance(1e-10, 1e-3));
        }
      }
  // α = 1 is the bargaining equation of nash-mtl (without its max_norm and its ridge).
  const Tensor J = random_jacobian(g, 4, 6);
  CHECK_TENSOR_NEAR(run({{"name", "fairgrad"}}, J).direction,
                    run({{"name", "nash-mtl"}, {"max_norm", 0}, {"reg_eps", 1e-30}}, J).direction, tolerance(1e-10, 1e-4));
}

TEST_CASE("fairgrad: a zero row gets w = 0 and a Pareto-stationary J stays finite and small") {
  Rng g(131);
  const Tensor J = random_jacobian(g, 2, 5);
  Tensor Jz = zeros(3, 5);
  for (std::size_t k = 0; k < 5; ++k) {
    Jz(0, k) = J(0, k);
    Jz(2, k) = J(1, k);
  }
  const auto a = run({{"name", "fairgrad"}}, J), b = run({{"name", "fairgrad"}}, Jz);
  CHECK(b.weights[1] == 0);
  CHECK_TENSOR_NEAR(b.direction, a.direction, tolerance(1e-12, 1e-5));
  // g_2 = −g_1: no fixed point; the iterate grows and d = (w_1 − w_2) g_1 shrinks towards 0. (Norms 5
  // and cosine −1 exactly in either precision: a rounded cosine would make the fixed point exist.)
  const auto s = run({{"name", "fairgrad"}}, matrix({{3, 4}, {-3, -4}}));
  CHECK(all_finite(s.direction));
  CHECK(max_abs(s.direction) < real(1e-2));
  CHECK(s.metrics[1] > real(1e-3));  // the residual says that no fixed point was reached
}

TEST_CASE("m-config: cycle gives d = 0 until every task has a moment, and beta 0 and T = 1 by hand") {
  Rng g(137);
  auto a = make_aggregator({{"name", "m-config"}, {"rows", "cycle"}});
  for (int s = 0; s < 2; ++s) CHECK(max_abs(step(*a, random_jacobian(g, 3, 4), {}).direction) == 0);
  CHECK(a->state()["t"] == 0);
  CHECK(max_abs(step(*a, random_jacobian(g, 3, 4), {}).direction) > 0);
  CHECK(a->state()["n"] == json{1, 1, 1});
  step(*a, random_jacobian(g, 3, 4), {});
  CHECK(a->state()["n"] == json{2, 1, 1});
  // T = 1, β₁ = β₂ = 0: m̂ = g, g_c = g, f′ = g, q = g, ŝ = g²: d = g/(|g| + 1e-8) = sign(g) (nearly).
  auto b = make_aggregator({{"name", "m-config"}, {"betas", {0, 0}}});
  CHECK_TENSOR_NEAR(step(*b, matrix({{2, -0.5, 4}}), {}).direction,
                    row({2 / (2 + 1e-8), -0.5 / (0.5 + 1e-8), 4 / (4 + 1e-8)}), tolerance(1e-15, 1e-6));
}

TEST_CASE("gls and stch and db-mtl and excessmtl by hand") {
  // gls, L = (1, 4): geometric mean 2, w_i = 2 / (2 L_i) = (1, 0.25).
  const Tensor I = matrix({{1, 0}, {0, 1}});
  auto gls = make_aggregator("gls");
  const auto gw = step(*gls, I, {1, 4});
  CHECK_TENSOR_NEAR(as_row(gw.weights), row({1, 0.25}), tolerance(1e-15, 1e-6));
  // Tiny losses whose product underflows keep the same weights (formed in logarithms).
  std::vector<real> tiny(40, real(1e-20));
  tiny[0] = real(4e-20);
  Tensor J40 = zeros(40, 1);
  J40(0, 0) = 1;
  auto gls40 = make_aggregator("gls");
  CHECK(std::abs(step(*gls40, J40, tiny).weights[0] - std::pow(real(4), real(1) / 40) / (40 * 4)) <= tolerance(1e-14, 1e-5));
  // stch, warm-up 1 and nadir 1: w = 1/L twice, then the nadir is step 2's losses.
  auto st = make_aggregator({{"name", "stch"}, {"warmup_steps", 1}, {"mu", 0.5}});
  CHECK_TENSOR_NEAR(as_row(step(*st, I, {2, 0.5}).weights), row({0.5, 2}), tolerance(1e-15, 1e-6));
  CHECK_TENSOR_NEAR(as_row(step(*st, I, {1, 4}).weights), row({1, 0.25}), tolerance(1e-15, 1e-6));
  // ℓ = ln(L/n) = (ln 0.5, ln 0.5): p = ½ each, w_i = 2·½ / L_i.
  CHECK_TENSOR_NEAR(as_row(step(*st, I, {0.5, 2}).weights), row({2, 0.5}), tolerance(1e-14, 1e-6));
  // Small μ: the worst task relative to the nadir takes (almost) all of T p.
  auto worst = make_aggregator({{"name", "stch"}, {"mu", 0.01}, {"nadir", {1, 1}}});
  const auto ww = step(*worst, I, {2, 1});
  CHECK(std::abs(ww.weights[0] - real(2) / 2) <= real(1e-12));
  CHECK(ww.weights[1] < real(1e-12));
  // db-mtl, β = 0.5, one step: b = (1 − β) g/(L + 1e-8), then every buffer scaled to the largest norm.
  auto db = make_aggregator({{"name", "db-mtl"}, {"beta", 0.5}});
  const auto dd = step(*db, matrix({{2, 0}, {0, 1}}), {1, 0.25});
  // b_1 = (1, 0)/(1 + 1e-8), b_2 = (0, 2)/(1 + 4e-8): both scaled to ‖b_2‖.
  const real b1 = 1 / (1 + real(1e-8)), b2 = 2 / (1 + real(4e-8));
  CHECK_TENSOR_NEAR(dd.direction, row({b2 / (b1 + real(1e-8)) * b1, b2 / (b2 + real(1e-8)) * b2}), tolerance(1e-15, 1e-6));
  CHECK(dd.weights.empty());
  CHECK_TENSOR_NEAR(as_row(dd.head_scale), row({1 / (1 + 1e-8), 1 / (0.25 + 1e-8)}), tolerance(1e-15, 1e-6));
  // excessmtl with η = 0: λ = 1 always, d = sum.
  auto ex = make_aggregator({{"name", "excessmtl"}, {"robust_step_size", 0}});
  Rng g(139);
  for (int s = 0; s < 3; ++s) {
    const Tensor J = random_jacobian(g, 3, 4);
    CHECK(step(*ex, J, {}).weights == std::vector<real>{1, 1, 1});
  }
}

}  // TEST_SUITE
