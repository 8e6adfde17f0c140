// The spatial solvers' fast paths for many tasks (issue #19) against their reference formulation at
// a moderate T (not timed: bench --case stage_t times them). nonneg_qp_rows at T ≥ 32 guesses every
// row's free set at once and finishes each row exactly; the reference is nonneg_qp on each row alone
// (the exact primal active set from u = 0, which the brute-force test of test_solvers.cpp checks),
// and the KKT conditions are checked directly. A float build keeps nonneg_qp per row at every T
// (solvers.cpp, kRowsBatchedFrom), so there the first two cases check it against the KKT conditions.
#include "test_util.hpp"
#include "spatial/spatial_util.hpp"

#include <algorithm>
#include <cmath>

#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/solvers.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
namespace sv = mtlgrad::solvers;

namespace {

// J (T×P) of rank r: normals times normals, plus `common` times one shared row (tasks that agree).
Tensor jacobian(Rng& g, std::size_t T, std::size_t r, std::size_t P, real common) {
  const Tensor A = g.normal_tensor(T, r), B = g.normal_tensor(r, P), c = g.normal_tensor(1, P);
  Tensor J = zeros(T, P);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t p = 0; p < P; ++p) {
      real s = common * c(0, p);
      for (std::size_t k = 0; k < r; ++k) s += A(i, k) * B(k, p);
      J(i, p) = s;
    }
  return J;
}

// Q = G/tr(G) + reg·I, as upgrad's.
Tensor regularised(const Tensor& G, real reg) {
  const std::size_t T = G.shape(0);
  real tr = 0;
  for (std::size_t i = 0; i < T; ++i) tr += G(i, i);
  Tensor Q = zeros(T, T);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) Q(i, j) = G(i, j) / tr + (i == j ? reg : real(0));
  return Q;
}

double max_abs(const Tensor& a) {
  double m = 0;
  for (std::size_t k = 0; k < a.size(); ++k) m = std::max(m, std::abs(double(a.data()[k])));
  return m;
}

double max_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double m = 0;
  for (std::size_t k = 0; k < a.size(); ++k) m = std::max(m, std::abs(double(a.data()[k]) - double(b.data()[k])));
  return m;
}

struct Case {
  const char* what;
  std::size_t T, r, P;
  real common;
};

const Case kCases[] = {
    {"full rank, half the pairs conflicting", 40, 40, 80, 0},
    {"rank 5 (T > rank: Q is reg_eps·I off the row space)", 40, 5, 80, 0},
    {"rank 12 with a shared component", 48, 12, 80, real(0.5)},
    {"full rank, a strong shared component (few conflicts)", 40, 40, 80, real(3)},
    {"T = 64, full rank", 64, 64, 100, 0},
};

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("solvers: nonneg_qp_rows at T >= 32 equals nonneg_qp on each row, and meets the KKT conditions") {
  Rng g(19);
  for (const Case& c : kCases) {
    const std::string what = c.what;
    CAPTURE(what);
    Tensor G;
    gramian(jacobian(g, c.T, c.r, c.P, c.common), G);
    const Tensor Q = regularised(G, real(1e-4));
    std::vector<real> u(c.T);
    for (std::size_t i = 0; i < c.T; ++i) u[i] = real(0.5) + g.uniform();  // a preference, not all equal
    Tensor X;
    const sv::SolveReport rep = sv::nonneg_qp_rows(Q, u, X);
    REQUIRE(X.shape(0) == c.T);
    REQUIRE(X.shape(1) == c.T);
    CHECK_FALSE(rep.capped);
    CHECK(rep.residual <= 16 * double(c.T) * double(std::numeric_limits<real>::epsilon()) * 4);
    Tensor ref = zeros(c.T, c.T);
    std::vector<real> q(c.T), x;
    std::size_t free_total = 0;
    for (std::size_t i = 0; i < c.T; ++i) {
      for (std::size_t k = 0; k < c.T; ++k) q[k] = Q(k, i) * u[i];
      sv::nonneg_qp(Q, q, x);
      for (std::size_t k = 0; k < c.T; ++k) {
        ref(i, k) = x[k];
        free_total += x[k] > 0;
      }
      // KKT of row i, straight from the definition: x ≥ 0, ∇ = Qx + q ≥ 0, x_k ∇_k = 0.
      real scale = 0;
      for (std::size_t k = 0; k < c.T; ++k) scale = std::max({scale, std::abs(q[k]), Q(k, k)});
      const double tol = double(tolerance(1e-12, 1e-4)) * double(scale) * double(c.T);
      for (std::size_t k = 0; k < c.T; ++k) {
        real grad = q[k];
        for (std::size_t j = 0; j < c.T; ++j) grad += Q(k, j) * X(i, j);
        CHECK(X(i, k) >= 0);
        CHECK(double(grad) >= -tol);
        CHECK(std::abs(double(X(i, k)) * double(grad)) <= tol * std::max(1.0, max_abs(ref)));
      }
    }
    // Not a trivial case: the rows do free indices (the reference's own count).
    if (c.common < 1) CHECK(free_total >= c.T);
    const double err = max_diff(X, ref) / std::max(max_abs(ref), 1e-300);
    MESSAGE(what << ": max |X − X_ref| / max |X_ref| = " << err << ", free indices " << free_total
                   << ", solves per row ≤ " << rep.iterations);
    CHECK(err <= double(tolerance(1e-9, 5e-2)));
  }
}

TEST_CASE("upgrad at T = 40 equals the sum of the per-row projections, and does not conflict") {
  Rng g(20);
  for (const Case& c : kCases) {
    const std::string what = c.what;
    CAPTURE(what);
    const Tensor J = jacobian(g, c.T, c.r, c.P, c.common);
    const Aggregation out = run({{"name", "upgrad"}}, J);
    // The reference formulation: each row u_i g_i projected alone (nonneg_qp), the weights summed.
    Tensor G;
    gramian(J, G);
    const Tensor Q = regularised(G, real(1e-4));
    std::vector<real> w(c.T, real(0)), q(c.T), x;
    const real ui = real(1) / real(c.T);
    for (std::size_t i = 0; i < c.T; ++i) {
      for (std::size_t k = 0; k < c.T; ++k) q[k] = Q(k, i) * ui;
      sv::nonneg_qp(Q, q, x);
      for (std::size_t k = 0; k < c.T; ++k) w[k] += (k == i ? ui : real(0)) + x[k];
    }
    Tensor d_ref;
    combine(J, w, d_ref);
    const double err = max_diff(out.direction, d_ref) / max_abs(d_ref);
    CHECK(err <= double(tolerance(1e-9, 5e-2)));
    CHECK(max_diff(as_row(out.weights), as_row(w)) / max_abs(as_row(w)) <= double(tolerance(1e-9, 5e-2)));
    // Non-conflicting up to the regularisation's bound g_i·d ≥ −reg_eps·tr(G)·w_i (docs/aggregators.md).
    real tr = 0;
    for (std::size_t i = 0; i < c.T; ++i) tr += G(i, i);
    for (std::size_t i = 0; i < c.T; ++i) {
      real gd = 0;
      for (std::size_t p = 0; p < c.P; ++p) gd += J(i, p) * out.direction(0, p);
      CHECK(double(gd) >= -double(real(1e-4) * tr * std::abs(out.weights[i])) - double(tolerance(1e-9, 1e-3)) * double(tr));
    }
  }
}

TEST_CASE("solvers: min_norm_simplex at T >= 32 (incremental Cholesky) meets the KKT conditions and Frank-Wolfe's value") {
  Rng g(21);
  for (const Case& c : kCases) {
    const std::string what = c.what;
    CAPTURE(what);
    Tensor G;
    gramian(jacobian(g, c.T, c.r, c.P, c.common), G);
    std::vector<real> w;
    // tol 0 in double: stop only when no row improves. Float's rounding can make the last rows
    // trade places forever at tol 0 (rank 5 and rank 12 here), so a float build asks for a gap of
    // 1e-6·max‖g‖², the optimality test below then being float's.
    const sv::SolveReport rep = sv::min_norm_simplex(G, 1000, tolerance(0, 1e-6), w);
    CHECK_FALSE(rep.capped);
    REQUIRE(w.size() == c.T);
    real total = 0, gmax = 0;
    std::size_t support = 0;
    for (std::size_t i = 0; i < c.T; ++i) {
      CHECK(w[i] >= 0);
      total += w[i];
      support += w[i] > 0;
      gmax = std::max(gmax, G(i, i));
    }
    CHECK(std::abs(double(total) - 1) <= double(tolerance(1e-12, 1e-5)));
    // Optimality on the simplex: (Gw)_i ≥ wᵀGw for every i, equality where w_i > 0.
    std::vector<real> Gw(c.T, real(0));
    real wGw = 0;
    for (std::size_t i = 0; i < c.T; ++i) {
      for (std::size_t j = 0; j < c.T; ++j) Gw[i] += G(i, j) * w[j];
      wGw += w[i] * Gw[i];
    }
    const double tol = double(tolerance(1e-10, 1e-3)) * double(gmax);
    for (std::size_t i = 0; i < c.T; ++i) {
      CHECK(double(Gw[i]) >= double(wGw) - tol);
      if (w[i] > 0) CHECK(std::abs(double(Gw[i] - wGw)) <= tol);
    }
    // A second algorithm: projected gradient on the same problem reaches the same value from above.
    std::vector<real> v(c.T, real(1) / real(c.T));
    const sv::SimplexObjective f = [&](const std::vector<real>& x, std::vector<real>& grad) {
      real q = 0;
      for (std::size_t i = 0; i < c.T; ++i) {
        real r = 0;
        for (std::size_t j = 0; j < c.T; ++j) r += G(i, j) * x[j];
        grad[i] = 2 * r;
        q += x[i] * r;
      }
      return q;
    };
    sv::minimize_on_simplex(f, 20000, real(1e-13), v);
    std::vector<real> gv(c.T);
    const real fv = f(v, gv);
    CHECK(double(wGw) <= double(fv) + tol);
    CHECK(double(fv) - double(wGw) <= double(tolerance(1e-6, 1e-2)) * double(gmax));
    MESSAGE(what << ": support " << support << ", rows added " << rep.iterations << ", min-norm² / max‖g‖² "
                   << double(wGw) / double(gmax) << ", projected gradient's " << double(fv) / double(gmax));
  }
}

}  // TEST_SUITE
