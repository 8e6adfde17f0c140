#include "test_util.hpp"
#include "spatial/spatial_util.hpp"

#include <cmath>
#include <limits>

#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/optim/solvers.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
namespace sv = mtlgrad::solvers;

namespace {


real quad(const Tensor& G, const std::vector<real>& w) {
  real s = 0;
  for (std::size_t i = 0; i < w.size(); ++i)
    for (std::size_t j = 0; j < w.size(); ++j) s += w[i] * G(i, j) * w[j];
  return s;
}

std::vector<real> times(const Tensor& G, const std::vector<real>& w) {
  std::vector<real> y(w.size(), real(0));
  for (std::size_t i = 0; i < w.size(); ++i)
    for (std::size_t j = 0; j < w.size(); ++j) y[i] += G(i, j) * w[j];
  return y;
}

// A random T×T Gramian of rank r (J = T×r normals times r×P normals).
Tensor random_gramian(Rng& g, std::size_t T, std::size_t r, std::size_t P = 6) {
  const Tensor A = g.normal_tensor(T, r), B = g.normal_tensor(r, P);
  Tensor J = zeros(T, P);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t k = 0; k < r; ++k)
      for (std::size_t p = 0; p < P; ++p) J(i, p) += A(i, k) * B(k, p);
  Tensor G = zeros(T, T);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j)
      for (std::size_t p = 0; p < P; ++p) G(i, j) += J(i, p) * J(j, p);
  return G;
}

real sum(const std::vector<real>& v) {
  real s = 0;
  for (real x : v) s += x;
  return s;
}

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("solvers: project_simplex: hand values and the variational inequality") {
  std::vector<real> v{0.2, 0.3, 0.8};  // θ = (1.3 − 1)/3 = 0.1 by hand
  sv::project_simplex(v);
  CHECK_TENSOR_NEAR(as_row(v), row({0.1, 0.2, 0.7}), tolerance(1e-15, 1e-6));
  v = {2, 0};
  sv::project_simplex(v);
  CHECK_TENSOR_NEAR(as_row(v), row({1, 0}), 0);
  v = {0.25, 0.75};
  sv::project_simplex(v);
  CHECK_TENSOR_NEAR(as_row(v), row({0.25, 0.75}), 0);
  v = {-5, -5, -5, -5};
  sv::project_simplex(v);
  CHECK_TENSOR_NEAR(as_row(v), row({0.25, 0.25, 0.25, 0.25}), tolerance(1e-15, 1e-6));
  // p = Π(v) iff (v − p)·(q − p) ≤ 0 for every q in the simplex (checked at its vertices).
  Rng g(5);
  for (int trial = 0; trial < 50; ++trial) {
    const Tensor x = g.normal_tensor(1, 5, 0, 2);
    std::vector<real> p(x.begin(), x.end());
    sv::project_simplex(p);
    CHECK(std::abs(sum(p) - 1) <= tolerance(1e-14, 1e-6));
    for (std::size_t q = 0; q < 5; ++q) {
      CHECK(p[q] >= 0);
      real ip = 0;
      for (std::size_t k = 0; k < 5; ++k) ip += (x(0, k) - p[k]) * ((k == q ? 1 : 0) - p[k]);
      CHECK(ip <= tolerance(1e-13, 1e-5));
    }
  }
  std::vector<real> empty;
  CHECK_THROWS_WITH_SUBSTR(sv::project_simplex(empty), "project_simplex: empty vector");
}

TEST_CASE("solvers: min_norm_simplex: closed form and Wolfe against the optimality conditions") {
  // Hand: g1 = (-4,1,1), g2 = (6,1,1): w1 = (38 + 22) / (18 + 38 + 44) = 0.6.
  std::vector<real> w;
  sv::min_norm_simplex(matrix({{18, -22}, {-22, 38}}), 100, 0, w);
  CHECK_TENSOR_NEAR(as_row(w), row({0.6, 0.4}), tolerance(1e-15, 1e-6));
  sv::min_norm_simplex(matrix({{1, 1}, {1, 1}}), 100, 0, w);  // g1 = g2: the midpoint
  CHECK_TENSOR_NEAR(as_row(w), row({0.5, 0.5}), 0);
  sv::min_norm_simplex(matrix({{1, 2}, {2, 5}}), 100, 0, w);  // clipped: g1 is the nearest point
  CHECK_TENSOR_NEAR(as_row(w), row({1, 0}), 0);
  sv::min_norm_simplex(matrix({{3}}), 100, 0, w);
  CHECK(w == std::vector<real>{1});
  // T = 3..6, full rank and rank-deficient: w on the simplex, (Gw)_i ≥ wᵀGw − gap for every i
  // (the KKT conditions up to the stopping gap), and no point of a grid of the simplex is lower.
  Rng g(17);
  for (std::size_t T = 3; T <= 6; ++T)
    for (std::size_t r : {std::size_t(1), T - 1, T}) {
      const Tensor G = random_gramian(g, T, r);
      real scale = 0;
      for (std::size_t i = 0; i < T; ++i) scale = std::max(scale, G(i, i));
      const real tol = tolerance(1e-10, 1e-5);
      sv::min_norm_simplex(G, 1000000, tol, w);
      CHECK(std::abs(sum(w) - 1) <= tolerance(1e-12, 1e-5));
      const real f = quad(G, w);
      const auto Gw = times(G, w);
      for (std::size_t i = 0; i < T; ++i) {
        CHECK(w[i] >= 0);
        CHECK(Gw[i] >= f - 2 * tol * scale);
      }
      if (T == 3) {
        real best = std::numeric_limits<real>::max();
        for (int a = 0; a <= 200; ++a)
          for (int b = 0; a + b <= 200; ++b) best = std::min(best, quad(G, {a / real(200), b / real(200), (200 - a - b) / real(200)}));
        CHECK(f <= best + 2 * tol * scale);
      }
    }
  CHECK_THROWS_WITH_SUBSTR(sv::min_norm_simplex(zeros(2, 3), 10, 0, w), "min_norm_simplex: expected a non-empty square matrix, got [2,3]");
}

TEST_CASE("solvers: nonneg_qp: hand values and brute force over every active set") {
  std::vector<real> u;
  sv::nonneg_qp(matrix({{1, 0}, {0, 1}}), {-1, 2}, u);  // separable: u = max(-q, 0)
  CHECK_TENSOR_NEAR(as_row(u), row({1, 0}), 0);
  sv::nonneg_qp(matrix({{2, 1}, {1, 2}}), {-1, -1}, u);  // interior: Q⁻¹·1 = (1/3, 1/3)
  CHECK_TENSOR_NEAR(as_row(u), row({1.0 / 3, 1.0 / 3}), tolerance(1e-15, 1e-6));
  sv::nonneg_qp(matrix({{2, 1}, {1, 2}}), {1, 1}, u);
  CHECK_TENSOR_NEAR(as_row(u), row({0, 0}), 0);
  // Brute force: over all 2^T supports S, u_S = −Q_SS⁻¹ q_S (Gaussian elimination here), keep the
  // feasible one of least objective; the solver must find it.
  Rng g(23);
  for (std::size_t T = 1; T <= 6; ++T)
    for (int trial = 0; trial < 10; ++trial) {
      Tensor Q = random_gramian(g, T, std::max<std::size_t>(1, T / 2));
      for (std::size_t i = 0; i < T; ++i) Q(i, i) += real(0.05);
      const Tensor qt = g.normal_tensor(1, T);
      const std::vector<real> q(qt.begin(), qt.end());
      real best = std::numeric_limits<real>::max();
      std::vector<real> best_u;
      for (std::size_t mask = 0; mask < (std::size_t(1) << T); ++mask) {
        std::vector<std::size_t> S;
        for (std::size_t i = 0; i < T; ++i)
          if (mask >> i & 1) S.push_back(i);
        const std::size_t n = S.size();
        Tensor A = zeros(n, n + 1);
        for (std::size_t a = 0; a < n; ++a) {
          for (std::size_t b = 0; b < n; ++b) A(a, b) = Q(S[a], S[b]);
          A(a, n) = -q[S[a]];
        }
        for (std::size_t c = 0; c < n; ++c)  // PD: no pivoting needed
          for (std::size_t a = 0; a < n; ++a)
            if (a != c) {
              const real f = A(a, c) / A(c, c);
              for (std::size_t b = 0; b <= n; ++b) A(a, b) -= f * A(c, b);
            }
        std::vector<real> x(T, real(0));
        bool feasible = true;
        for (std::size_t a = 0; a < n; ++a) feasible &= (x[S[a]] = A(a, n) / A(a, a)) >= 0;
        if (!feasible) continue;
        const real obj = quad(Q, x) / 2 + [&] { real s = 0; for (std::size_t i = 0; i < T; ++i) s += q[i] * x[i]; return s; }();
        if (obj < best) best = obj, best_u = x;
      }
      sv::nonneg_qp(Q, q, u);
      CHECK_TENSOR_NEAR(as_row(u), as_row(best_u), tolerance(1e-10, 1e-4));
    }
  CHECK_THROWS_WITH_SUBSTR(sv::nonneg_qp(matrix({{1, -1}, {-1, 1}}), {-1, -1}, u),  // unbounded below
                           "nonneg_qp: Q is not positive definite on a free set of 2 indices");
  CHECK_THROWS_WITH_SUBSTR(sv::nonneg_qp(matrix({{1}}), {1, 2}, u), "nonneg_qp: q has 2 values for Q [1,1]");
}

TEST_CASE("solvers: minimize_on_simplex finds the projection for f = ‖w − c‖²") {
  Rng g(29);
  for (int trial = 0; trial < 20; ++trial) {
    const Tensor c = g.normal_tensor(1, 4);
    std::vector<real> target(c.begin(), c.end());
    sv::project_simplex(target);
    const sv::SimplexObjective f = [&](const std::vector<real>& w, std::vector<real>& grad) {
      real v = 0;
      for (std::size_t k = 0; k < 4; ++k) v += (w[k] - c(0, k)) * (w[k] - c(0, k)), grad[k] = 2 * (w[k] - c(0, k));
      return v;
    };
    std::vector<real> w(4, real(0.25));
    sv::minimize_on_simplex(f, 1000, tolerance(1e-14, 1e-7), w);
    CHECK_TENSOR_NEAR(as_row(w), as_row(target), tolerance(1e-10, 1e-5));
  }
  std::vector<real> none;
  CHECK_THROWS_WITH_SUBSTR(sv::minimize_on_simplex({}, 1, 0, none), "minimize_on_simplex: empty start");
}

TEST_CASE("solvers: symmetric_eigen and rank_cutoff") {
  std::vector<real> values;
  Tensor V;
  sv::symmetric_eigen(matrix({{2, 1}, {1, 2}}), values, V);  // by hand: 1 on (1,−1)/√2, 3 on (1,1)/√2
  CHECK_TENSOR_NEAR(as_row(values), row({1, 3}), tolerance(1e-14, 1e-6));
  CHECK(std::abs(std::abs(V(0, 0)) - std::sqrt(real(0.5))) <= tolerance(1e-14, 1e-6));
  CHECK(V(0, 0) * V(1, 0) < 0);
  CHECK(V(0, 1) * V(1, 1) > 0);
  Rng g(31);
  for (std::size_t T = 1; T <= 6; ++T) {
    const Tensor A = random_gramian(g, T, std::max<std::size_t>(1, T - 1));
    sv::symmetric_eigen(A, values, V);
    for (std::size_t k = 1; k < T; ++k) CHECK(values[k - 1] <= values[k]);
    Tensor back = zeros(T, T), gram = zeros(T, T);
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t j = 0; j < T; ++j)
        for (std::size_t k = 0; k < T; ++k) back(i, j) += V(i, k) * values[k] * V(j, k), gram(i, j) += V(k, i) * V(k, j);
    CHECK_TENSOR_NEAR(back, A, tolerance(1e-12, 1e-4));
    Tensor I = zeros(T, T);
    for (std::size_t i = 0; i < T; ++i) I(i, i) = 1;
    CHECK_TENSOR_NEAR(gram, I, tolerance(1e-13, 1e-5));
    if (T >= 2) CHECK(values[0] <= sv::rank_cutoff(values) * 100);  // rank T−1: one (numerically) zero eigenvalue
  }
  CHECK(sv::rank_cutoff({0, 1, 2}) == 2 * 3 * std::numeric_limits<real>::epsilon());
  CHECK(sv::rank_cutoff({0, 0}) == 0);
  CHECK_THROWS_WITH_SUBSTR(sv::symmetric_eigen(zeros(0, 0), values, V), "symmetric_eigen: expected a non-empty square matrix");
}

TEST_CASE("solvers: log_barrier_fixed_point solves G a = 1/a") {
  std::vector<real> a;
  sv::log_barrier_fixed_point(matrix({{4}}), 100, a);  // 4a = 1/a: a = 1/2
  CHECK_TENSOR_NEAR(as_row(a), row({0.5}), tolerance(1e-14, 1e-6));
  sv::log_barrier_fixed_point(matrix({{1, 0}, {0, 4}}), 100, a);  // separable: a_i = 1/√G_ii
  CHECK_TENSOR_NEAR(as_row(a), row({1, 0.5}), tolerance(1e-14, 1e-6));
  Rng g(37);
  for (std::size_t T = 2; T <= 6; ++T)
    for (int trial = 0; trial < 5; ++trial) {
      Tensor G = random_gramian(g, T, T, T + 3);
      for (std::size_t i = 0; i < T; ++i) G(i, i) += real(1e-3);
      sv::log_barrier_fixed_point(G, 200, a);
      const auto Ga = times(G, a);
      for (std::size_t i = 0; i < T; ++i) {
        CHECK(a[i] > 0);
        CHECK(std::abs(Ga[i] * a[i] - 1) <= tolerance(1e-10, 1e-3));  // float: G is ill-conditioned (+1e-3·I)
      }
    }
  CHECK_THROWS_WITH_SUBSTR(sv::log_barrier_fixed_point(matrix({{1, 2}, {3, 4}, {5, 6}}), 10, a),
                           "log_barrier_fixed_point: expected a non-empty square matrix, got [3,2]");
}

}  // TEST_SUITE
