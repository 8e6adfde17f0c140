#include "test_util.hpp"
#include "spatial/test_pcgrad_reference.hpp"

#include <cmath>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/memory.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;

namespace {

const char* const kPairStages[] = {"ada-pcgrad", "rmsprop-pcgrad", "adam-pcgrad"};
const char* const kAllStages[] = {"ada-pcgrad", "rmsprop-pcgrad", "adam-pcgrad", "pcgrad-momentum"};

std::vector<Aggregation> run_steps(const json& spec, const std::vector<Tensor>& steps, std::uint64_t seed = 0) {
  auto a = make_aggregator(spec);
  Rng rng(seed);
  std::vector<Aggregation> out(steps.size());
  for (std::size_t s = 0; s < steps.size(); ++s) a->aggregate(steps[s], rng, out[s]);
  return out;
}

std::vector<Tensor> random_steps(std::uint64_t seed, std::size_t n, std::size_t T, std::size_t P) {
  Rng g(seed);
  const Tensor base = g.normal_tensor(T, P);
  std::vector<Tensor> steps;
  for (std::size_t s = 0; s < n; ++s) steps.push_back(base + g.normal_tensor(T, P, 0, 1.5));
  return steps;
}

Tensor weights_row(const std::vector<real>& w) {
  Tensor t = zeros(1, w.size());
  for (std::size_t k = 0; k < w.size(); ++k) t(0, k) = w[k];
  return t;
}

Tensor sym2(double lambda) { return matrix({{0, real(lambda)}, {real(lambda), 0}}); }

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("memory stages: golden sequences from tools/gen_spatial_golden.py (numpy, on vectors)") {
  const json fx = load_fixture("spatial_memory.json");
  int fractional = 0;
  for (const auto& c : fx["cases"]) {
    CAPTURE(c["aggregator"].dump());
    std::vector<Tensor> steps;
    for (const auto& J : c["steps"]) {
      std::vector<real> flat;
      for (const auto& r : J)
        for (const auto& v : r) flat.push_back(v.get<real>());
      Tensor t = zeros(J.size(), J[0].size());
      std::copy(flat.begin(), flat.end(), t.begin());
      steps.push_back(t);
    }
    const auto out = run_steps(c["aggregator"], steps);
    for (std::size_t s = 0; s < steps.size(); ++s) {
      CAPTURE(s);
      const auto& e = c["expected"][s];
      Tensor d = zeros(1, e["grad"].size());
      for (std::size_t k = 0; k < d.size(); ++k) d(0, k) = e["grad"][k].get<real>();
      CHECK_TENSOR_NEAR(out[s].direction, d, tolerance(1e-10, 1e-3));
      if (e.contains("pair_strength")) {
        const std::size_t T = steps[s].shape(0);
        REQUIRE(out[s].pair_strength.shape(0) == T);
        for (std::size_t i = 0; i < T; ++i)
          for (std::size_t j = 0; j < T; ++j) {
            const double ref = e["pair_strength"][i][j].get<double>();
            CHECK(double(out[s].pair_strength(i, j)) == doctest::Approx(ref).epsilon(tolerance(1e-10, 1e-4)));
            fractional += ref > 0.01 && ref < 0.99;
          }
      } else {
        CHECK(out[s].pair_strength.size() == 0);
      }
    }
  }
  CHECK(fractional > 50);  // the fixture exercises strengths strictly between 0 and 1
}

TEST_CASE("memory stages: hand-computed 3-step sequences on J1 = [[1,0],[-1,1]], J2 = [[1,0],[1,1]], J3 = J1") {
  // Steps 1 and 3 conflict (g1·g2 = -1, |g1|^2 = 1, |g2|^2 = 2, cos = -1/√2); step 2 does not
  // (cos = +1/√2). With strength λ on J1: g1' = g1 + (λ/2) g2, g2' = g2 + λ g1, so
  // w = [1 + λ, 1 + λ/2] and d = (λ/2, 1 + λ/2). On J2 nothing is projected: d = (2, 1).
  const Tensor J1 = matrix({{1, 0}, {-1, 1}}), J2 = matrix({{1, 0}, {1, 1}});
  const std::vector<Tensor> steps{J1, J2, J1};
  const real tol = tolerance(1e-14, 1e-5);
  auto check_seq = [&](const json& spec, const double (&lam)[3]) {
    CAPTURE(spec.dump());
    const auto out = run_steps(spec, steps);
    for (int s : {0, 2}) {
      CHECK_TENSOR_NEAR(out[s].direction, row({real(lam[s] / 2), real(1 + lam[s] / 2)}), tol);
      CHECK_TENSOR_NEAR(weights_row(out[s].weights), row({real(1 + lam[s]), real(1 + lam[s] / 2)}), tol);
    }
    CHECK_TENSOR_NEAR(out[1].direction, row({2, 1}), tol);
    for (int s = 0; s < 3; ++s) CHECK_TENSOR_NEAR(out[s].pair_strength, sym2(lam[s]), tol);
  };
  // ada: n = 1, 1, 2 over t = 1, 2, 3.
  check_seq({{"name", "ada-pcgrad"}}, {1.0, 1.0 / 2, 2.0 / 3});
  // rmsprop, rho = 0.9: r = 0.1, 0.09, 0.181; 1 - rho^t = 0.1, 0.19, 0.271.
  check_seq({{"name", "rmsprop-pcgrad"}}, {1.0, 9.0 / 19, 181.0 / 271});
  // adam, betas (0.9, 0.999), eps 1e-8: c = -1/√2, +1/√2, -1/√2; m = -0.1/√2, 0.01/√2, -0.091/√2;
  // m̂ = -1/√2, +0.01/(0.19√2), -0.091/(0.271√2); v̂ = 0.5 at every step (c² = 0.5).
  // λ = clip(-m̂ / (1/√2 + eps)): 1/(1 + √2 eps), 0, (91/271)/(1 + √2 eps).
  const double e = 1 + std::sqrt(2.0) * 1e-8;
  check_seq({{"name", "adam-pcgrad"}}, {1 / e, 0.0, 91.0 / 271 / e});
  // power 2 on ada: λ² = 1, 1/4, 4/9.
  check_seq({{"name", "ada-pcgrad"}, {"power", 2}}, {1.0, 1.0 / 4, 4.0 / 9});
}

TEST_CASE("pcgrad-momentum: hand-computed 3-step sequence") {
  // beta 0.9. t=1: m̂ = J1, d = pcgrad(J1) = (0.5, 1.5).
  // t=2: m = 0.09 J1 + 0.1 J2 = [[0.19,0],[0.01,0.19]], m̂ = [[1,0],[1/19,1]]: no conflict,
  //      d = (20/19, 1), w = [1, 1].
  // t=3: m = 0.9 m + 0.1 J1 = [[0.271,0],[-0.091,0.271]], m̂ = [[1,0],[-a,1]], a = 91/271:
  //      g1·g2 = -a, |g2|^2 = 1 + a², so w = [1 + a, 1 + a/(1+a²)] and
  //      d = (1/(1+a²), (1+a+a²)/(1+a²)).
  const Tensor J1 = matrix({{1, 0}, {-1, 1}}), J2 = matrix({{1, 0}, {1, 1}});
  const auto out = run_steps({{"name", "pcgrad-momentum"}}, {J1, J2, J1});
  const real tol = tolerance(1e-13, 1e-5);
  const double a = 91.0 / 271, q = 1 + a * a;
  CHECK_TENSOR_NEAR(out[0].direction, row({0.5, 1.5}), tol);
  CHECK_TENSOR_NEAR(weights_row(out[0].weights), row({2, 1.5}), tol);
  CHECK_TENSOR_NEAR(out[1].direction, row({real(20.0 / 19), 1}), tol);
  CHECK_TENSOR_NEAR(weights_row(out[1].weights), row({1, 1}), tol);
  CHECK_TENSOR_NEAR(out[2].direction, row({real(1 / q), real((1 + a + a * a) / q)}), tol);
  CHECK_TENSOR_NEAR(weights_row(out[2].weights), row({real(1 + a), real(1 + a / q)}), tol);
  CHECK(out[2].pair_strength.size() == 0);
}

TEST_CASE("memory stages equal pcgrad at t = 1 (T = 2), and with decay 0 at every step") {
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    const auto steps = random_steps(seed, 12, 2, 5);
    const auto pc = run_steps({{"name", "pcgrad"}}, steps, seed);
    // ada and rmsprop: λ = 1 exactly (0.1·1 / (1 − 0.9) rounds to 1); momentum: m̂ = (0.1 J)/0.1 up
    // to rounding; adam: λ = 1/(1 + eps/|c|).
    CHECK(run_steps({{"name", "ada-pcgrad"}}, steps, seed)[0].direction == pc[0].direction);
    CHECK(run_steps({{"name", "rmsprop-pcgrad"}}, steps, seed)[0].direction == pc[0].direction);
    CHECK_TENSOR_NEAR(run_steps({{"name", "pcgrad-momentum"}}, steps, seed)[0].direction, pc[0].direction,
                      tolerance(1e-14, 1e-6));
    CHECK_TENSOR_NEAR(run_steps({{"name", "adam-pcgrad"}}, steps, seed)[0].direction, pc[0].direction,
                      tolerance(1e-6, 1e-4));
    const auto rms0 = run_steps({{"name", "rmsprop-pcgrad"}, {"rho", 0}}, steps, seed);
    const auto adam0 = run_steps({{"name", "adam-pcgrad"}, {"betas", {0, 0}}}, steps, seed);
    const auto mom0 = run_steps({{"name", "pcgrad-momentum"}, {"beta", 0}}, steps, seed);
    for (std::size_t s = 0; s < steps.size(); ++s) {
      CHECK(rms0[s].direction == pc[s].direction);
      CHECK(mom0[s].direction == pc[s].direction);
      CHECK_TENSOR_NEAR(adam0[s].direction, pc[s].direction, tolerance(1e-6, 1e-4));  // eps = 1e-8
    }
  }
  // pcgrad-momentum with beta = 0 is pcgrad for any T, random order included.
  const auto steps = random_steps(5, 6, 5, 3);
  const auto pc = run_steps({{"name", "pcgrad"}}, steps, 77);
  const auto mom0 = run_steps({{"name", "pcgrad-momentum"}, {"beta", 0}}, steps, 77);
  for (std::size_t s = 0; s < steps.size(); ++s) CHECK(mom0[s].direction == pc[s].direction);
}

TEST_CASE("memory stages, T >= 3: an induced conflict is projected by pcgrad only (documented)") {
  // g1 = (1,0), g2 = (-1,1), g3 = (0.2,-1), order fixed. g1·g3 = 0.2 >= 0, so λ_13 = 0 at t = 1;
  // but after g1' = g1 + g2/2 = (0.5, 0.5), g1'·g3 = -0.4 < 0 and pcgrad projects again.
  const Tensor J = matrix({{1, 0}, {-1, 1}, {0.2, -1}});
  const auto g = rows_of(J);
  std::vector<Vec> k(3, Vec(3, 0.0));
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) k[i][j] = i != j && vdot(g[i], g[j]) < 0;
  const Tensor pc = run_steps({{"name", "pcgrad"}, {"order", "fixed"}}, {J})[0].direction;
  CHECK_TENSOR_NEAR(pc, direct_pcgrad(g, fixed_perms(3)), tolerance(1e-14, 1e-6));
  for (const char* stage : kPairStages) {
    CAPTURE(std::string(stage));
    json spec{{"name", stage}, {"order", "fixed"}};
    if (std::string(stage) == "adam-pcgrad") spec["eps"] = 0;
    const Tensor d = run_steps(spec, {J})[0].direction;
    CHECK_TENSOR_NEAR(d, direct_pcgrad(g, fixed_perms(3), k), tolerance(1e-14, 1e-6));
    CHECK(max_rel_err(d, pc) > 0.1);
  }
}

TEST_CASE("memory stages: power 0 is pcgrad, λ in [0,1] with a zero diagonal") {
  const auto steps = random_steps(21, 15, 4, 6);
  const auto pc = run_steps({{"name", "pcgrad"}}, steps, 5);
  for (const char* stage : kPairStages) {
    CAPTURE(std::string(stage));
    const auto p0 = run_steps({{"name", stage}, {"power", 0}}, steps, 5);
    const auto p1 = run_steps({{"name", stage}}, steps, 5);
    for (std::size_t s = 0; s < steps.size(); ++s) {
      CHECK(p0[s].direction == pc[s].direction);
      for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t j = 0; j < 4; ++j) {
          const real l = p1[s].pair_strength(i, j);
          CHECK(l >= 0);
          CHECK(l <= 1);
          if (i == j) CHECK(l == 0);
          if (i != j) CHECK(p0[s].pair_strength(i, j) == 1);  // 0^0 = 1
        }
    }
  }
}

TEST_CASE("memory stages: a pair that always conflicts gets λ = 1, alternating conflicts 1/2 (ada, rmsprop), ~0 (adam)") {
  Rng g(4);
  std::vector<Tensor> always, steady, alternating;
  for (int s = 0; s < 200; ++s) {
    const real a = g.uniform(0.5, 2), b = g.uniform(0.5, 2);
    always.push_back(matrix({{1, a}, {-1, -b}}));            // g1·g2 = -1 - ab < 0, cos varies
    steady.push_back(matrix({{a, a / 2}, {-b, real(0.3) * b}}));  // cos constant (-0.7/√1.36)
    alternating.push_back(matrix({{1, 0}, {s % 2 == 0 ? real(-1) : real(1), 1}}));  // cos = ∓1/√2
  }
  for (const char* stage : kPairStages) {
    CAPTURE(std::string(stage));
    const bool adam = std::string(stage) == "adam-pcgrad";
    // adam measures consistency: a conflict whose cosine varies gets λ = |mean c| / rms c < 1.
    for (const auto& o : run_steps({{"name", stage}}, adam ? steady : always))
      CHECK(double(o.pair_strength(0, 1)) == doctest::Approx(1).epsilon(tolerance(1e-6, 1e-5)));
    const auto alt = run_steps({{"name", stage}}, alternating);
    const double conflicting = alt[198].pair_strength(0, 1), agreeing = alt[199].pair_strength(0, 1);
    if (adam) {
      // m oscillates between -(1-β1)/(1+β1)|c| and +(1-β1)/(1+β1)|c| (β1^t ≈ 0), v̂ = c²:
      // λ = 0.1/1.9 = 1/19 ≈ 0.053 at the conflicting steps, 0 at the others.
      CHECK(conflicting == doctest::Approx(1.0 / 19).epsilon(1e-6));
      CHECK(agreeing == 0);
    } else {
      // ada: n/t; rmsprop (ρ = 0.9): 1/(1+ρ) ≈ 0.526 and ρ/(1+ρ) ≈ 0.474.
      CHECK((conflicting + agreeing) / 2 == doctest::Approx(0.5).epsilon(1e-3));
      CHECK(std::abs(agreeing - 0.5) < 0.03);
    }
  }
  // ada: exactly n/t, 1/2 after every even step.
  CHECK(run_steps({{"name", "ada-pcgrad"}}, alternating).back().pair_strength(0, 1) == real(0.5));
}

TEST_CASE("memory stages: save at step k, restore into a fresh stage, continue: bit-identical") {
  const auto steps = random_steps(8, 10, 3, 4);
  for (const char* stage : kAllStages) {
    CAPTURE(std::string(stage));
    const json spec{{"name", stage}};
    auto a = make_aggregator(spec);
    Rng rng(3);
    Aggregation out;
    std::vector<Aggregation> ref(steps.size());
    json saved;
    Rng rng_saved(0);
    for (std::size_t s = 0; s < steps.size(); ++s) {
      if (s == 4) {
        saved = json::parse(a->state().dump());  // through text, as a checkpoint would
        rng_saved = rng;
      }
      a->aggregate(steps[s], rng, ref[s]);
    }
    auto b = make_aggregator(a->options());
    b->load_state(saved);
    for (std::size_t s = 4; s < steps.size(); ++s) {
      b->aggregate(steps[s], rng_saved, out);
      CHECK(out.direction == ref[s].direction);
      CHECK(out.weights == ref[s].weights);
      CHECK(out.pair_strength == ref[s].pair_strength);
    }
    CHECK(b->state() == a->state());
    // reset(): a fresh start, and T may change after it.
    a->reset();
    auto fresh = make_aggregator(spec);
    Rng r1(1), r2(1);
    Aggregation x, y;
    a->aggregate(steps[0], r1, x);
    fresh->aggregate(steps[0], r2, y);
    CHECK(x.direction == y.direction);
    a->reset();
    a->aggregate(matrix({{1, 2, 3, 4}, {-1, 0, 0, 0}}), r1, x);
    CHECK(x.direction.shape(1) == 4);
  }
}

TEST_CASE("memory stages: T changing between steps, malformed state and bad options are named") {
  Rng rng(0);
  Aggregation out;
  for (const char* stage : kAllStages) {
    CAPTURE(std::string(stage));
    auto a = make_aggregator(json{{"name", stage}});
    a->aggregate(matrix({{1, 0}, {0, 1}}), rng, out);
    CHECK_THROWS_WITH_SUBSTR(a->aggregate(matrix({{1, 0}, {0, 1}, {1, 1}}), rng, out),
                             std::string(stage) + ": the Jacobian has T = 3 tasks but the state holds T = 2");
    CHECK_THROWS_WITH_SUBSTR(a->aggregate(zeros(0, 2), rng, out), std::string(stage) + ": the Jacobian has no rows");
    CHECK_THROWS_WITH_SUBSTR(a->load_state(json{{"x", 1}}), std::string(stage) + ": load_state: expected");
  }
  auto m = make_aggregator("pcgrad-momentum");
  m->aggregate(matrix({{1, 0}, {0, 1}}), rng, out);
  CHECK_THROWS_WITH_SUBSTR(m->aggregate(matrix({{1, 0, 0}, {0, 1, 0}}), rng, out),
                           "pcgrad-momentum: the Jacobian has P = 3 parameters but the state holds P = 2");
  auto ada = make_aggregator("ada-pcgrad");
  CHECK_THROWS_WITH_SUBSTR(ada->load_state(json{{"t", 2}, {"tasks", 3}, {"n", tensor_to_json(zeros(2, 2))}}),
                           "ada-pcgrad: load_state: 'n' has shape [2,2], expected [3,3]");
  CHECK_THROWS_WITH_SUBSTR(ada->load_state(json{{"t", 2}, {"tasks", 2}}), "ada-pcgrad: load_state: 'n' is missing");

  const auto bad = [](json spec, const std::string& words) {
    CHECK_THROWS_WITH_SUBSTR(make_aggregator(spec), words);
  };
  bad({{"name", "rmsprop-pcgrad"}, {"rho", 1}}, "aggregator: rmsprop-pcgrad: rho = 1.0 is out of range (expected in [0, 1))");
  bad({{"name", "rmsprop-pcgrad"}, {"rho", -0.5}}, "rho = -0.5 is out of range (expected in [0, 1))");
  bad({{"name", "adam-pcgrad"}, {"betas", {1, 0.5}}}, "adam-pcgrad: betas[0] = 1.0 is out of range (expected in [0, 1))");
  bad({{"name", "adam-pcgrad"}, {"betas", {0.5, 2}}}, "adam-pcgrad: betas[1] = 2.0 is out of range (expected in [0, 1))");
  bad({{"name", "adam-pcgrad"}, {"betas", {0.5}}}, "aggregator.betas: expected an array of 2 values");
  bad({{"name", "adam-pcgrad"}, {"eps", -1}}, "adam-pcgrad: eps = -1.0 is out of range (expected >= 0)");
  bad({{"name", "ada-pcgrad"}, {"power", -0.5}}, "ada-pcgrad: power = -0.5 is out of range (expected >= 0)");
  bad({{"name", "pcgrad-momentum"}, {"beta", 1}}, "pcgrad-momentum: beta = 1.0 is out of range (expected in [0, 1))");
  bad({{"name", "pcgrad-momentum"}, {"power", 1}}, "aggregator.power: unknown key");
  bad({{"name", "ada-pcgrad"}, {"rho", 0.5}}, "aggregator.rho: unknown key");
  bad({{"name", "adam-pcgrad"}, {"order", "backwards"}}, "aggregator.order: \"backwards\" is out of range");
}

TEST_CASE("memory stages: T = 1 and zero rows") {
  const Tensor one = matrix({{1, -2, 3}});
  const Tensor Z = matrix({{0, 0, 0}, {1, 2, 3}, {-1, 0, 0}});
  for (const char* stage : kAllStages) {
    CAPTURE(std::string(stage));
    const auto a = run_steps({{"name", stage}}, {one, one, one});
    for (const auto& o : a) CHECK_TENSOR_NEAR(o.direction, one, tolerance(1e-15, 1e-6));
    // The zero row never projects or is projected (cos = 0, k = 0); rows 2 and 3 conflict.
    const auto z = run_steps({{"name", stage}, {"order", "fixed"}}, {Z, Z});
    const Tensor pc = direct_pcgrad(rows_of(Z), fixed_perms(3));
    for (const auto& o : z) CHECK_TENSOR_NEAR(o.direction, pc, tolerance(1e-6, 1e-5));
    if (z[1].pair_strength.size() > 0) {
      CHECK(z[1].pair_strength(0, 1) == 0);
      CHECK(z[1].pair_strength(0, 2) == 0);
    }
  }
}

TEST_CASE("memory stages: options() lists every option and rebuilds the same stage") {
  CHECK(make_aggregator("adam-pcgrad")->options() ==
        json{{"name", "adam-pcgrad"}, {"order", "random"}, {"reduction", "sum"}, {"power", 1.0},
             {"betas", {real(0.9), real(0.999)}}, {"eps", real(1e-8)}});
  // The defaults that `mtlgrad list` prints are the options of a stage built with none.
  const std::vector<std::string> ours{"sum", "mean", "pcgrad", "ada-pcgrad", "rmsprop-pcgrad", "adam-pcgrad",
                                      "pcgrad-momentum"};
  for (const auto& e : aggregators().entries()) {
    if (std::find(ours.begin(), ours.end(), e.name) == ours.end()) continue;
    const json built = make_aggregator(e.name)->options();
    CAPTURE(e.name);
    for (auto it = e.defaults.begin(); it != e.defaults.end(); ++it) {
      REQUIRE(built.contains(it.key()));
      if (std::is_same_v<real, double>) CHECK(built[it.key()] == it.value());
    }
    CHECK(built.size() == e.defaults.size());
  }
  for (const char* stage : kAllStages) {
    auto a = make_aggregator(json{{"name", stage}, {"order", "fixed"}, {"reduction", "mean"}});
    CHECK(make_aggregator(a->options())->options() == a->options());
    CHECK(a->state()["t"] == 0);
  }
}

}  // TEST_SUITE
