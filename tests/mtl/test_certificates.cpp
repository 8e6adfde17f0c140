// The step certificates (mtl/certificates.hpp) on hand-made Jacobians whose answers are worked out
// in the comments (docs/diagnostics.md has the formulas).
#include "test_util.hpp"

#include <cmath>
#include <limits>

#include "mtlgrad/mtl/certificates.hpp"
#include "mtlgrad/optim/gramian.hpp"

using namespace mtlgrad;
using mtlgrad::test::from_rows;

namespace {
// Tolerance that follows mtlgrad::real.
const double kTol = std::sqrt(double(std::numeric_limits<real>::epsilon())) * 10;

Tensor rows(const char* json) { return from_rows(nlohmann::json::parse(json)); }

Certificate certify_rows(const Tensor& J, const Tensor& d, const std::vector<real>& losses) {
  Tensor G;
  gramian(J, G);
  std::vector<real> Jd;
  Certifier::jacobian_times(J, d, Jd);
  real dd = 0;
  for (real v : d) dd += v * v;
  Certificate c;
  Certifier().certify(G, Jd, dd, losses, c);
  return c;
}
}  // namespace

TEST_CASE("certificates: two tasks, the sum's direction") {
  // g1 = (1, 0), g2 = (-1, 1), d = g1 + g2 = (0, 1): g1·d = 0, g2·d = 1; cos = 0 and 1/√2.
  // Min-norm point of the segment: α g1 + (1-α) g2 = (2α-1, 1-α), minimal at α = 0.6: (0.2, 0.4),
  // norm √0.2; over max ‖g_i‖ = √2: gap = √0.1.
  const Tensor J = rows("[[1, 0], [-1, 1]]");
  const Tensor d = rows("[[0, 1]]");
  const Certificate c = certify_rows(J, d, {2, 0.5});
  CHECK(c.margin == doctest::Approx(0).epsilon(kTol));
  CHECK(c.hurt == 0);
  CHECK(c.induced == 0);
  CHECK(c.resolved == 0);
  CHECK(c.gap == doctest::Approx(std::sqrt(0.1)).epsilon(kTol));
  CHECK(c.grad_ratio == doctest::Approx(std::sqrt(2.0)).epsilon(kTol));
  CHECK(c.loss_ratio == doctest::Approx(4).epsilon(kTol));
}

TEST_CASE("certificates: a step that hurts one task, an induced and a resolved conflict") {
  // g1 = (1, 0), g2 = (-2, 1), g3 = (0, 1); d = (1, 1): g·d = 1, -1, 1 → task 2 hurt,
  // cos(g2, d) = -1/√10. s = Σ g = (-1, 2): g·s = -1, 4, 2. Task 2: hurt by d, not by s (induced);
  // task 1: in conflict with s, not with d (resolved). The hull's closest point to 0 lies on the
  // edge g1 g2 (x + 3y = 1; g3 is on the far side): (0.1, 0.3), norm √0.1; max ‖g‖ = √5 → √0.02.
  const Tensor J = rows("[[1, 0], [-2, 1], [0, 1]]");
  const Tensor d = rows("[[1, 1]]");
  const Certificate c = certify_rows(J, d, {1, 1, 1});
  CHECK(c.margin == doctest::Approx(-1 / std::sqrt(10.0)).epsilon(kTol));
  CHECK(c.hurt == 1);
  CHECK(c.induced == 1);
  CHECK(c.resolved == 1);
  CHECK(c.gap == doctest::Approx(std::sqrt(0.02)).epsilon(kTol));
  CHECK(c.grad_ratio == doctest::Approx(std::sqrt(5.0)).epsilon(kTol));
  CHECK(c.loss_ratio == doctest::Approx(1).epsilon(kTol));
  const auto v = certificate_values(c);
  REQUIRE(v.size() == certificate_names().size());
  CHECK(v[1] == 1);
}

TEST_CASE("certificates: Pareto-stationary point, zero gradients and zero direction") {
  // g1 = (1, 0), g2 = (-1, 0): 0 = ½ g1 + ½ g2 is in the hull → gap 0.
  Certificate c = certify_rows(rows("[[1, 0], [-1, 0]]"), rows("[[0, 0]]"), {});
  CHECK(c.gap == doctest::Approx(0).epsilon(kTol));
  CHECK(c.margin == 0);  // ‖d‖ = 0: every cosine is 0
  CHECK(c.hurt == 0);
  CHECK(c.loss_ratio == 1);
  // Every g_i = 0: gap 0, ratio 1. One zero among non-zero: ratio inf.
  c = certify_rows(rows("[[0, 0], [0, 0]]"), rows("[[1, 0]]"), {0, 0});
  CHECK(c.gap == 0);
  CHECK(c.grad_ratio == 1);
  c = certify_rows(rows("[[0, 0], [3, 0]]"), rows("[[1, 0]]"), {0, 2});
  CHECK(std::isinf(c.grad_ratio));
  CHECK(std::isinf(c.loss_ratio));
}

TEST_CASE("certificates: sizes that disagree are an error") {
  Certificate c;
  CHECK_THROWS_AS(Certifier().certify(zeros(2, 2), {1, 2, 3}, 1, {}, c), std::invalid_argument);
  std::vector<real> Jd;
  CHECK_THROWS_AS(Certifier::jacobian_times(zeros(2, 3), zeros(1, 2), Jd), std::invalid_argument);
}

TEST_CASE("certificates: the scale warning names the sensitive stages, once above the threshold") {
  Certificate c;
  c.grad_ratio = 1000;
  const std::string w = scale_warning(c, 7, "pcgrad");
  CHECK(w.find("step 7") != std::string::npos);
  CHECK(w.find("'pcgrad' is among") != std::string::npos);
  CHECK(w.find("mgda") != std::string::npos);
  CHECK(scale_warning(c, 7, "imtl-g").find("'imtl-g' is not among") != std::string::npos);
  c.grad_ratio = 99;
  c.loss_ratio = 100;  // not above
  CHECK(scale_warning(c, 7, "pcgrad").empty());
  // A zero gradient or loss (a task weighted 0: the single-task baselines) is no scale warning.
  c.grad_ratio = std::numeric_limits<real>::infinity();
  c.loss_ratio = std::numeric_limits<real>::infinity();
  CHECK(scale_warning(c, 7, "pcgrad").empty());
  c.loss_ratio = 101;
  CHECK(!scale_warning(c, 7, "pcgrad").empty());
}

TEST_CASE("certificates: per-layer conflict rates") {
  // Group a = column 0: values 1, 1, -1 → pairs (0,2), (1,2) conflict: 2/3.
  // Group b = columns 1-2: (-1, 2), (1, 1), (0, 1): dots 1, 2, 1 → none: 0.
  const Tensor J = rows("[[1, -1, 2], [1, 1, 1], [-1, 0, 1]]");
  std::vector<real> rates;
  group_conflict_rates(J, {{"a", 0, 1}, {"b", 1, 3}}, rates);
  REQUIRE(rates.size() == 2);
  CHECK(rates[0] == doctest::Approx(2.0 / 3).epsilon(kTol));
  CHECK(rates[1] == 0);
  CHECK_THROWS_AS(group_conflict_rates(J, {{"c", 2, 4}}, rates), std::invalid_argument);
}
