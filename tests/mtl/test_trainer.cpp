// The trainer's pipeline on a model whose gradients are known in closed form:
//   L_i(θ, h_i) = ½‖θ − a_i‖² + ½‖h_i − b_i‖²,  so  g_i = ∇_θ(w_i L_i) = w_i(θ − a_i),
//   ∇_{h_i}(w_i L_i) = w_i(h_i − b_i).
#include "test_util.hpp"
#include "scripted_stage.hpp"

#include <algorithm>
#include <cmath>

#include "mtlgrad/mtl/trainer.hpp"

using namespace mtlgrad;
using nlohmann::json;

namespace {

class Quadratics : public MultiTaskModel {
 public:
  Quadratics(Tensor theta, std::vector<Tensor> a, std::vector<Tensor> h, std::vector<Tensor> b)
      : a_(std::move(a)), b_(std::move(b)) {
    theta_.name = "theta";
    theta_.value = theta;
    heads_.resize(h.size());
    for (std::size_t i = 0; i < h.size(); ++i) {
      heads_[i].name = "h";
      heads_[i].value = h[i];
    }
  }
  std::size_t num_tasks() const override { return a_.size(); }
  std::vector<std::string> task_names() const override {
    std::vector<std::string> n;
    for (std::size_t i = 0; i < a_.size(); ++i) n.push_back(std::string(1, char('a' + i)));
    return n;
  }
  std::vector<NamedParameter> shared_parameters() override { return {{"theta", &theta_}}; }
  std::vector<NamedParameter> head_parameters(std::size_t i) override {
    return {{"head" + std::to_string(i) + ".h", &heads_[i]}};
  }
  void forward(Tape& t, std::vector<Var>& losses) override {
    ++forwards;
    losses.clear();
    Var th = t.param(theta_);
    for (std::size_t i = 0; i < a_.size(); ++i) {
      Var L = real(0.5) * sum(pow(th - t.constant(a_[i]), 2)) +
              real(0.5) * sum(pow(t.param(heads_[i]) - t.constant(b_[i]), 2));
      if (nan_at_forward && forwards == nan_at_forward && i == 1) L = L * std::numeric_limits<real>::quiet_NaN();
      losses.push_back(L);
    }
  }
  std::string describe() const override { return "quadratics"; }

  Parameter theta_;
  std::vector<Parameter> heads_;
  std::vector<Tensor> a_, b_;
  int forwards = 0;
  int nan_at_forward = 0;
};

Quadratics two_tasks() {
  return Quadratics(row({1, 2, 3}), {row({0, 0, 0}), row({2, 4, -3})}, {row({1}), row({-1})}, {row({0}), row({1})});
}

std::unique_ptr<Trainer> make(Quadratics& m, const std::string& agg, json opt, TrainerOptions o = {}) {
  return std::make_unique<Trainer>(m, make_aggregator(json{{"name", agg}}), make_optimizer(opt), o, Rng(0));
}

/// ScriptedStage whose d has its last entry scaled by `factor` at the calls in `bad` (inf: a
/// non-finite direction; 1e306: a finite d whose step overflows).
std::unique_ptr<Aggregator> scripted_stage(std::vector<int> bad, real factor, std::vector<int> capped = {}) {
  return std::make_unique<test::ScriptedStage>(
      std::move(bad), [factor](Tensor& d) { d(0, d.shape(1) - 1) *= factor; }, std::move(capped));
}

std::unique_ptr<Trainer> make_scripted(Quadratics& m, std::unique_ptr<Aggregator> stage, json opt,
                                       NonFinitePolicy policy) {
  TrainerOptions o;
  o.nonfinite = policy;
  return std::make_unique<Trainer>(m, std::move(stage), make_optimizer(opt), o, Rng(0));
}

}  // namespace

TEST_SUITE("trainer") {

TEST_CASE("sum + sgd: one step by hand, with task weights") {
  Quadratics m = two_tasks();
  TrainerOptions o;
  o.task_weights = {1, 2};
  auto tr = make(m, "sum", json{{"name", "sgd"}, {"lr", 0.1}}, o);
  const StepRecord& r = tr->step();
  // g_a = 1·(θ − a) = (1, 2, 3); g_b = 2·(θ − b_a) = 2·(−1, −2, 6) = (−2, −4, 12); d = (−1, −2, 15).
  // θ' = θ − 0.1 d = (1.1, 2.2, 1.5). Heads: h_a' = 1 − 0.1·1·(1 − 0) = 0.9;
  // h_b' = −1 − 0.1·2·(−1 − 1) = −0.6.
  const double e = tolerance(1e-15, 1e-6);
  CHECK_TENSOR_NEAR(m.theta_.value, row({1.1, 2.2, 1.5}), e);
  CHECK(m.heads_[0].value(0, 0) == doctest::Approx(0.9).epsilon(e));
  CHECK(m.heads_[1].value(0, 0) == doctest::Approx(-0.6).epsilon(e));
  // Metrics: L_a = ½(1+4+9) + ½ = 7.5, L_b = ½(1+4+36) + ½·4 = 22.5 (unweighted).
  CHECK(r.losses[0] == doctest::Approx(7.5).epsilon(e));
  CHECK(r.losses[1] == doctest::Approx(22.5).epsilon(e));
  // ‖g_a‖ = √14, ‖g_b‖ = √(4+16+144) = √164, g_a·g_b = −2 − 8 + 36 = 26.
  CHECK(r.grad_norms[0] == doctest::Approx(std::sqrt(14.0)).epsilon(e));
  CHECK(r.grad_norms[1] == doctest::Approx(std::sqrt(164.0)).epsilon(e));
  CHECK(r.cos(0, 1) == doctest::Approx(26 / std::sqrt(14.0 * 164.0)).epsilon(e));
  CHECK(r.conflicts == 0);
  CHECK(r.direction_norm == doctest::Approx(std::sqrt(1.0 + 4 + 225)).epsilon(e));
  CHECK(r.weights == std::vector<real>{1, 1});
  CHECK(tr->steps() == 1);
}

TEST_CASE("pcgrad in the pipeline: a conflicting pair by hand") {
  // θ = (0, 0), a_1 = (−1, 0) → g_1 = (1, 0); a_2 = (1, −1) → g_2 = (−1, 1); g_1·g_2 = −1 < 0.
  // g_1' = g_1 − (−1/2) g_2 = (0.5, 0.5); g_2' = g_2 − (−1/1) g_1 = (0, 1); d = (0.5, 1.5).
  Quadratics m(row({0, 0}), {row({-1, 0}), row({1, -1})}, {row({0}), row({0})}, {row({0}), row({0})});
  auto tr = make(m, "pcgrad", json{{"name", "sgd"}, {"lr", 1}});
  const StepRecord& r = tr->step();
  CHECK(r.conflicts == 1);
  CHECK(r.cos(0, 1) == doctest::Approx(-1 / std::sqrt(2.0)));
  CHECK_TENSOR_NEAR(m.theta_.value, row({-0.5, -1.5}), tolerance(1e-15, 1e-6));
}

TEST_CASE("scope all: surgery on the whole vector, heads included") {
  // Same conflict in θ; heads h_i − b_i = (1) and (1). Full vectors: g_1 = (1, 0, 1, 0),
  // g_2 = (−1, 1, 0, 1): g_1·g_2 = −1. g_1' = g_1 + ⅓ g_2 = (⅔, ⅓, 1, ⅓);
  // g_2' = g_2 + ½ g_1 = (−½, 1, ½, 1). d = (⅙, 4/3, 3/2, 4/3): task 1's head receives ⅓ from
  // task 2's projection — the difference scope "shared" avoids.
  Quadratics m(row({0, 0}), {row({-1, 0}), row({1, -1})}, {row({1}), row({1})}, {row({0}), row({0})});
  TrainerOptions o;
  o.scope = GradientScope::all;
  auto tr = make(m, "pcgrad", json{{"name", "sgd"}, {"lr", 1}}, o);
  tr->step();
  const double e = tolerance(1e-15, 1e-6);
  CHECK_TENSOR_NEAR(m.theta_.value, row({-1.0 / 6, -4.0 / 3}), e);
  CHECK(m.heads_[0].value(0, 0) == doctest::Approx(1 - 1.5).epsilon(e));
  CHECK(m.heads_[1].value(0, 0) == doctest::Approx(1 - 4.0 / 3).epsilon(e));
}

TEST_CASE("nag: the gradients are taken at the look-ahead point") {
  // One task, L = ½‖θ‖² (a = 0), so ∇L(x) = x. nag with lr η, momentum μ:
  //   θ̃ = θ − ημv;  v ← μv + θ̃;  θ ← θ − ηv.
  Quadratics m(row({1, -2}), {row({0, 0})}, {row({0})}, {row({0})});
  const double eta = 0.1, mu = 0.9;
  auto tr = make(m, "sum", json{{"name", "nag"}, {"lr", eta}, {"momentum", mu}});
  double th[2] = {1, -2}, v[2] = {0, 0};
  for (int s = 0; s < 5; ++s) {
    tr->step();
    for (int k = 0; k < 2; ++k) {
      const double look = th[k] - eta * mu * v[k];
      v[k] = mu * v[k] + look;
      th[k] -= eta * v[k];
    }
    CHECK(m.theta_.value(0, 0) == doctest::Approx(th[0]).epsilon(tolerance(1e-14, 1e-6)));
    CHECK(m.theta_.value(0, 1) == doctest::Approx(th[1]).epsilon(tolerance(1e-14, 1e-6)));
  }
}

TEST_CASE("a non-finite loss stops the run naming the step and the task, or is skipped and counted") {
  SUBCASE("error") {
    Quadratics m = two_tasks();
    m.nan_at_forward = 3;
    auto tr = make(m, "sum", json{{"name", "sgd"}, {"lr", 0.01}});
    tr->step();
    tr->step();
    CHECK_THROWS_WITH_SUBSTR(tr->step(), "step 3: loss of task 1 (b) is nan");
  }
  SUBCASE("skip") {
    Quadratics m = two_tasks();
    m.nan_at_forward = 2;
    TrainerOptions o;
    o.nonfinite = NonFinitePolicy::skip;
    auto tr = make(m, "sum", json{{"name", "sgd"}, {"lr", 0.01}}, o);
    tr->step();
    const Tensor after1 = m.theta_.value;
    const StepRecord& r = tr->step();
    CHECK(r.skipped);
    CHECK(m.theta_.value == after1);
    tr->step();
    CHECK(tr->skipped_steps() == 1);
    CHECK(tr->steps() == 3);
    CHECK(m.theta_.value != after1);
  }
}

TEST_CASE("a non-finite direction stops the run naming the step and the stage, or is skipped leaving no trace") {
  const json adam = {{"name", "adam"}, {"lr", 0.05}};
  SUBCASE("error") {
    Quadratics m = two_tasks();
    auto tr = make_scripted(m, scripted_stage(std::vector<int>{3}, INFINITY), adam,
                            NonFinitePolicy::error);
    tr->step();
    tr->step();
    try {
      tr->step();
      FAIL("no exception");
    } catch (const NonFiniteError& e) {
      CHECK(std::string(e.what()) == "step 3: the aggregator 'scripted' returned a non-finite direction (d[2] = inf)");
      CHECK(e.step == 3);
      CHECK(e.source == "aggregator scripted");
      CHECK(tr->steps() == 2);
    }
  }
  SUBCASE("skip: the final state equals a run without that step") {
    // Step 3 of 6 skipped: parameters, adam's moments and the stage's state (its call count) as
    // after step 2, so the run equals 5 clean steps bit for bit.
    Quadratics m = two_tasks(), ref = two_tasks();
    auto tr = make_scripted(m, scripted_stage(std::vector<int>{3}, INFINITY), adam,
                            NonFinitePolicy::skip);
    auto clean = make_scripted(ref, scripted_stage(std::vector<int>{}, real(1)), adam,
                               NonFinitePolicy::skip);
    tr->step();
    tr->step();
    const Tensor before = m.theta_.value;
    const json opt_before = tr->optimizer().state();
    const StepRecord& r = tr->step();
    CHECK(r.skipped);
    CHECK(m.theta_.value == before);
    CHECK(tr->optimizer().state() == opt_before);
    // The stage's outputs of the discarded step are NaN, not the previous step's.
    CHECK(std::isnan(r.direction_norm));
    REQUIRE(r.weights.size() == 2);
    CHECK(std::isnan(r.weights[0]));
    REQUIRE(r.stage_metrics.size() == 2);
    CHECK(std::isnan(r.stage_metrics[1]));
    for (int s = 0; s < 3; ++s) tr->step();
    for (int s = 0; s < 5; ++s) clean->step();
    CHECK(tr->steps() == 6);
    CHECK(tr->skipped_steps() == 1);
    CHECK(m.theta_.value == ref.theta_.value);
    CHECK(m.heads_[1].value == ref.heads_[1].value);
    CHECK(tr->optimizer().state() == clean->optimizer().state());
    CHECK(tr->aggregator().state() == 5);
  }
}

TEST_CASE("a step that makes θ' non-finite stops the run naming the optimizer, or is undone under skip") {
  // sgd, lr 10, momentum 0.5: step 1 takes θ = (1, 2, 3) to (1, 2, −87) (d = (0, 0, 9)); at step 2
  // d_2 = −171 is scaled by `big`, still finite, and the momentum buffer ≈ −171·big makes
  // θ_2' = −87 + 1710·big = +inf. A skip must undo the buffer too.
  const json sgd = {{"name", "sgd"}, {"lr", 10}, {"momentum", 0.5}};
  const real big = sizeof(real) == 8 ? real(1e306) : real(1e36);
  SUBCASE("error") {
    Quadratics m = two_tasks();
    auto tr = make_scripted(m, scripted_stage(std::vector<int>{2}, big), sgd,
                            NonFinitePolicy::error);
    tr->step();
    try {
      tr->step();
      FAIL("no exception");
    } catch (const NonFiniteError& e) {
      CHECK(std::string(e.what()) == "step 2: the optimizer 'sgd' made a non-finite step: parameter theta[2] became inf");
      CHECK(e.source == "optimizer sgd");
    }
  }
  SUBCASE("skip") {
    Quadratics m = two_tasks(), ref = two_tasks();
    auto tr = make_scripted(m, scripted_stage(std::vector<int>{2}, big), sgd,
                            NonFinitePolicy::skip);
    auto clean = make_scripted(ref, scripted_stage(std::vector<int>{}, real(1)), sgd,
                               NonFinitePolicy::skip);
    tr->step();
    const Tensor before = m.theta_.value;
    CHECK(tr->step().skipped);
    CHECK(m.theta_.value == before);
    tr->step();
    clean->step();
    clean->step();
    CHECK(tr->skipped_steps() == 1);
    CHECK(m.theta_.value == ref.theta_.value);
    CHECK(tr->optimizer().state() == clean->optimizer().state());
  }
}

TEST_CASE("a finite direction whose ‖d‖² overflows is not mistaken for a non-finite one") {
  // d_2 = 9·big is finite, its square is not: ‖d‖ is logged as inf, the step goes on.
  const real big = sizeof(real) == 8 ? real(1e200) : real(1e30);
  const double lr = sizeof(real) == 8 ? 1e-200 : 1e-30;
  Quadratics m = two_tasks();
  auto tr = make_scripted(m, scripted_stage(std::vector<int>{1}, big),
                          json{{"name", "sgd"}, {"lr", lr}}, NonFinitePolicy::error);
  const StepRecord& r = tr->step();
  CHECK_FALSE(r.skipped);
  CHECK(std::isinf(r.direction_norm));
  CHECK(std::isfinite(m.theta_.value(0, 2)));
  CHECK(m.theta_.value(0, 2) == doctest::Approx(3 - 9).epsilon(1e-5));  // θ_2 − lr·9·big
  CHECK(tr->steps() == 1);
}

TEST_CASE("the stage's declared metrics and solver_capped reach the step record and the count") {
  Quadratics m = two_tasks();
  auto tr = make_scripted(m, scripted_stage(std::vector<int>{}, real(1), std::vector<int>{2, 4}),
                          json{{"name", "sgd"}, {"lr", 0.01}}, NonFinitePolicy::error);
  CHECK(tr->stage_metric_names() == std::vector<std::string>{"solver_iters", "solver_residual"});
  CHECK(tr->records_weights());
  CHECK_FALSE(tr->records_pair_strength());
  const StepRecord& r1 = tr->step();
  CHECK(r1.stage_metrics == std::vector<real>{1, 1});
  CHECK_FALSE(r1.solver_capped);
  const StepRecord& r2 = tr->step();
  CHECK(r2.stage_metrics == std::vector<real>{2, real(0.5)});
  CHECK(r2.solver_capped);
  tr->step();
  tr->step();
  CHECK(tr->solver_capped_steps() == 2);
  // The count is part of the state a resumed run continues from.
  Quadratics m2 = two_tasks();
  auto t2 = make_scripted(m2, scripted_stage(std::vector<int>{}, real(1)),
                          json{{"name", "sgd"}, {"lr", 0.01}}, NonFinitePolicy::error);
  t2->load_state(json::parse(tr->state().dump()));
  CHECK(t2->solver_capped_steps() == 2);
}

TEST_CASE("every registered stage holds what it declares: weights, λ and its metrics") {
  // metrics.csv's header is built from weighting(), pair_strengths() and metric_names() before the
  // first step; each stage's Aggregation must then have exactly those parts.
  const Tensor J = row({1, 2, -1, 0.5});
  Tensor J2 = zeros(2, 4);
  for (std::size_t c = 0; c < 4; ++c) {
    J2(0, c) = J(0, c);
    J2(1, c) = real(c % 2 ? -1 : 2) * real(c + 1);
  }
  for (const auto& e : aggregators().entries()) {
    INFO(e.name);
    json spec = e.defaults;
    if (e.name == "weighted") spec["weights"] = {1, 2};  // no default: one weight per task
    auto a = make_aggregator(spec);
    Rng rng(1);
    Aggregation out;
    a->observe_losses({real(1), real(2)});
    a->aggregate(J2, rng, out);
    CHECK(out.weights.empty() == !a->weighting());
    CHECK((out.pair_strength.size() == 0) == !a->pair_strengths());
    CHECK(out.metrics.size() == a->metric_names().size());
  }
}

TEST_CASE("state() and load_state() continue bit-identically") {
  for (const std::string agg : {"pcgrad", "adam-pcgrad", "pcgrad-momentum"}) {
    INFO(agg);
    Quadratics m1 = two_tasks(), m2 = two_tasks();
    auto t1 = make(m1, agg, json{{"name", "adam"}, {"lr", 0.05}});
    for (int s = 0; s < 5; ++s) t1->step();
    const json saved = json::parse(t1->state().dump());
    for (int s = 0; s < 5; ++s) t1->step();
    auto t2 = make(m2, agg, json{{"name", "adam"}, {"lr", 0.05}});
    t2->load_state(saved);
    CHECK(t2->steps() == 5);
    for (int s = 0; s < 5; ++s) t2->step();
    CHECK(m1.theta_.value == m2.theta_.value);
    CHECK(m1.heads_[1].value == m2.heads_[1].value);
  }
}

TEST_CASE("trainer errors name what is wrong") {
  Quadratics m = two_tasks();
  TrainerOptions o;
  o.task_weights = {1, 2, 3};
  CHECK_THROWS_WITH_SUBSTR(make(m, "sum", json{{"name", "sgd"}}, o), "task_weights has 3 values but the model has 2 tasks");
  auto tr = make(m, "sum", json{{"name", "sgd"}});
  json bad = json::parse(tr->state().dump());
  bad["params"]["theta"]["shape"] = {1, 2};
  bad["params"]["theta"]["data"] = {1, 2};
  CHECK_THROWS_WITH_SUBSTR(tr->load_state(bad), "trainer: load_state: 'theta' has shape [1,2], expected [1,3]");
  bad["params"].erase("theta");
  CHECK_THROWS_WITH_SUBSTR(tr->load_state(bad), "trainer: load_state: 'theta' is missing");
}

}  // TEST_SUITE
