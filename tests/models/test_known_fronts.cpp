// The known-front problems (pareto_mtl, quadratics, toy2d's Pareto curve): values by hand,
// gradients against central finite differences, the exact Pareto distances and weights on
// hand-made points, and the hypervolume on hand-computed sets and against the inclusion–exclusion
// reference of tools/gen_hypervolume_reference.py.
#include "test_util.hpp"

#include <cmath>

#include "mtlgrad/autograd/ops.hpp"
#include "mtlgrad/models/pareto_front.hpp"
#include "mtlgrad/models/pareto_mtl.hpp"
#include "mtlgrad/models/quadratics.hpp"
#include "mtlgrad/models/toy2d.hpp"

using namespace mtlgrad;
using nlohmann::json;

namespace {

std::unique_ptr<MultiTaskModel> build(const json& spec, std::uint64_t seed = 0) {
  Rng root(seed);
  ModelContext ctx{root.split(), root.split(), nullptr, 32};
  return make_model(spec, "model", ctx);
}

void set_x(MultiTaskModel& m, const std::vector<real>& x) {
  Tensor& v = m.shared_parameters()[0].param->value;
  REQUIRE(v.size() == x.size());
  for (std::size_t k = 0; k < x.size(); ++k) v.data()[k] = x[k];
}

std::vector<double> losses(MultiTaskModel& m) {
  Tape t;
  std::vector<Var> f;
  m.forward(t, f);
  std::vector<double> out;
  for (Var v : f) out.push_back(double(v.item()));
  return out;
}

/// Every task's gradient at the model's x against central differences of forward().
void check_gradients(MultiTaskModel& m) {
  Parameter& p = *m.shared_parameters()[0].param;
  const std::size_t T = m.num_tasks(), n = p.value.size();
  for (std::size_t i = 0; i < T; ++i) {
    Tape t;
    std::vector<Var> f;
    m.forward(t, f);
    const Tensor g = t.grad(f[i], {t.param(p)})[0];
    const real h = real(tolerance(1e-6, 1e-2));
    for (std::size_t k = 0; k < n; ++k) {
      const real x0 = p.value.data()[k];
      p.value.data()[k] = x0 + h;
      const double up = losses(m)[i];
      p.value.data()[k] = x0 - h;
      const double down = losses(m)[i];
      p.value.data()[k] = x0;
      const double fd = (up - down) / (2 * double(h));
      INFO("task " << i << ", coordinate " << k);
      CHECK(double(g.data()[k]) == doctest::Approx(fd).epsilon(tolerance(1e-6, 2e-2)).scale(1));
    }
  }
}

ParetoMeasure measure(MultiTaskModel& m, const json& spec) {
  return model_registry().at(spec["name"].get<std::string>(), "model").extra.pareto->measure(m);
}

}  // namespace

TEST_SUITE("known fronts") {

TEST_CASE("pareto_mtl: values by hand, gradients by finite differences") {
  // n = 4, a = (1/2)·1, x = (0.5, 0, 0, 0): ‖x − a‖² = 3·0.25 = 0.75, ‖x + a‖² = 1 + 0.75 = 1.75.
  const json spec = {{"name", "pareto_mtl"}, {"n", 4}};
  auto m = build(spec);
  set_x(*m, {real(0.5), 0, 0, 0});
  const auto f = losses(*m);
  CHECK(f[0] == doctest::Approx(1 - std::exp(-0.75)).epsilon(tolerance(1e-14, 1e-6)));
  CHECK(f[1] == doctest::Approx(1 - std::exp(-1.75)).epsilon(tolerance(1e-14, 1e-6)));
  auto r = build({{"name", "pareto_mtl"}, {"n", 7}}, 3);
  check_gradients(*r);
}

TEST_CASE("pareto_mtl: the start is drawn from the seed in [-0.5, 0.5]^n, or given") {
  auto a = build({{"name", "pareto_mtl"}}, 5), b = build({{"name", "pareto_mtl"}}, 5), c = build({{"name", "pareto_mtl"}}, 6);
  const Tensor& xa = a->shared_parameters()[0].param->value;
  CHECK(xa.size() == 20);
  for (real v : xa) CHECK((v >= real(-0.5) && v < real(0.5)));
  CHECK(xa == b->shared_parameters()[0].param->value);
  CHECK(xa != c->shared_parameters()[0].param->value);
  CHECK_THROWS_WITH_SUBSTR(build({{"name", "pareto_mtl"}, {"n", 3}, {"start", {1, 2}}}), "model.start");
  CHECK_THROWS_WITH_SUBSTR(build({{"name", "pareto_mtl"}, {"n", 0}}), "model.n");
}

TEST_CASE("quadratics: values by hand, gradients by finite differences") {
  // scales (1, 10, 100), x = (1, 2, 0): f1 = ½·(0 + 4 + 0) = 2, f2 = 5·(1 + 1 + 0) = 10,
  // f3 = 50·(1 + 4 + 1) = 300.
  const json spec = {{"name", "quadratics"}, {"scales", {1, 10, 100}}};
  auto m = build(spec);
  set_x(*m, {1, 2, 0});
  const auto f = losses(*m);
  CHECK(f[0] == doctest::Approx(2).epsilon(tolerance(1e-14, 1e-6)));
  CHECK(f[1] == doctest::Approx(10).epsilon(tolerance(1e-14, 1e-6)));
  CHECK(f[2] == doctest::Approx(300).epsilon(tolerance(1e-14, 1e-6)));
  auto r = build({{"name", "quadratics"}, {"d", 5}, {"scales", {1, 2, 3}}}, 2);
  check_gradients(*r);
  CHECK_THROWS_WITH_SUBSTR(build({{"name", "quadratics"}, {"d", 2}}), "model.d");
  CHECK_THROWS_WITH_SUBSTR(build({{"name", "quadratics"}, {"scales", {1, 0, 1}}}), "model.scales");
  CHECK_THROWS_WITH_SUBSTR(build({{"name", "quadratics"}, {"start", {1, 2}}}), "model.start");
}

TEST_CASE("pareto_mtl: distance to the segment [-a, a] and the weights, on hand-made points") {
  const json spec = {{"name", "pareto_mtl"}, {"n", 2}};
  auto m = build(spec);
  const double s = 1 / std::sqrt(2.0);  // a = (s, s)
  // Perpendicular to a through 0: the nearest point is 0 (t = 0), w = e⁻¹/(e⁻¹ + e⁻¹) = 1/2.
  set_x(*m, {real(0.3), real(-0.3)});
  auto p = measure(*m, spec);
  CHECK(p.distance == doctest::Approx(0.3 * std::sqrt(2.0)).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.weights[0] == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(p.nearest[0] == doctest::Approx(0).scale(1).epsilon(tolerance(1e-12, 1e-6)));
  // Beyond a: the nearest point is a (t = 1), w = 2e⁻⁴/(0 + 2e⁻⁴) = 1; distance √2·(2 − s).
  set_x(*m, {2, 2});
  p = measure(*m, spec);
  CHECK(p.distance == doctest::Approx(std::sqrt(2.0) * (2 - s)).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.weights[0] == doctest::Approx(1).epsilon(1e-12));
  // (0.5, 0.5) + (0.3, −0.3): nearest (0.5, 0.5), t = 1/√2; distance √0.18.
  set_x(*m, {real(0.8), real(0.2)});
  p = measure(*m, spec);
  CHECK(p.distance == doctest::Approx(std::sqrt(0.18)).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.nearest[1] == doctest::Approx(0.5).epsilon(tolerance(1e-12, 1e-6)));
  const double t = s, e1 = std::exp(-(t - 1) * (t - 1)), e2 = std::exp(-(t + 1) * (t + 1));
  CHECK(p.weights[0] == doctest::Approx((1 + t) * e2 / ((1 - t) * e1 + (1 + t) * e2)).epsilon(tolerance(1e-10, 1e-5)));
  CHECK(p.reference == std::vector<double>{1, 1});
}

TEST_CASE("pareto_mtl: at the nearest point the weighted gradients cancel") {
  // Independent of the weight formula: w ∇f1 + (1 − w) ∇f2 = 0 at the Pareto point (by the tape).
  const json spec = {{"name", "pareto_mtl"}, {"n", 3}};
  auto m = build(spec, 11);
  const auto p = measure(*m, spec);
  std::vector<real> near(p.nearest.begin(), p.nearest.end());
  set_x(*m, near);
  Parameter& x = *m->shared_parameters()[0].param;
  Tape t;
  std::vector<Var> f;
  m->forward(t, f);
  const Tensor g1 = t.grad(f[0], {t.param(x)})[0], g2 = t.grad(f[1], {t.param(x)})[0];
  for (std::size_t k = 0; k < 3; ++k)
    CHECK(p.weights[0] * double(g1(0, k)) + p.weights[1] * double(g2(0, k)) ==
          doctest::Approx(0).scale(1).epsilon(tolerance(1e-12, 1e-5)));
}

TEST_CASE("quadratics: distance to the triangle and the weights, on hand-made points") {
  const json spec = {{"name", "quadratics"}, {"scales", {1, 10, 100}}};
  auto m = build(spec);
  // Along the normal (1, 1, 1) from the centroid: nearest the centroid, β = (1/3)·1, w ∝ β_i/s_i.
  set_x(*m, {real(1.0 / 3 + 0.5), real(1.0 / 3 + 0.5), real(1.0 / 3 + 0.5)});
  auto p = measure(*m, spec);
  CHECK(p.distance == doctest::Approx(0.5 * std::sqrt(3.0)).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.weights[0] == doctest::Approx(1 / 1.11).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.weights[1] == doctest::Approx(0.1 / 1.11).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.weights[2] == doctest::Approx(0.01 / 1.11).epsilon(tolerance(1e-12, 1e-6)));
  REQUIRE(p.reference.size() == 3);
  CHECK(p.reference[0] == doctest::Approx(1.1));
  CHECK(p.reference[1] == doctest::Approx(11));
  CHECK(p.reference[2] == doctest::Approx(110));
  // (2, −1, 0): the vertex a_1 is nearest (the edges give (1 + s)²·2 and (1 + s)² + 1 + s², both
  // smallest at s = 0): distance √2, all weight on f1.
  set_x(*m, {2, -1, 0});
  p = measure(*m, spec);
  CHECK(p.distance == doctest::Approx(std::sqrt(2.0)).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.weights[0] == doctest::Approx(1).epsilon(1e-12));
  // (0.5, 0.5, −0.4): the edge a_1 a_2 at its middle, distance 0.4; β = (½, ½, 0) → w = (10, 1, 0)/11.
  set_x(*m, {real(0.5), real(0.5), real(-0.4)});
  p = measure(*m, spec);
  CHECK(p.distance == doctest::Approx(0.4).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.weights[0] == doctest::Approx(10.0 / 11).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.weights[2] == doctest::Approx(0).scale(1).epsilon(1e-12));
  // d = 4, x = (0.2, 0.3, 0.4, 0.7): inside after projecting the first three coordinates onto
  // x1 + x2 + x3 = 1 (each + 1/30); distance² = 3·(1/30)² + 0.7².
  const json spec4 = {{"name", "quadratics"}, {"d", 4}};
  auto m4 = build(spec4);
  set_x(*m4, {real(0.2), real(0.3), real(0.4), real(0.7)});
  p = measure(*m4, spec4);
  CHECK(p.distance == doctest::Approx(std::sqrt(3.0 / 900 + 0.49)).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.nearest[1] == doctest::Approx(0.3 + 1.0 / 30).epsilon(tolerance(1e-12, 1e-6)));
  CHECK(p.nearest[3] == doctest::Approx(0).scale(1).epsilon(1e-12));
}

TEST_CASE("toy2d: the Pareto curve, checked against the toy's own gradients") {
  const json spec = {{"name", "toy2d"}};
  auto m = build(spec);
  // From (0, 0) the nearest point is the curve's middle (it bends away downwards on both sides):
  // x1 = 0, and there x2 is not the often quoted −8.3552 but −8.35511 (w = ½: the root of
  // −½ sech²(x2/2)·(4.9 + 0.01 (x2 + 8)² − 20) + tanh(−x2/2)·0.02 (x2 + 8), by bisection in numpy).
  set_x(*m, {0, 0});
  auto p = measure(*m, spec);
  CHECK(p.nearest[0] == doctest::Approx(0).scale(1).epsilon(1e-6));
  CHECK(p.nearest[1] == doctest::Approx(-8.355109776756255).epsilon(1e-9));
  CHECK(p.distance == doctest::Approx(8.355109776756255).epsilon(1e-9));
  CHECK(p.weights[0] == doctest::Approx(0.5).epsilon(1e-6));
  // Left of the curve's end (−7, −8.434459855516096) (w = 0: K = 0 in the same root).
  set_x(*m, {-9, real(-8.434459855516096)});
  p = measure(*m, spec);
  CHECK(p.distance == doctest::Approx(2).epsilon(tolerance(1e-9, 1e-5)));
  CHECK(p.weights[0] == doctest::Approx(0).scale(1).epsilon(1e-12));
  // Anywhere: at the nearest point w ∇f1 + (1 − w) ∇f2 = 0 by the tape (the toy's own ops).
  for (const auto& x : std::vector<std::vector<real>>{{real(2.3), -5}, {-4, -11}, {6, real(-8.4)}}) {
    set_x(*m, x);
    p = measure(*m, spec);
    set_x(*m, {real(p.nearest[0]), real(p.nearest[1])});
    Parameter& xp = *m->shared_parameters()[0].param;
    Tape t;
    std::vector<Var> f;
    m->forward(t, f);
    const Tensor g1 = t.grad(f[0], {t.param(xp)})[0], g2 = t.grad(f[1], {t.param(xp)})[0];
    for (std::size_t k = 0; k < 2; ++k)
      CHECK(p.weights[0] * double(g1(0, k)) + p.weights[1] * double(g2(0, k)) ==
            doctest::Approx(0).scale(1).epsilon(tolerance(1e-9, 1e-4)));
  }
}

TEST_CASE("hypervolume on hand-computed sets") {
  using V = std::vector<std::vector<double>>;
  // The staircase (1,3), (2,2), (3,1) under (4,4): strips of width 1 and heights 1, 2, 3 → 6.
  CHECK(models::hypervolume(V{{1, 3}, {2, 2}, {3, 1}}, {4, 4}) == doctest::Approx(6));
  // Order, a dominated point, a duplicate, a point beyond the reference and a NaN change nothing.
  CHECK(models::hypervolume(V{{3, 1}, {2.5, 2.5}, {1, 3}, {2, 2}, {2, 2}, {5, 0}, {NAN, 0}}, {4, 4}) ==
        doctest::Approx(6));
  CHECK(models::hypervolume(V{{0, 0}}, {1, 2}) == doctest::Approx(2));
  CHECK(models::hypervolume(V{{4, 0}}, {4, 4}) == 0);
  CHECK(models::hypervolume(V{}, {4, 4}) == 0);
  // 3-D: the unit vectors under (2, 2, 2): each box 1·2·2 = 4, each pair meets in 1·1·2 = 2, all
  // three in 1: inclusion–exclusion 12 − 6 + 1 = 7.
  CHECK(models::hypervolume(V{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {2, 2, 2}) == doctest::Approx(7));
  CHECK(models::hypervolume(V{{0, 0, 0}, {0.5, 0.5, 0.5}}, {1, 2, 3}) == doctest::Approx(6));
  CHECK_THROWS_WITH_SUBSTR(models::hypervolume(V{{1, 2, 3, 4}}, {5, 5, 5, 5}), "exact algorithms for 2 and 3");
  CHECK_THROWS_WITH_SUBSTR(models::hypervolume(V{{1, 2}}, {5, 5, 5}), "a point of 2 losses");
}

TEST_CASE("hypervolume against the inclusion-exclusion reference") {
  const json ref = test::load_fixture("hypervolume_reference.json");
  int n = 0;
  for (const auto& c : ref["cases"]) {
    const auto pts = c["points"].get<std::vector<std::vector<double>>>();
    const auto r = c["reference"].get<std::vector<double>>();
    INFO("case " << n);
    CHECK(models::hypervolume(pts, r) == doctest::Approx(c["hypervolume"].get<double>()).epsilon(1e-12));
    ++n;
  }
  CHECK(n >= 20);
}

}  // TEST_SUITE
