// AgreementTracker (means, bias-corrected EMAs, conflict rates, history, state) on hand-made
// StepRecords, best_grouping against an independent brute force, TagAffinity on a quadratic
// model whose look-ahead losses are computed by hand below.
#include <algorithm>
#include <cmath>
#include <limits>

#include "mtlgrad/autograd/ops.hpp"
#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/mtl/agreement.hpp"
#include "test_util.hpp"

using namespace mtlgrad;
using mtlgrad::test::max_rel_err;

namespace {

/// A 3-task record with the given off-diagonal cosines (c01, c02, c12), diagonal 1.
StepRecord rec(std::size_t step, real c01, real c02, real c12) {
  StepRecord r;
  r.step = step;
  r.cos = matrix({{1, c01, c02}, {c01, 1, c12}, {c02, c12, 1}});
  return r;
}

// The three steps of the hand computations below.
std::vector<StepRecord> three_steps() {
  return {rec(1, real(0.5), real(-0.2), real(0.0)), rec(2, real(-0.4), real(-0.6), real(0.3)),
          rec(3, real(0.2), real(0.4), real(-0.1))};
}

}  // namespace

TEST_SUITE("agreement") {

TEST_CASE("tracker: plain means and conflict rates of three hand-made steps") {
  AgreementTracker tr;
  for (const auto& r : three_steps()) tr.record(r);
  CHECK(tr.count() == 3);
  CHECK(tr.tasks() == 3);
  // c01 = (0.5 − 0.4 + 0.2)/3 = 0.1; c02 = (−0.2 − 0.6 + 0.4)/3 = −0.4/3; c12 = (0 + 0.3 − 0.1)/3 = 0.2/3
  const Tensor mean = matrix({{1, 0.1, -0.4 / 3}, {0.1, 1, 0.2 / 3}, {-0.4 / 3, 0.2 / 3, 1}});
  CHECK(max_rel_err(tr.mean_cos(), mean) <= tolerance(1e-15, 1e-6));
  // conflicts (cos < 0; a cosine of exactly 0 is no conflict): 01: step 2; 02: steps 1, 2; 12: step 3
  const Tensor rate = matrix({{0, 1.0 / 3, 2.0 / 3}, {1.0 / 3, 0, 1.0 / 3}, {2.0 / 3, 1.0 / 3, 0}});
  CHECK(max_rel_err(tr.conflict_rate(), rate) <= tolerance(1e-15, 1e-6));
}

TEST_CASE("tracker: bias-corrected EMA written out by hand") {
  AgreementOptions o;
  o.beta = real(0.5);
  AgreementTracker tr(o);
  const auto steps = three_steps();
  tr.record(steps[0]);
  // n = 1: ê = (1 − β)x / (1 − β) = x
  CHECK(double(tr.ema_cos()(0, 1)) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(double(tr.ema_conflict()(0, 2)) == doctest::Approx(1.0).epsilon(1e-15));
  tr.record(steps[1]);
  tr.record(steps[2]);
  // e3 = 0.125 x1 + 0.25 x2 + 0.5 x3, 1 − β³ = 0.875
  // c01: (0.0625 − 0.1 + 0.1)/0.875 = 1/14;  c02: (−0.025 − 0.15 + 0.2)/0.875 = 0.025/0.875 = 1/35
  // c12: (0 + 0.075 − 0.05)/0.875 = 1/35;    k02: (0.125 + 0.25)/0.875 = 3/7;  k12: 0.5/0.875 = 4/7
  const real tol = tolerance(1e-14, 1e-6);
  CHECK(std::abs(tr.ema_cos()(0, 1) - real(1.0 / 14)) <= tol);
  CHECK(std::abs(tr.ema_cos()(0, 2) - real(1.0 / 35)) <= tol);
  CHECK(std::abs(tr.ema_cos()(2, 1) - real(1.0 / 35)) <= tol);
  CHECK(std::abs(tr.ema_conflict()(2, 0) - real(3.0 / 7)) <= tol);
  CHECK(std::abs(tr.ema_conflict()(1, 2) - real(4.0 / 7)) <= tol);
  CHECK(std::abs(tr.ema_conflict()(0, 1) - real(0.25 / 0.875)) <= tol);
  // a constant input gives exactly that constant (diagonal cos = 1 every step), up to rounding
  CHECK(std::abs(tr.ema_cos()(1, 1) - 1) <= tol);
}

TEST_CASE("tracker: beta 0 is the last step and skipped steps are not recorded") {
  AgreementOptions o;
  o.beta = 0;
  AgreementTracker tr(o);
  auto steps = three_steps();
  tr.record(steps[0]);
  StepRecord bad = rec(2, std::numeric_limits<real>::quiet_NaN(), 0, 0);
  bad.skipped = true;
  tr.record(bad);
  tr.record(steps[1]);
  CHECK(tr.count() == 2);
  CHECK(tr.ema_cos()(0, 1) == real(-0.4));
  CHECK(tr.ema_conflict()(0, 1) == 1);
  CHECK(std::abs(tr.mean_cos()(0, 1) - real(0.05)) <= tolerance(1e-15, 1e-6));
}

TEST_CASE("tracker: history every n-th step by step number") {
  AgreementOptions o;
  o.history_every = 2;
  AgreementTracker tr(o);
  for (const auto& r : three_steps()) tr.record(r);
  REQUIRE(tr.history().size() == 1);
  CHECK(tr.history()[0].step == 2);
  CHECK(tr.history()[0].cos == std::vector<real>{real(-0.4), real(-0.6), real(0.3)});
  o.history_every = 0;
  AgreementTracker none(o);
  for (const auto& r : three_steps()) none.record(r);
  CHECK(none.history().empty());
}

TEST_CASE("tracker: errors name what was wrong") {
  AgreementOptions o;
  o.beta = 1;
  CHECK_THROWS_WITH_SUBSTR(AgreementTracker{o}, "agreement: beta = 1.000000 is out of range [0, 1)");
  o.beta = -0.1;
  CHECK_THROWS_WITH_SUBSTR(AgreementTracker{o}, "out of range [0, 1)");
  AgreementTracker tr;
  tr.record(three_steps()[0]);
  StepRecord two;
  two.step = 2;
  two.cos = matrix({{1, 0}, {0, 1}});
  CHECK_THROWS_WITH_SUBSTR(tr.record(two), "step 2 has a cos matrix of shape [2,2], the tracker holds T = 3");
  CHECK_THROWS_WITH_SUBSTR(tr.record_tag(zeros(2, 2)), "a TAG affinity of shape [2,2] for T = 3");
  CHECK_THROWS_WITH_SUBSTR(tr.load_state({{"tasks", 3}}), "agreement: load_state: 'sum_cos' is missing");
  CHECK_THROWS_WITH_SUBSTR(tr.load_state({{"tasks", -3}}), "agreement.tasks: expected a non-negative integer, got -3");
  nlohmann::json s = tr.state();
  s["sum_cos"] = tensor_to_json(zeros(2, 3));
  CHECK_THROWS_WITH_SUBSTR(tr.load_state(s), "agreement: load_state: 'sum_cos' has shape [2,3], expected [3,3]");
}

TEST_CASE("tracker: state round trip through CBOR continues bit-identically") {
  AgreementOptions o;
  o.beta = real(0.9);
  AgreementTracker a(o), b(o);
  const auto steps = three_steps();
  a.record(steps[0]);
  a.record(steps[1]);
  a.record_tag(matrix({{0.1, 0.2, std::numeric_limits<real>::quiet_NaN()}, {0.3, 0.4, 0.5}, {0.6, 0.7, 0.8}}));
  const auto bytes = nlohmann::json::to_cbor(a.state());
  b.load_state(nlohmann::json::from_cbor(bytes));
  a.record(steps[2]);
  b.record(steps[2]);
  a.record_tag(matrix({{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}));
  b.record_tag(matrix({{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}));
  CHECK(a.state() == b.state());
  CHECK(a.ema_cos() == b.ema_cos());
  CHECK(a.mean_cos() == b.mean_cos());
  // the NaN entry counted only once: (0 + 1)/1 ... the pair (0, 2) has one value, 1
  CHECK(b.mean_tag()(0, 2) == 1);
  CHECK(std::abs(b.mean_tag()(1, 0) - real(0.65)) <= tolerance(1e-15, 1e-6));
  CHECK(b.tag_count() == 2);
}

// ---- grouping -----------------------------------------------------------------------------

namespace {

/// Independent brute force: every labelling in [0, k)^T that uses all k labels, scored by the
/// mean of (A_ij + A_ji)/2 over pairs with equal labels; the best score.
double brute_best(const Tensor& A, std::size_t k, std::vector<std::size_t>& best_labels) {
  const std::size_t T = A.shape(0);
  std::size_t total = 1;
  for (std::size_t t = 0; t < T; ++t) total *= k;
  double best = -1e300;
  for (std::size_t code = 0; code < total; ++code) {
    std::vector<std::size_t> lab(T);
    std::size_t c = code;
    std::vector<bool> seen(k, false);
    for (std::size_t t = 0; t < T; ++t) lab[t] = c % k, c /= k, seen[lab[t]] = true;
    if (std::count(seen.begin(), seen.end(), true) != long(k)) continue;
    double s = 0;
    int n = 0;
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t j = 0; j < T; ++j)
        if (i != j && lab[i] == lab[j]) s += double(A(i, j)), ++n;  // each pair twice: mean of the symmetric part
    const double score = n ? s / n : 0;
    if (score > best) best = score, best_labels = lab;
  }
  return best;
}

/// Whether two labellings describe the same partition.
bool same_partition(const std::vector<std::size_t>& a, const std::vector<std::size_t>& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < a.size(); ++j)
      if ((a[i] == a[j]) != (b[i] == b[j])) return false;
  return true;
}

}  // namespace

TEST_CASE("grouping: recovers planted groups") {
  // groups {0, 2, 4} and {1, 3, 5}: within 0.7..0.9, across −0.3..0.1
  Rng rng(5);
  const std::vector<std::size_t> planted = {0, 1, 0, 1, 0, 1};
  Tensor A = zeros(6, 6);
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t j = i; j < 6; ++j)
      A(i, j) = A(j, i) = i == j ? real(1) : planted[i] == planted[j] ? real(0.7 + 0.2 * rng.uniform()) : real(-0.3 + 0.4 * rng.uniform());
  const Grouping g = best_grouping(A, 2);
  CHECK(g.group == planted);
  CHECK(g.pairs == 6);
  std::vector<std::size_t> lab;
  CHECK(double(g.score) == doctest::Approx(brute_best(A, 2, lab)).epsilon(tolerance(1e-12, 1e-6)));
}

TEST_CASE("grouping: equals a brute force over random matrices for every k") {
  Rng rng(11);
  for (std::size_t T = 1; T <= 7; ++T)
    for (int rep = 0; rep < 3; ++rep) {
      Tensor A = rng.normal_tensor(T, T);  // not symmetric: the objective uses the symmetric part
      for (std::size_t k = 1; k <= T; ++k) {
        std::vector<std::size_t> lab;
        const double expect = brute_best(A, k, lab);
        const Grouping g = best_grouping(A, k);
        CAPTURE(T);
        CAPTURE(k);
        CHECK(double(g.score) == doctest::Approx(expect).epsilon(tolerance(1e-12, 1e-5)));
        CHECK(same_partition(g.group, lab));  // random A: no ties
        CHECK(g.group[0] == 0);
        CHECK(*std::max_element(g.group.begin(), g.group.end()) == k - 1);
        std::size_t pairs = 0;
        CHECK(grouping_score(A, g.group, &pairs) == g.score);
        CHECK(pairs == g.pairs);
      }
    }
}

TEST_CASE("grouping: k = T is all singletons with score 0 and T = 10 is searched and bad input is named") {
  const Tensor A = matrix({{1, 0.5, 0.2}, {0.5, 1, 0.1}, {0.2, 0.1, 1}});
  const Grouping g = best_grouping(A, 3);
  CHECK(g.group == std::vector<std::size_t>{0, 1, 2});
  CHECK(g.pairs == 0);
  CHECK(g.score == 0);
  CHECK(best_grouping(A, 1).score == doctest::Approx(0.8 / 3));
  Tensor big = zeros(10, 10);
  for (std::size_t i = 0; i < 10; ++i)
    for (std::size_t j = 0; j < 10; ++j) big(i, j) = (i < 3) == (j < 3) ? 1 : -1;
  const Grouping g10 = best_grouping(big, 2);
  CHECK(g10.group == std::vector<std::size_t>{0, 0, 0, 1, 1, 1, 1, 1, 1, 1});
  CHECK(g10.score == 1);
  CHECK_THROWS_WITH_SUBSTR(best_grouping(zeros(11, 11), 2),
                           "grouping: the exhaustive search over set partitions is limited to T <= 10 tasks, got T = 11");
  CHECK_THROWS_WITH_SUBSTR(best_grouping(A, 0), "grouping: k = 0 groups is out of range [1, 3] for T = 3 tasks");
  CHECK_THROWS_WITH_SUBSTR(best_grouping(A, 4), "k = 4 groups is out of range [1, 3]");
  CHECK_THROWS_WITH_SUBSTR(best_grouping(zeros(2, 3), 1), "grouping: the agreement matrix must be square, got [2,3]");
}

// ---- TAG ----------------------------------------------------------------------------------

namespace {

/// L_j = ½‖θ − a_j‖² + ½ h_j² + 1: θ (1×2) shared, h_j (1×1) task j's head.
class Quadratic : public MultiTaskModel {
 public:
  Quadratic() {
    theta_.value = row({1, 2});
    heads_[0].value = scalar(1);
    heads_[1].value = scalar(2);
  }
  std::size_t num_tasks() const override { return 2; }
  std::vector<NamedParameter> shared_parameters() override { return {{"theta", &theta_}}; }
  std::vector<NamedParameter> head_parameters(std::size_t t) override { return {{"h" + std::to_string(t), &heads_[t]}}; }
  void forward(Tape& tape, std::vector<Var>& losses) override {
    Var th = tape.param(theta_);
    losses.resize(2);
    for (std::size_t j = 0; j < 2; ++j) {
      Var d = th - tape.constant(a_[j]);
      Var h = tape.param(heads_[j]);
      losses[j] = real(0.5) * sum(d * d) + real(0.5) * sum(h * h) + offset_;
    }
  }
  std::string describe() const override { return "quadratic"; }
  Parameter theta_;
  Parameter heads_[2];
  Tensor a_[2] = {row({0, 0}), row({2, 0})};
  real offset_ = 1;
};

}  // namespace

TEST_CASE("TAG: look-ahead affinity of a quadratic by hand with the parameters restored bit-exactly") {
  // θ = (1, 2), a_0 = (0, 0), a_1 = (2, 0), h = (1, 2), η = 0.5:
  //   L_0(θ) = ½(1 + 4) + ½ + 1 = 4,  L_1(θ) = ½(1 + 4) + 2 + 1 = 5.5
  //   g_0 = θ − a_0 = (1, 2) → θ' = (0.5, 1):  L_0 = ½(0.25 + 1) + 1.5 = 2.125,  L_1 = ½(2.25 + 1) + 3 = 4.625
  //   g_1 = θ − a_1 = (−1, 2) → θ'' = (1.5, 1): L_0 = ½(2.25 + 1) + 1.5 = 3.125, L_1 = ½(0.25 + 1) + 3 = 3.625
  //   Z = [[1 − 2.125/4, 1 − 4.625/5.5], [1 − 3.125/4, 1 − 3.625/5.5]]
  Quadratic m;
  ParameterLayout layout(m);
  const Tensor theta0 = m.theta_.value;
  TagAffinity tag;
  Tensor Z;
  tag.compute(m, layout, real(0.5), Z);
  const Tensor expect = matrix({{0.46875, 0.875 / 5.5}, {0.21875, 1.875 / 5.5}});
  CHECK(max_rel_err(Z, expect) <= tolerance(1e-15, 1e-6));
  CHECK(m.theta_.value == theta0);
  CHECK(m.heads_[0].value(0, 0) == 1);
  CHECK(m.heads_[1].value(0, 0) == 2);
  // a second call reuses the buffers and gives the same bits
  Tensor Z2;
  tag.compute(m, layout, real(0.5), Z2);
  CHECK(Z2 == Z);
  CHECK_THROWS_WITH_SUBSTR(tag.compute(m, layout, 0, Z),
                           "TAG affinity: the look-ahead learning rate must be > 0 and finite, got 0");
}

TEST_CASE("TAG: a zero base loss or a non-finite look-ahead loss gives no value for that pair") {
  Quadratic m;
  m.a_[1] = row({1, 2});  // = θ
  m.heads_[1].value = scalar(0);
  m.offset_ = 0;  // L_1(θ) = 0 exactly
  ParameterLayout layout(m);
  TagAffinity tag;
  Tensor Z;
  tag.compute(m, layout, real(0.5), Z);
  CHECK(std::isnan(double(Z(0, 1))));
  CHECK(std::isnan(double(Z(1, 1))));
  CHECK(double(Z(1, 0)) == doctest::Approx(0.0));  // g_1 = 0: the step on task 1 changes nothing
  // θ − huge·g_0 overflows: L_0 and L_1 after the step on task 0 are not finite
  m.offset_ = 1;
  tag.compute(m, layout, std::numeric_limits<real>::max(), Z);
  CHECK(std::isnan(double(Z(0, 0))));
  CHECK(m.theta_.value == row({1, 2}));
  AgreementTracker tr;
  tr.record_tag(Z);
  CHECK(tr.mean_tag()(0, 0) == 0);  // no value yet
  CHECK(tr.mean_tag()(1, 1) == 0);  // g_1 = 0 → Z_11 = 1 − 1/1 = 0, a value
}

}  // TEST_SUITE
