// The trainer's granularity option: whole, per_layer, representation.
#include "test_util.hpp"

#include "mtlgrad/data/teacher.hpp"
#include "mtlgrad/mtl/trainer.hpp"
#include "mtlgrad/models/hps_mlp.hpp"
#include "mtlgrad/models/toy2d.hpp"

using namespace mtlgrad;
using nlohmann::json;

namespace {

// Two shared groups "a.w" and "b.w" (1×2 each), no heads:
//   L_i = ½‖a − p_i‖² + ½‖b − q_i‖²,  so row i of J is (a − p_i, b − q_i).
class TwoGroups : public MultiTaskModel {
 public:
  TwoGroups(std::vector<Tensor> p, std::vector<Tensor> q) : p_(std::move(p)), q_(std::move(q)) {
    a_.value = row({0, 0});
    b_.value = row({0, 0});
  }
  std::size_t num_tasks() const override { return p_.size(); }
  std::vector<NamedParameter> shared_parameters() override { return {{"a.w", &a_}, {"b.w", &b_}}; }
  std::vector<NamedParameter> head_parameters(std::size_t) override { return {}; }
  void forward(Tape& t, std::vector<Var>& losses) override {
    losses.clear();
    for (std::size_t i = 0; i < p_.size(); ++i)
      losses.push_back(real(0.5) * (sum(pow(t.param(a_) - t.constant(p_[i]), 2)) +
                                    sum(pow(t.param(b_) - t.constant(q_[i]), 2))));
  }
  std::string describe() const override { return "two groups"; }
  Parameter a_, b_;
  std::vector<Tensor> p_, q_;
};

}  // namespace

TEST_SUITE("granularity") {

TEST_CASE("per_layer: pcgrad on each group's columns separately, by hand") {
  // Group a: g_1 = (1, 0), g_2 = (−1, 1) conflict → d_a = (0.5, 1.5) (worked out in test_trainer).
  // Group b: g_1 = (1, 1), g_2 = (1, −0.5): g_1·g_2 = 0.5 ≥ 0, no conflict → d_b = (2, 0.5).
  // Whole vector: g_1·g_2 = −1 + 0.5 = −0.5 < 0, a different answer — the point of per_layer.
  TwoGroups m({row({-1, 0}), row({1, -1})}, {row({-1, -1}), row({-1, 0.5})});
  TrainerOptions o;
  o.granularity = Granularity::per_layer;
  Trainer t(m, make_aggregator(json{{"name", "pcgrad"}, {"order", "fixed"}}), make_optimizer(json{{"name", "sgd"}, {"lr", 1}}),
            o, Rng(0));
  CHECK(t.group_names() == std::vector<std::string>{"a", "b"});
  t.step();
  const double e = tolerance(1e-15, 1e-6);
  CHECK_TENSOR_NEAR(m.a_.value, row({-0.5, -1.5}), e);
  CHECK_TENSOR_NEAR(m.b_.value, row({-2, -0.5}), e);

  TwoGroups w({row({-1, 0}), row({1, -1})}, {row({-1, -1}), row({-1, 0.5})});
  Trainer whole(w, make_aggregator(json{{"name", "pcgrad"}, {"order", "fixed"}}), make_optimizer(json{{"name", "sgd"}, {"lr", 1}}),
                {}, Rng(0));
  whole.step();
  CHECK(w.a_.value != m.a_.value);
}

TEST_CASE("per_layer keeps one stage state per group and checkpoints them all") {
  auto build = [] { return TwoGroups({row({-1, 0}), row({1, -1})}, {row({-1, -1}), row({-1, 0.5})}); };
  TrainerOptions o;
  o.granularity = Granularity::per_layer;
  TwoGroups m1 = build(), m2 = build();
  Trainer t1(m1, make_aggregator(json{{"name", "adam-pcgrad"}}), make_optimizer(json{{"name", "adam"}, {"lr", 0.1}}), o, Rng(1));
  for (int s = 0; s < 3; ++s) t1.step();
  const json st = json::parse(t1.state().dump());
  CHECK(st["aggregator"].is_array());
  CHECK(st["aggregator"].size() == 2);
  for (int s = 0; s < 3; ++s) t1.step();
  Trainer t2(m2, make_aggregator(json{{"name", "adam-pcgrad"}}), make_optimizer(json{{"name", "adam"}, {"lr", 0.1}}), o, Rng(1));
  t2.load_state(st);
  for (int s = 0; s < 3; ++s) t2.step();
  CHECK(m1.a_.value == m2.a_.value);
  CHECK(m1.b_.value == m2.b_.value);
}

TEST_CASE("representation: with a linear stage it equals the whole-vector step (chain rule)") {
  // ∇θ_s Σ_i L_i = Σ_i (∂Z/∂θ_s)ᵀ ∇_Z L_i: summing on Z then one backward gives the same gradient.
  TeacherOptions to;
  to.n = 64;
  to.n_test = 8;
  to.tasks = {TaskSpec::regression("r", 2), TaskSpec::classification("c", 3)};
  const DataSplit data = make_teacher_data(to);
  models::HpsMlpOptions ho;
  ho.trunk = {8, 6};
  ho.activation = "tanh";
  models::HpsMlp a(ho, data, 16, Rng(3), Rng(4)), b(ho, data, 16, Rng(3), Rng(4));
  TrainerOptions rep;
  rep.granularity = Granularity::representation;
  rep.task_weights = {1, 0.5};
  TrainerOptions whole;
  whole.task_weights = {1, 0.5};
  Trainer ta(a, make_aggregator(json{{"name", "sum"}}), make_optimizer(json{{"name", "sgd"}, {"lr", 0.1}}), rep, Rng(0));
  Trainer tb(b, make_aggregator(json{{"name", "sum"}}), make_optimizer(json{{"name", "sgd"}, {"lr", 0.1}}), whole, Rng(0));
  for (int s = 0; s < 3; ++s) {
    const StepRecord& r = ta.step();
    CHECK(ta.task_gradients().J.shape(1) == 16 * 6);  // B·h
    CHECK(r.losses.size() == 2);
    tb.step();
    a.next_batch();
    b.next_batch();
  }
  auto pa = a.all_parameters(), pb = b.all_parameters();
  for (std::size_t k = 0; k < pa.size(); ++k) {
    INFO(pa[k].name);
    CHECK_TENSOR_NEAR(pa[k].param->value, pb[k].param->value, tolerance(1e-12, 1e-5));
  }
}

TEST_CASE("representation errors name the problem") {
  models::Toy2d toy({1, 1});
  TrainerOptions o;
  o.granularity = Granularity::representation;
  Trainer t(toy, make_aggregator(json{{"name", "mean"}}), make_optimizer(json{{"name", "sgd"}}), o, Rng(0));
  CHECK_THROWS_WITH_SUBSTR(t.step(), "granularity \"representation\" needs a model with a shared representation");
  o.scope = GradientScope::all;
  CHECK_THROWS_WITH_SUBSTR(Trainer(toy, make_aggregator(json{{"name", "sum"}}), make_optimizer(json{{"name", "sgd"}}), o, Rng(0)),
                           "needs scope \"shared\"");
  CHECK_THROWS_WITH_SUBSTR(parse_granularity("layer", "granularity"), "granularity: unknown granularity 'layer'");
}

}  // TEST_SUITE
