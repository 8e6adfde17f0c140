// The trainer's part of the stage interface for the stages that need more than one batch's J and
// losses: the extra Jacobians of the sampler's next two batches (sdmgrad), the losses after the
// step (famo), head_scale, and a resumed run with them. The model is hand-checkable:
//   L_i(θ, h_i) = ½‖θ − a_i − k·1‖² + ½‖h_i − b_i‖²   on batch k,
// so g_i = θ − a_i − k·1 and ∇_{h_i} L_i = h_i − b_i.
#include "test_util.hpp"

#include <cmath>

#include "mtlgrad/mtl/trainer.hpp"
#include "mtlgrad/optim/famo.hpp"

using namespace mtlgrad;
using nlohmann::json;

namespace {

class Batches : public MultiTaskModel {
 public:
  Batches() {
    theta_.value = row({1, 2, 3});
    heads_.resize(2);
    heads_[0].value = row({1});
    heads_[1].value = row({-1});
  }
  std::size_t num_tasks() const override { return 2; }
  std::vector<NamedParameter> shared_parameters() override { return {{"theta", &theta_}}; }
  std::vector<NamedParameter> head_parameters(std::size_t i) override {
    return {{"head" + std::to_string(i) + ".h", &heads_[i]}};
  }
  Tensor a(std::size_t i, std::size_t k) const { return a_[i] + real(k); }
  void forward(Tape& t, std::vector<Var>& losses) override {
    ++forwards;
    losses.clear();
    Var th = t.param(theta_);
    for (std::size_t i = 0; i < 2; ++i)
      losses.push_back(real(0.5) * sum(pow(th - t.constant(a(i, k)), 2)) +
                       real(0.5) * sum(pow(t.param(heads_[i]) - t.constant(b_[i]), 2)));
  }
  bool next_batch() override {
    ++k;
    return false;
  }
  json data_state() const override { return {{"k", k}}; }
  void load_data_state(const json& s) override { k = s.at("k").get<std::size_t>(); }
  std::string describe() const override { return "batches"; }

  Parameter theta_;
  std::vector<Parameter> heads_;
  std::vector<Tensor> a_ = {row({0, 0, 0}), row({3, 0, 3})}, b_ = {row({0}), row({1})};
  std::size_t k = 0;
  int forwards = 0;
};

// d = Σ g_i; records what it is given; asks for both extras and scales the heads by 2 and 3.
class Recorder : public Aggregator {
 public:
  std::string name() const override { return "recorder"; }
  void aggregate(const Tensor& J, Rng&, Aggregation& out) override {
    out.direction = zeros(1, J.shape(1));
    for (std::size_t i = 0; i < J.shape(0); ++i)
      for (std::size_t c = 0; c < J.shape(1); ++c) out.direction(0, c) += J(i, c);
    out.head_scale = {2, 3};
  }
  void observe_extra_jacobians(const Tensor& a, const Tensor& b) override { Ja = a, Jb = b; }
  void observe_losses_after_step(const std::vector<real>& l) override { after = l; }
  bool wants_extra_jacobians() const override { return true; }
  bool wants_losses_after_step() const override { return true; }
  json options() const override { return {{"name", "recorder"}}; }
  Tensor Ja, Jb;
  std::vector<real> after;
};

Tensor as_row_weights(const std::vector<real>& w) {
  Tensor t = zeros(1, w.size());
  for (std::size_t k = 0; k < w.size(); ++k) t(0, k) = w[k];
  return t;
}

real half_sq(const Tensor& x) {
  real s = 0;
  for (real v : x) s += v * v;
  return s / 2;
}

Tensor jacobian(const Batches& m, std::size_t k) {
  Tensor J = zeros(2, 3);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t c = 0; c < 3; ++c) J(i, c) = m.theta_.value(0, c) - m.a(i, k)(0, c);
  return J;
}

}  // namespace

TEST_SUITE("mtl") {

TEST_CASE("trainer: extra Jacobians of the next two batches, head_scale and the losses after the step, by hand") {
  Batches m;
  auto* rec = new Recorder;
  Trainer tr(m, std::unique_ptr<Aggregator>(rec), make_optimizer(json{{"name", "sgd"}, {"lr", 0.1}}), {}, Rng(0));
  const Tensor J0 = jacobian(m, 0), J1 = jacobian(m, 1), J2 = jacobian(m, 2);
  const Tensor theta = m.theta_.value;
  tr.step();
  CHECK_TENSOR_NEAR(rec->Ja, J1, tolerance(1e-15, 1e-6));
  CHECK_TENSOR_NEAR(rec->Jb, J2, tolerance(1e-15, 1e-6));
  CHECK(m.k == 0);          // the data order is put back: the run's own batch is unchanged
  CHECK(m.forwards == 4);   // the step's, two extra batches', the losses after the step
  // θ' = θ − 0.1 (g_0 + g_1); h_i' = h_i − 0.1 · s_i (h_i − b_i) with s = (2, 3).
  Tensor theta1 = theta;
  for (std::size_t c = 0; c < 3; ++c) theta1(0, c) -= real(0.1) * (J0(0, c) + J0(1, c));
  CHECK_TENSOR_NEAR(m.theta_.value, theta1, tolerance(1e-15, 1e-6));
  CHECK(std::abs(m.heads_[0].value(0, 0) - real(1 - 0.1 * 2 * 1)) <= tolerance(1e-15, 1e-6));
  CHECK(std::abs(m.heads_[1].value(0, 0) - real(-1 - 0.1 * 3 * (-2))) <= tolerance(1e-15, 1e-6));
  // The losses after the step: the same batch (k = 0) at θ', h'.
  REQUIRE(rec->after.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const real expect = half_sq(theta1 - m.a(i, 0)) + half_sq(m.heads_[i].value - m.b_[i]);
    CHECK(std::abs(rec->after[i] - expect) <= tolerance(1e-14, 1e-5) * expect);
  }
}

TEST_CASE("trainer: famo's logits learn from the trainer's extra forward pass, its weights scale the heads") {
  Batches m;
  Trainer tr(m, make_aggregator({{"name", "famo"}, {"lr", 0.1}}), make_optimizer(json{{"name", "sgd"}, {"lr", 0.1}}),
             {}, Rng(0));
  const Tensor J = jacobian(m, 0);
  const real L0 = half_sq(m.theta_.value - m.a(0, 0)) + half_sq(m.heads_[0].value - m.b_[0]);
  const real L1 = half_sq(m.theta_.value - m.a(1, 0)) + half_sq(m.heads_[1].value - m.b_[1]);
  // Step 1: z = (½, ½), so w_i = (1/D_i) / (1/D_0 + 1/D_1), D_i = L_i + 1e-8.
  const real D0 = L0 + real(1e-8), D1 = L1 + real(1e-8);
  const real w0 = (1 / D0) / (1 / D0 + 1 / D1), w1 = 1 - w0;
  const auto& r = tr.step();
  REQUIRE(r.weights.size() == 2);
  CHECK(std::abs(r.weights[0] - w0) <= tolerance(1e-14, 1e-5));
  Tensor theta1 = zeros(1, 3);
  for (std::size_t c = 0; c < 3; ++c) theta1(0, c) = real(c + 1) - real(0.1) * (w0 * J(0, c) + w1 * J(1, c));
  CHECK_TENSOR_NEAR(m.theta_.value, theta1, tolerance(1e-14, 1e-5));
  const real h0 = 1 - real(0.1) * w0 * 1, h1 = -1 - real(0.1) * w1 * (-2);  // heads scaled by w_i
  CHECK(std::abs(m.heads_[0].value(0, 0) - h0) <= tolerance(1e-14, 1e-5));
  CHECK(std::abs(m.heads_[1].value(0, 0) - h1) <= tolerance(1e-14, 1e-5));
  // A stand-alone famo fed L and the hand-computed losses after the step has the same logits.
  const real A0 = half_sq(theta1 - m.a(0, 0)) + (h0 - 0) * (h0 - 0) / 2;
  const real A1 = half_sq(theta1 - m.a(1, 0)) + (h1 - 1) * (h1 - 1) / 2;
  FAMO ref(real(0.1));
  Rng rng(0);
  Aggregation out;
  ref.observe_losses({L0, L1});
  ref.aggregate(J, rng, out);
  ref.observe_losses_after_step({A0, A1});
  const auto& got = dynamic_cast<const FAMO&>(tr.aggregator()).logits();
  REQUIRE(got.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) CHECK(std::abs(got[i] - ref.logits()[i]) <= tolerance(1e-12, 1e-4));
  CHECK(got[0] != 0);
}

TEST_CASE("trainer: sdmgrad gets the Jacobians of the sampler's next two batches") {
  Batches m;
  // A small inner lr keeps w inside the simplex, where the two answers differ.
  const json spec{{"name", "sdmgrad"}, {"lr", 0.1}};
  Trainer tr(m, make_aggregator(spec), make_optimizer(json{{"name", "sgd"}, {"lr", 0.1}}), {}, Rng(0));
  const Tensor J0 = jacobian(m, 0), J1 = jacobian(m, 1), J2 = jacobian(m, 2);
  auto ref = make_aggregator(spec), single = make_aggregator(spec);
  Rng rng(0);
  Aggregation want, alone;
  ref->observe_extra_jacobians(J1, J2);
  ref->aggregate(J0, rng, want);
  single->aggregate(J0, rng, alone);
  const auto& r = tr.step();
  CHECK_TENSOR_NEAR(as_row_weights(r.weights), as_row_weights(want.weights), tolerance(1e-13, 1e-4));
  CHECK(std::abs(r.weights[0] - alone.weights[0]) > 1e-3);  // not the single-batch answer
  CHECK(m.k == 0);
}

TEST_CASE("trainer: a run with famo or sdmgrad resumes bit-identically from its state") {
  for (const char* agg : {"famo", "sdmgrad"}) {
    CAPTURE(agg);
    Batches m1, m2;
    const json opt{{"name", "adam"}, {"lr", 0.05}};
    Trainer t1(m1, make_aggregator(agg), make_optimizer(opt), {}, Rng(3));
    for (int s = 0; s < 3; ++s) {
      t1.step();
      m1.next_batch();
    }
    const json saved = json::parse(t1.state().dump());
    for (int s = 0; s < 4; ++s) {
      t1.step();
      m1.next_batch();
    }
    Trainer t2(m2, make_aggregator(agg), make_optimizer(opt), {}, Rng(3));
    t2.load_state(saved);
    CHECK(m2.k == 3);
    for (int s = 0; s < 4; ++s) {
      t2.step();
      m2.next_batch();
    }
    CHECK(m1.theta_.value == m2.theta_.value);
    CHECK(m1.heads_[0].value == m2.heads_[0].value);
    CHECK(m1.heads_[1].value == m2.heads_[1].value);
    CHECK(t1.aggregator().state() == t2.aggregator().state());
  }
}

}  // TEST_SUITE
