// The Gramian weightings of the gradient-surgery family: TorchJD's golden table, numpy references
// (tools/gen_family_golden.py), and properties over random Jacobians of chosen rank and scale.
#include "test_util.hpp"

#include <xtensor/xview.hpp>
#include "spatial/spatial_util.hpp"

#include <cmath>
#include <limits>

#include <xtensor/xview.hpp>

#include "mtlgrad/optim/aggregator.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;

namespace {


// J = A B with A T×r, B r×P normals, times `scale` (r = 0: zero J).
Tensor random_jacobian(Rng& g, std::size_t T, std::size_t P, std::size_t r, real scale) {
  Tensor J = zeros(T, P);
  if (r == 0) return J;
  const Tensor A = g.normal_tensor(T, r), B = g.normal_tensor(r, P);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t k = 0; k < r; ++k)
      for (std::size_t p = 0; p < P; ++p) J(i, p) += A(i, k) * B(k, p) * scale;
  return J;
}

real dot_row(const Tensor& J, std::size_t i, const Tensor& d) {
  real s = 0;
  for (std::size_t k = 0; k < J.shape(1); ++k) s += J(i, k) * d(0, k);
  return s;
}

real norm_row(const Tensor& J, std::size_t i) { return std::sqrt(dot_row(J, i, xt::view(J, xt::range(i, i + 1), xt::all()))); }

Tensor from_json(const json& j) {
  Tensor t = zeros(j.size(), j[0].size());
  for (std::size_t i = 0; i < j.size(); ++i)
    for (std::size_t k = 0; k < j[i].size(); ++k) t(i, k) = j[i][k].get<real>();
  return t;
}

// The stages that are functions of G (deterministic weightings).
const std::vector<json>& gramian_stages() {
  static const std::vector<json> s = {
      {{"name", "mgda"}, {"tol", 1e-12}}, {{"name", "upgrad"}},   {{"name", "dualproj"}}, {{"name", "imtl-g"}},
      {{"name", "aligned-mtl"}},          {{"name", "cagrad"}},   {{"name", "nash-mtl"}}};
  return s;
}

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("family: TorchJD's golden table on J = [[-4 1 1] [6 1 1]]") {
  const Tensor J = matrix({{-4, 1, 1}, {6, 1, 1}});
  const std::vector<std::pair<json, Tensor>> table = {
      {{{"name", "mgda"}}, row({0, 1, 1})},
      {{{"name", "upgrad"}}, row({0.2929, 1.9004, 1.9004})},
      {{{"name", "dualproj"}}, row({0.5563, 1.1109, 1.1109})},
      {{{"name", "imtl-g"}}, row({0.0767, 1, 1})},
      {{{"name", "aligned-mtl"}}, row({0.2133, 0.9673, 0.9673})},
      {{{"name", "cagrad"}, {"c", 0.5}, {"rescale", 0}}, row({0.1835, 1.2041, 1.2041})},
      {{{"name", "nash-mtl"}}, row({0.0542, 0.7061, 0.7061})}};
  for (const auto& [spec, expected] : table) {
    CAPTURE(spec.dump());
    const auto out = run(spec, J);
    // TorchJD prints 4 decimals: |error| ≤ 5e-5 (plus rounding of our own).
    for (std::size_t k = 0; k < 3; ++k) CHECK(std::abs(out.direction(0, k) - expected(0, k)) <= 5.0001e-5);
    CHECK(out.weights.size() == 2);
  }
  // MGDA by hand: w1·(−4) + (1 − w1)·6 = 0 at w1 = 0.6, exactly.
  CHECK_TENSOR_NEAR(run({{"name", "mgda"}}, J).direction, row({0, 1, 1}), tolerance(1e-15, 1e-6));
  // IMTL-G by hand: G⁻¹ = [[38,22],[22,18]]/200, v = G⁻¹ (√18, √38), w = v / Σv.
  const real v1 = (38 * std::sqrt(real(18)) + 22 * std::sqrt(real(38))) / 200;
  const real v2 = (22 * std::sqrt(real(18)) + 18 * std::sqrt(real(38))) / 200;
  const auto imtl = run({{"name", "imtl-g"}}, J);
  CHECK(std::abs(imtl.weights[0] - v1 / (v1 + v2)) <= tolerance(1e-14, 1e-6));
}

TEST_CASE("family: numpy references (tools/gen_family_golden.py) on random J with T = 3..5 of full and low rank") {
  const json fx = load_fixture("family_golden.json");
  const std::vector<std::pair<std::string, json>> specs = {
      {"mgda", {{"name", "mgda"}, {"tol", 1e-14}}},
      {"upgrad", {{"name", "upgrad"}}},
      {"dualproj", {{"name", "dualproj"}}},
      {"imtl-g", {{"name", "imtl-g"}}},
      {"aligned-mtl", {{"name", "aligned-mtl"}}},
      {"nash-mtl", {{"name", "nash-mtl"}}},
      {"cagrad0", {{"name", "cagrad"}, {"rescale", 0}}},
      {"cagrad1", {{"name", "cagrad"}}},
      {"cagrad2", {{"name", "cagrad"}, {"rescale", 2}}}};
  int compared = 0;
  for (const auto& c : fx["cases"]) {
    const Tensor J = from_json(c["J"]);
    for (const auto& [key, spec] : specs) {
      if (!c["d"].contains(key)) continue;
      CAPTURE(key);
      CAPTURE(shape_str(J));
      const Tensor expected = from_json(json::array({c["d"][key]}));
      // Measured: ≤ 1e-14 for all but nash-mtl, whose L-BFGS reference is good to ~1e-7.
      const double tol = key == "nash-mtl" ? 1e-7 : 1e-9;
      CHECK_TENSOR_NEAR(run(spec, J).direction, expected, std::max(tol, double(tolerance(0, 1e-4))));
      ++compared;
    }
  }
  CHECK(compared == 36);
}

TEST_CASE("family: cagrad's rescale divides by 1 + c^2 or 1 + c and c = 0 is the mean") {
  Rng g(41);
  const Tensor J = g.normal_tensor(3, 5);
  const Tensor d0 = run({{"name", "cagrad"}, {"c", 0.4}, {"rescale", 0}}, J).direction;
  const Tensor d1 = d0 / real(1 + 0.4 * 0.4), d2 = d0 / real(1.4);
  CHECK_TENSOR_NEAR(run({{"name", "cagrad"}, {"c", 0.4}, {"rescale", 1}}, J).direction, d1, tolerance(1e-14, 1e-5));
  CHECK_TENSOR_NEAR(run({{"name", "cagrad"}, {"c", 0.4}, {"rescale", 2}}, J).direction, d2, tolerance(1e-14, 1e-5));
  CHECK_TENSOR_NEAR(run({{"name", "cagrad"}, {"c", 0}}, J).direction, run({{"name", "mean"}}, J).direction,
                    tolerance(1e-15, 1e-6));
}

TEST_CASE("family: non-conflicting (J d >= -tol) for mgda and upgrad and dualproj and nash-mtl over ranks and scales") {
  Rng g(43);
  // {spec, relative tolerance, full rank only}. The tolerance is relative to the size of the terms
  // of d = Σ_k w_k g_k, ‖g_i‖ Σ_k |w_k| ‖g_k‖ (d itself is rounding noise when 0 is in the hull).
  // upgrad/dualproj solve the QP on Ĝ + reg_eps·I with Ĝ = G / tr(G): their KKT conditions give
  // (Ĝw)_i ≥ −reg_eps w_i, i.e. g_i·d ≥ −reg_eps tr(G) w_i, which is checked on top. nash-mtl: only
  // when the fixed point exists (some direction improves every task, e.g. independent rows).
  struct Case { json spec; real tol; bool full_rank_only; real reg; };
  const std::vector<Case> cases = {{{{"name", "mgda"}, {"tol", 1e-12}}, tolerance(1e-10, 1e-4), false, 0},
                                   {{{"name", "upgrad"}, {"reg_eps", 1e-8}}, tolerance(1e-9, 1e-4), false, real(1e-8)},
                                   {{{"name", "dualproj"}, {"reg_eps", 1e-8}}, tolerance(1e-9, 1e-4), false, real(1e-8)},
                                   {{{"name", "upgrad"}}, tolerance(1e-9, 1e-4), false, real(1e-4)},
                                   {{{"name", "dualproj"}}, tolerance(1e-9, 1e-4), false, real(1e-4)},
                                   {{{"name", "nash-mtl"}, {"max_norm", 0}}, tolerance(1e-10, 1e-4), true, 0}};
  int checked = 0;
  for (const auto& c : cases)
    for (std::size_t T = 2; T <= 5; ++T)
      for (std::size_t r : {std::size_t(0), std::size_t(1), T - 1, T})
        for (real scale : {real(1e-10), real(1), real(1e10)})
          for (int trial = 0; trial < 3; ++trial) {
            if (c.full_rank_only && r != T) continue;
            const Tensor J = random_jacobian(g, T, 6, r, scale);
            const auto out = run(c.spec, J);
            REQUIRE(all_finite(out.direction));
            real terms = 0, trace = 0;
            for (std::size_t k = 0; k < T; ++k) {
              const real n = norm_row(J, k);
              terms += std::abs(out.weights[k]) * n;
              trace += n * n;
            }
            for (std::size_t i = 0; i < T; ++i) {
              CAPTURE(c.spec.dump());
              CAPTURE(T);
              CAPTURE(r);
              CAPTURE(scale);
              const real reg_bound = c.reg * trace * std::max(out.weights[i], real(0)) * (1 + real(1e-6));
              CHECK(dot_row(J, i, out.direction) >= -reg_bound - c.tol * norm_row(J, i) * terms);
            }
            ++checked;
          }
  CHECK(checked == 5 * 4 * 4 * 3 * 3 + 4 * 3 * 3);
}

TEST_CASE("family: weightings report w with d = J^T w and permuting the tasks permutes w and leaves d") {
  Rng g(47);
  for (const auto& spec : gramian_stages())
    for (std::size_t T = 2; T <= 5; ++T)
      for (std::size_t r : {std::size_t(1), T}) {
        CAPTURE(spec.dump());
        const Tensor J = random_jacobian(g, T, 7, r, 1);
        const auto out = run(spec, J);
        REQUIRE(out.weights.size() == T);
        Tensor d = zeros(1, 7);
        for (std::size_t i = 0; i < T; ++i)
          for (std::size_t k = 0; k < 7; ++k) d(0, k) += out.weights[i] * J(i, k);
        CHECK_TENSOR_NEAR(out.direction, d, tolerance(1e-11, 1e-3));  // nash-mtl's α reach ~1e2: relative to ‖d‖
        // Reverse-and-rotate permutation of the rows.
        std::vector<std::size_t> perm(T);
        for (std::size_t i = 0; i < T; ++i) perm[i] = (T - 1 - i + 1) % T;
        Tensor Jp = zeros(T, 7);
        for (std::size_t i = 0; i < T; ++i) xt::view(Jp, i, xt::all()) = xt::view(J, perm[i], xt::all());
        const auto outp = run(spec, Jp);
        CHECK_TENSOR_NEAR(outp.direction, out.direction, tolerance(1e-8, 1e-3));
        if (r == T)  // w is unique only for linearly independent rows
          for (std::size_t i = 0; i < T; ++i)
            CHECK(std::abs(outp.weights[i] - out.weights[perm[i]]) <= tolerance(1e-8, 1e-3) * (1 + std::abs(out.weights[perm[i]])));
      }
}

TEST_CASE("family: upgrad with preference (1 1) equals pcgrad for T = 2") {
  Rng g(53);
  int conflicting = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const Tensor J = g.normal_tensor(2, 5);
    if (dot_row(J, 0, xt::view(J, xt::range(1, 2), xt::all())) < 0) ++conflicting;
    const auto up = run({{"name", "upgrad"}, {"weights", {1, 1}}, {"reg_eps", 1e-13}}, J);
    const auto pc = run({{"name", "pcgrad"}, {"order", "fixed"}}, J);
    CHECK_TENSOR_NEAR(up.direction, pc.direction, tolerance(1e-10, 1e-4));
  }
  CHECK(conflicting > 10);
}

TEST_CASE("family: scale: a weighting of c·J is the same w (direction-only stages) or c·d") {
  Rng g(59);
  const Tensor J = g.normal_tensor(4, 6);
  for (const auto& spec : gramian_stages()) {
    if (spec["name"] == "nash-mtl") continue;  // its max_norm makes it scale-dependent by design
    CAPTURE(spec.dump());
    const auto a = run(spec, J);
    for (real c : {real(1e-10), real(1e10)}) {
      const Tensor Jc = J * c;
      const auto b = run(spec, Jc);
      for (std::size_t i = 0; i < 4; ++i) CHECK(std::abs(b.weights[i] - a.weights[i]) <= tolerance(1e-8, 1e-3) * (1 + std::abs(a.weights[i])));
    }
  }
}

}  // TEST_SUITE

TEST_SUITE("spatial") {

TEST_CASE("nash-mtl: alpha solves G alpha = 1/alpha for G itself (tools/gen_weighting_golden.py), at every task scale") {
  const json fx = load_fixture("weighting_golden.json");
  for (const auto& c : fx["nash"]) {
    const Tensor J = from_json(c["J"]);
    CAPTURE(c["J"].dump());
    const auto out = run({{"name", "nash-mtl"}, {"max_norm", c["max_norm"]}}, J);
    // reg_eps = 1e-8 moves α by ~1e-8 relative to the paper's (the reference has no ridge).
    CHECK_TENSOR_NEAR(out.direction, from_json(json::array({c["d"]})), tolerance(1e-7, 1e-4));
    const auto w = c["weights"].get<std::vector<real>>();
    for (std::size_t i = 0; i < w.size(); ++i) CHECK(std::abs(out.weights[i] - w[i]) <= tolerance(1e-7, 1e-4) * w[i]);
  }
  // By hand: independent rows give α_i = 1/‖g_i‖, d = Σ_i g_i/‖g_i‖ of norm √T, clipped to 1.
  const auto diag = run({{"name", "nash-mtl"}}, matrix({{1, 0}, {0, 1e-5}}));
  const real h = 1 / std::sqrt(real(2));
  CHECK_TENSOR_NEAR(diag.direction, row({h, h}), tolerance(1e-8, 1e-5));
  // The issue's reproducer: ‖d‖ = max_norm = 1 (was 0.254 when α was solved for G/‖G‖_F).
  const auto issue = run({{"name", "nash-mtl"}}, matrix({{0.1, 0.04, -0.02}, {-0.05, 0.1, 0.03}, {0.02, -0.03, 0.1}}));
  CHECK(std::abs(norm_row(issue.direction, 0) - 1) <= tolerance(1e-12, 1e-5));
  // A zero row has no α_i with α_i (Gα)_i = 1; its weight is 0 and the rest is solved alone:
  // (1 + reg_eps) β² = 1 on the correlation matrix, α = β/2, d = (0, 2α, 0).
  const auto zero = run({{"name", "nash-mtl"}, {"max_norm", 0}}, matrix({{0, 0, 0}, {0, 2, 0}}));
  CHECK(zero.weights[0] == 0);
  CHECK_TENSOR_NEAR(zero.direction, row({0, 1 / std::sqrt(1 + real(1e-8)), 0}), tolerance(1e-14, 1e-6));
}

TEST_CASE("nash-mtl: scaling one task's gradient leaves d unchanged (alpha_i scales by 1/c)") {
  Rng g(61);
  const Tensor J = g.normal_tensor(3, 5);
  const auto a = run({{"name", "nash-mtl"}, {"max_norm", 0}}, J);
  for (real c : {real(1e-6), real(1e6)}) {
    Tensor Jc = J;
    for (std::size_t k = 0; k < 5; ++k) Jc(1, k) *= c;
    const auto b = run({{"name", "nash-mtl"}, {"max_norm", 0}}, Jc);
    CHECK_TENSOR_NEAR(b.direction, a.direction, tolerance(1e-7, 1e-3));
    CHECK(std::abs(b.weights[1] * c - a.weights[1]) <= tolerance(1e-7, 1e-3) * a.weights[1]);
  }
}

TEST_CASE("cagrad: g_w* = 0 gives the KKT limit, g_0 minus its projection on the supporting rows' differences") {
  // By hand, collinear rows u, −u/2, −0.8u (u = (1, 2)), c = 1.5: g_0 = −0.1u, φ = 0.15‖u‖ and
  // min over the hull of −0.1 t‖u‖² + 0.15 |t| ‖u‖² is at t = 0. Every difference of rows is
  // along u, so d = g_0 − g_0 = 0 (min_i g_i·d = 0, the primal optimum), not g_0/s (= −0.1u/3.25,
  // conflicting with g_1) nor (1 − c)g_0/s (the official code's limit, conflicting with g_2, g_3).
  const Tensor J = matrix({{1, 2}, {-0.5, -1}, {-0.8, -1.6}});
  CHECK_TENSOR_NEAR(run({{"name", "cagrad"}, {"c", 1.5}}, J).direction, row({0, 0}), tolerance(1e-7, 1e-3));
  // Rows (1,0), (−1,0), (0,1), c = 0.5: w* = (½, ½, 0), g_w* = 0, the difference g_1 − g_2 is
  // orthogonal to g_0 = (0, 1/3): d = g_0 / (1 + c²).
  const Tensor K = matrix({{1, 0}, {-1, 0}, {0, 1}});
  CHECK_TENSOR_NEAR(run({{"name", "cagrad"}}, K).direction, row({0, real(1) / 3 / real(1.25)}), tolerance(1e-7, 1e-4));
  // The smoothed objective's own solution at ε = 1e-8 (tools/gen_weighting_golden.py), including a
  // case where the projected gradient stops short of the kink (‖g_w‖ ~ 1e-6): d = (0.0092, −0.0046, 0).
  const json fx = load_fixture("weighting_golden.json");
  for (const auto& c : fx["cagrad_degenerate"]) {
    CAPTURE(c["J"].dump());
    const auto out = run({{"name", "cagrad"}, {"c", c["c"]}, {"rescale", c["rescale"]}}, from_json(c["J"]));
    const auto d = c["d"].get<std::vector<real>>();
    for (std::size_t k = 0; k < d.size(); ++k) CHECK(std::abs(out.direction(0, k) - d[k]) <= tolerance(1e-7, 1e-4));
  }
}

}  // TEST_SUITE
