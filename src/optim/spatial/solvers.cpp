#include "mtlgrad/optim/solvers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <xtensor-blas/xlinalg.hpp>

#include "mtlgrad/core/blas.hpp"

namespace mtlgrad::solvers {
namespace {

constexpr real kEps = std::numeric_limits<real>::epsilon();
// From this many tasks on, min_norm_simplex keeps a Cholesky factor of its corral (see there).
constexpr std::size_t kIncrementalFrom = 32;

void check_square(const char* solver, const Tensor& A) {
  if (A.shape(0) != A.shape(1) || A.shape(0) == 0)
    throw std::invalid_argument(std::string(solver) + ": expected a non-empty square matrix, got " + shape_str(A));
}

// y = A x for a T×T A.
void matvec(const Tensor& A, const std::vector<real>& x, std::vector<real>& y) {
  const std::size_t T = A.shape(0);
  y.assign(T, real(0));
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) y[i] += A(i, j) * x[j];
}

real dotv(const std::vector<real>& a, const std::vector<real>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), real(0));
}

}  // namespace

// Hand-written rather than xt::linalg::cholesky + solve_cholesky because it is faster at the sizes
// the stages meet (T = number of tasks): it factors the block A[idx, idx] where it lies instead of
// gathering it, allocates nothing once L has grown, and skips the column-major copies of A and b
// that xtensor-blas makes around LAPACK's potrf/potrs. Measured (mtlgrad_bench --case solvers
// --cpu-clock, one thread, double, median µs of 2001–20001 solves, on a loaded 2-core VM, twice):
//   T            2     4     8    16    32    64
//   hand       1.3   1.4   1.5   2.3   5.9  26.8
//   xt::linalg 1.7   1.8   2.2   3.2   6.4  17.1
// LAPACK's blocked factorisation wins from T ≈ 48 on; kept hand-written for every T so that the
// definiteness test (a pivot ≤ ε·A_ii fails, where potrf only fails at ≤ 0) and the bits do not
// depend on T.
bool cholesky_solve(const Tensor& A, const std::vector<std::size_t>& idx, std::vector<real>& b, Tensor& L) {
  const std::size_t n = idx.size();
  if (L.shape(0) < n) L.resize({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      real s = A(idx[i], idx[j]);
      for (std::size_t k = 0; k < j; ++k) s -= L(i, k) * L(j, k);
      if (i == j) {
        if (!(s > kEps * std::abs(A(idx[i], idx[i])))) return false;
        L(i, i) = std::sqrt(s);
      } else {
        L(i, j) = s / L(j, j);
      }
    }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < i; ++k) b[i] -= L(i, k) * b[k];
    b[i] /= L(i, i);
  }
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t k = i + 1; k < n; ++k) b[i] -= L(k, i) * b[k];
    b[i] /= L(i, i);
  }
  return true;
}

void project_simplex(std::vector<real>& v) {
  if (v.empty()) throw std::invalid_argument("project_simplex: empty vector");
  std::vector<real> s(v);
  std::sort(s.begin(), s.end(), std::greater<real>());
  real cumulative = 0, theta = 0;
  for (std::size_t k = 0; k < s.size(); ++k) {
    cumulative += s[k];
    const real t = (cumulative - 1) / real(k + 1);
    if (s[k] - t > 0) theta = t;
  }
  for (real& x : v) x = std::max(x - theta, real(0));
}

SolveReport min_norm_simplex(const Tensor& G, std::size_t max_iter, real tol, std::vector<real>& w) {
  check_square("min_norm_simplex", G);
  const std::size_t T = G.shape(0);
  SolveReport report;
  if (T == 1) return w.assign(1, real(1)), report;
  std::vector<real> Gw, y;
  // The Frank–Wolfe gap wᵀGw − min_t (Gw)_t relative to max_i G_ii (0 when J = 0).
  const auto gap = [&](real scale) {
    matvec(G, w, Gw);
    const real m = *std::min_element(Gw.begin(), Gw.end());
    return scale > 0 ? std::max(dotv(w, Gw) - m, real(0)) / scale : real(0);
  };
  if (T == 2) {
    const real denom = G(0, 0) + G(1, 1) - 2 * G(0, 1);  // ‖g_1 − g_2‖²
    const real w1 = denom > 0 ? std::clamp((G(1, 1) - G(0, 1)) / denom, real(0), real(1)) : real(0.5);
    w = {w1, 1 - w1};
    report.residual = gap(std::max(G(0, 0), G(1, 1)));
    return report;
  }
  real scale = 0;
  std::size_t first = 0;
  for (std::size_t i = 0; i < T; ++i) {
    scale = std::max(scale, G(i, i));
    if (G(i, i) < G(first, first)) first = i;
  }
  w.assign(T, real(0));
  w[first] = 1;
  if (!(scale > 0)) return report;  // J = 0: every point of the hull is 0
  std::vector<bool> corral(T, false);
  corral[first] = true;
  std::vector<std::size_t> idx;
  Tensor K;
  // From kIncrementalFrom tasks on, the affine minimiser comes from a Cholesky factor L of
  // M_SS = G_SS/scale + 11ᵀ (rows in the order they joined the corral), grown by one row per added
  // row in O(n²): y ∝ M_SS⁻¹1, as yᵀ(G + 11ᵀ)y = yᵀGy + 1 on 1ᵀy = 1. The pseudo-inverse of the
  // bordered KKT matrix below costs an eigendecomposition of (n+1)² per solve, O(T⁴) for a corral
  // that grows to T rows (T = 500 random rows: minutes). A drop, or a pivot that says the corral is
  // affinely dependent in the working precision, refactors from scratch and, failing that, takes
  // the pseudo-inverse for that solve. Same minimiser up to rounding; below kIncrementalFrom every
  // solve is the pseudo-inverse, bit for bit as before.
  const bool incremental = T >= kIncrementalFrom;
  std::vector<std::size_t> order;
  std::vector<real> z, pos_y(T);
  Tensor L;
  bool valid = false;
  const auto m = [&](std::size_t a, std::size_t b) { return G(a, b) / scale + 1; };
  const auto refactor = [&] {
    order.clear();
    for (std::size_t i = 0; i < T; ++i)
      if (corral[i]) order.push_back(i);
    const std::size_t n = order.size();
    if (L.shape(0) < T) L = zeros(T, T);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j <= i; ++j) {
        real v = m(order[i], order[j]);
        for (std::size_t k = 0; k < j; ++k) v -= L(i, k) * L(j, k);
        if (i == j) {
          if (!(v > 64 * real(n) * kEps * m(order[i], order[i]))) return false;
          L(i, i) = std::sqrt(v);
        } else {
          L(i, j) = v / L(j, j);
        }
      }
    return true;
  };
  const auto append = [&](std::size_t t) {
    const std::size_t n = order.size();
    for (std::size_t i = 0; i < n; ++i) {
      real v = m(order[i], t);
      for (std::size_t k = 0; k < i; ++k) v -= L(i, k) * L(n, k);
      L(n, i) = v / L(i, i);
    }
    real v = m(t, t);
    for (std::size_t k = 0; k < n; ++k) v -= L(n, k) * L(n, k);
    if (!(v > 64 * real(n + 1) * kEps * m(t, t))) return false;
    L(n, n) = std::sqrt(v);
    order.push_back(t);
    return true;
  };
  if (incremental) {
    L = zeros(T, T);
    valid = refactor();
  }
  std::size_t it = 0;
  for (; it < max_iter; ++it) {
    matvec(G, w, Gw);
    const std::size_t t = std::size_t(std::min_element(Gw.begin(), Gw.end()) - Gw.begin());
    if (dotv(w, Gw) - Gw[t] <= tol * scale || corral[t]) break;  // optimal (or stalled by rounding)
    corral[t] = true;
    if (incremental && valid) valid = append(t);
    for (std::size_t minor = 0; minor <= T; ++minor) {
      idx.clear();
      for (std::size_t i = 0; i < T; ++i)
        if (corral[i]) idx.push_back(i);
      const std::size_t n = idx.size();
      if (incremental && !valid) valid = refactor();
      if (incremental && valid) {
        // L Lᵀ z = 1, y = z / 1ᵀz, in the corral's order; then y by idx.
        z.assign(n, real(1));
        for (std::size_t i = 0; i < n; ++i) {
          for (std::size_t k = 0; k < i; ++k) z[i] -= L(i, k) * z[k];
          z[i] /= L(i, i);
        }
        for (std::size_t i = n; i-- > 0;) {
          for (std::size_t k = i + 1; k < n; ++k) z[i] -= L(k, i) * z[k];
          z[i] /= L(i, i);
        }
        real total = 0;
        for (real v : z) total += v;
        for (std::size_t i = 0; i < n; ++i) pos_y[order[i]] = z[i] / total;
        y.resize(n + 1);
        for (std::size_t a = 0; a < n; ++a) y[a] = pos_y[idx[a]];
      } else {
        // The affine minimiser on the corral: [G_SS 1; 1ᵀ 0] [y; μ] = [0; 1].
        K = zeros(n + 1, n + 1);
        for (std::size_t a = 0; a < n; ++a) {
          for (std::size_t b = 0; b < n; ++b) K(a, b) = G(idx[a], idx[b]) / scale;  // O(1) next to the 1s
          K(a, n) = K(n, a) = 1;
        }
        y.assign(n + 1, real(0));
        y[n] = 1;
        symmetric_pinv_solve(K, y);
      }
      real theta = 1;
      std::size_t blocking = n;
      for (std::size_t a = 0; a < n; ++a)
        if (y[a] <= 0) {
          const real gap = w[idx[a]] - y[a];
          const real th = gap > 0 ? w[idx[a]] / gap : real(0);
          if (th < theta) theta = th, blocking = a;
        }
      for (std::size_t a = 0; a < n; ++a) w[idx[a]] += theta * (y[a] - w[idx[a]]);
      if (blocking == n) break;
      for (std::size_t a = 0; a < n; ++a)
        if (a == blocking || w[idx[a]] <= 0) w[idx[a]] = 0, corral[idx[a]] = false;
      valid = false;  // a row left the corral: refactor
    }
  }
  report.iterations = it;
  report.residual = gap(scale);
  report.capped = it == max_iter && report.residual > tol;
  return report;
}

SolveReport nonneg_qp(const Tensor& Q, const std::vector<real>& q, std::vector<real>& u, std::size_t max_iter) {
  check_square("nonneg_qp", Q);
  const std::size_t T = Q.shape(0);
  if (q.size() != T)
    throw std::invalid_argument("nonneg_qp: q has " + std::to_string(q.size()) + " values for Q " + shape_str(Q));
  real scale = 0;
  for (std::size_t i = 0; i < T; ++i) scale = std::max({scale, std::abs(q[i]), Q(i, i)});
  const real gtol = 16 * real(T) * kEps * scale;
  u.assign(T, real(0));
  std::vector<bool> free(T, false);
  std::vector<std::size_t> idx;
  std::vector<real> grad, z;
  Tensor L;
  const std::size_t cap = max_iter > 0 ? max_iter : 4 * T + 8;
  SolveReport report;
  // The KKT gap max_i |min(u_i, (Qu + q)_i)| / scale.
  const auto kkt_gap = [&] {
    matvec(Q, u, grad);
    real r = 0;
    for (std::size_t i = 0; i < T; ++i) r = std::max(r, std::abs(std::min(u[i], grad[i] + q[i])));
    return scale > 0 ? r / scale : r;
  };
  // Each outer step frees one index and the objective strictly decreases, so no free set repeats;
  // the default cap only guards against rounding cycles.
  for (; report.iterations < cap; ++report.iterations) {
    matvec(Q, u, grad);
    std::size_t j = T;
    real most = -gtol;
    for (std::size_t i = 0; i < T; ++i)
      if (!free[i] && grad[i] + q[i] < most) most = grad[i] + q[i], j = i;
    if (j == T) return report.residual = kkt_gap(), report;
    free[j] = true;
    for (std::size_t inner = 0; inner <= T; ++inner) {
      idx.clear();
      for (std::size_t i = 0; i < T; ++i)
        if (free[i]) idx.push_back(i);
      z.resize(idx.size());
      for (std::size_t k = 0; k < idx.size(); ++k) z[k] = -q[idx[k]];
      if (!cholesky_solve(Q, idx, z, L))
        throw std::invalid_argument("nonneg_qp: Q is not positive definite on a free set of " +
                                    std::to_string(idx.size()) + " indices (regularise it)");
      real alpha = 1;
      std::size_t blocking = idx.size();
      for (std::size_t k = 0; k < idx.size(); ++k)
        if (z[k] <= 0) {
          const real gap = u[idx[k]] - z[k];
          const real a = gap > 0 ? u[idx[k]] / gap : real(0);
          if (a < alpha) alpha = a, blocking = k;
        }
      for (std::size_t k = 0; k < idx.size(); ++k) u[idx[k]] += alpha * (z[k] - u[idx[k]]);
      if (blocking == idx.size()) break;
      for (std::size_t k = 0; k < idx.size(); ++k)
        if (k == blocking || u[idx[k]] <= 0) u[idx[k]] = 0, free[idx[k]] = false;
    }
  }
  report.residual = kkt_gap();
  report.capped = report.residual > 16 * real(T) * kEps;
  return report;
}

namespace {

// Below this many tasks nonneg_qp_rows solves each row by nonneg_qp alone: the guess of phase 1
// does not pay (and the bits stay those of nonneg_qp).
// A float build keeps nonneg_qp on each row at every T: on a rank-deficient Q (T = 40, rank 5,
// tests/spatial/test_many_tasks.cpp) float's 24 bits left the batched guess's finish 5–80 % away
// from the per-row solves, which meet the KKT conditions to float's rounding.
constexpr std::size_t kRowsBatchedFrom =
    std::is_same_v<real, double> ? std::size_t(32) : std::numeric_limits<std::size_t>::max();

// b ← Q[idx, idx]⁻¹ b by LAPACK's potrf/potrs on the gathered block (A its workspace; symmetric,
// so row- and column-major are the same). Blocked (BLAS-3), unlike cholesky_solve: at the free-set
// sizes of many tasks (n ~ 100s) it is the difference between milliseconds and seconds per row.
bool lapack_block_solve(const Tensor& Q, const std::vector<std::size_t>& idx, std::vector<real>& b,
                        std::vector<real>& A) {
  const std::size_t n = idx.size();
  if (n == 0) return true;
  A.resize(n * n);
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t k = 0; k < n; ++k) A[a * n + k] = Q(idx[a], idx[k]);
  const auto m = static_cast<xt::blas_index_t>(n);
  if (cxxlapack::potrf<xt::blas_index_t>('L', m, A.data(), m) != 0) return false;
  return cxxlapack::potrs<xt::blas_index_t>('L', m, 1, A.data(), m, b.data(), m) == 0;
}

// Phase 1 of nonneg_qp_rows: X ≈ the T solutions by FISTA on all rows at once. Only a guess of the
// free sets; nothing of it reaches the answer but the sign pattern.
void guess_rows(const Tensor& Q, const std::vector<real>& c, Tensor& X) {
  const std::size_t T = Q.shape(0);
  // L ≥ λ_max(Q): a power iteration's Rayleigh quotient (a lower bound) with a margin, capped by
  // Gershgorin's upper bound. A too small L only spoils the guess, never the answer.
  std::vector<real> v(T, real(1)), Qv;
  real rayleigh = 0, gershgorin = 0;
  for (std::size_t i = 0; i < T; ++i) {
    real row = 0;
    for (std::size_t j = 0; j < T; ++j) row += std::abs(Q(i, j));
    gershgorin = std::max(gershgorin, row);
  }
  for (int k = 0; k < 30; ++k) {
    matvec(Q, v, Qv);
    const real norm = std::sqrt(dotv(Qv, Qv));
    if (!(norm > 0)) break;
    rayleigh = dotv(v, Qv) / dotv(v, v);
    for (std::size_t i = 0; i < T; ++i) v[i] = Qv[i] / norm;
  }
  const real L = std::min(real(1.25) * rayleigh, gershgorin);
  X = zeros(T, T);
  if (!(L > 0)) return;
  Tensor prev = zeros(T, T), Y = zeros(T, T), grad = zeros(T, T);
  real t = 1;
  std::size_t stable = 0;
  for (std::size_t it = 0; it < 150 && stable < 10; ++it) {
    const real t_next = (1 + std::sqrt(1 + 4 * t * t)) / 2, beta = (t - 1) / t_next;
    t = t_next;
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t j = 0; j < T; ++j) Y(i, j) = X(i, j) + beta * (X(i, j) - prev(i, j));
    for (std::size_t i = 0; i < T; ++i) Y(i, i) += c[i];
    // Row i of (X + diag c)·Q is Q(x_i + c_i e_i), the gradient of row i's problem (Q symmetric).
    blas::gemm(false, false, T, T, T, real(1), Y.data(), T, Q.data(), T, real(0), grad.data(), T);
    bool changed = false;
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t j = 0; j < T; ++j) {
        const real y = Y(i, j) - (i == j ? c[i] : real(0));
        const real next = std::max(y - grad(i, j) / L, real(0));
        changed = changed || ((next > 0) != (X(i, j) > 0));
        prev(i, j) = next;
      }
    std::swap(prev, X);  // prev ← the old X, X ← the new one
    stable = changed ? 0 : stable + 1;
  }
}

}  // namespace

SolveReport nonneg_qp_rows(const Tensor& Q, const std::vector<real>& c, Tensor& X) {
  check_square("nonneg_qp_rows", Q);
  const std::size_t T = Q.shape(0);
  if (c.size() != T)
    throw std::invalid_argument("nonneg_qp_rows: c has " + std::to_string(c.size()) + " values for Q " + shape_str(Q));
  SolveReport total;
  const auto merge = [&](const SolveReport& r) {
    total.iterations = std::max(total.iterations, r.iterations);
    total.residual = std::max(total.residual, r.residual);
    total.capped = total.capped || r.capped;
  };
  std::vector<real> q(T), x;
  if (T < kRowsBatchedFrom) {
    if (X.shape(0) != T || X.shape(1) != T) X = zeros(T, T);
    for (std::size_t i = 0; i < T; ++i) {
      for (std::size_t k = 0; k < T; ++k) q[k] = Q(k, i) * c[i];
      merge(nonneg_qp(Q, q, x));
      for (std::size_t k = 0; k < T; ++k) X(i, k) = x[k];
    }
    return total;
  }
  Tensor guess;
  guess_rows(Q, c, guess);
  X = zeros(T, T);
  std::vector<std::size_t> idx;
  std::vector<real> z, g(T), A;
  std::vector<char> in(T);
  for (std::size_t i = 0; i < T; ++i) {
    real scale = 0;
    for (std::size_t k = 0; k < T; ++k) {
      q[k] = Q(k, i) * c[i];
      scale = std::max({scale, std::abs(q[k]), Q(k, k)});
    }
    const real gtol = 16 * real(T) * kEps * scale;
    idx.clear();
    for (std::size_t k = 0; k < T; ++k)
      if (guess(i, k) > 0) idx.push_back(k);
    SolveReport r;
    bool solved = false;
    for (std::size_t round = 0; round < 10 && !solved; ++round) {
      r.iterations = round + 1;
      z.resize(idx.size());
      for (std::size_t k = 0; k < idx.size(); ++k) z[k] = -q[idx[k]];
      if (!lapack_block_solve(Q, idx, z, A)) break;
      std::fill(in.begin(), in.end(), char(0));
      bool positive = true;
      for (std::size_t k = 0; k < idx.size(); ++k) {
        in[idx[k]] = 1;
        positive = positive && z[k] > 0;
      }
      // g = Q x + q with x = z on the free set, 0 elsewhere.
      for (std::size_t j = 0; j < T; ++j) {
        real s = q[j];
        for (std::size_t k = 0; k < idx.size(); ++k) s += Q(j, idx[k]) * z[k];
        g[j] = s;
      }
      bool added = false;
      for (std::size_t j = 0; j < T; ++j)
        if (!in[j] && g[j] < -gtol) added = true;
      if (positive && !added) {
        solved = true;
        real gap = 0;
        for (std::size_t k = 0; k < idx.size(); ++k) {
          X(i, idx[k]) = z[k];
          gap = std::max(gap, std::abs(std::min(z[k], g[idx[k]])));
        }
        for (std::size_t j = 0; j < T; ++j)
          if (!in[j]) gap = std::max(gap, std::abs(std::min(real(0), g[j])));
        r.residual = scale > 0 ? gap / scale : gap;
        break;
      }
      // The next free set: the positive part of this one and every bound index that would descend.
      std::vector<std::size_t> next;
      for (std::size_t k = 0; k < idx.size(); ++k)
        if (z[k] > 0) next.push_back(idx[k]);
      for (std::size_t j = 0; j < T; ++j)
        if (!in[j] && g[j] < -gtol) next.push_back(j);
      std::sort(next.begin(), next.end());
      idx.swap(next);
    }
    if (!solved) {
      const std::size_t rounds = r.iterations;
      r = nonneg_qp(Q, q, x);
      r.iterations += rounds;
      for (std::size_t k = 0; k < T; ++k) X(i, k) = x[k];
    }
    merge(r);
  }
  return total;
}

SolveReport minimize_on_simplex(const SimplexObjective& f, std::size_t max_iter, real tol, std::vector<real>& w) {
  const std::size_t T = w.size();
  if (T == 0) throw std::invalid_argument("minimize_on_simplex: empty start");
  project_simplex(w);
  std::vector<real> g(T), trial(T), g_trial(T), w_prev, g_prev;
  real fw = f(w, g), step = 1;
  std::size_t it = 0;
  bool met = false;  // a step below tol, or no descent left at this precision
  for (; it < max_iter; ++it) {
    // Armijo backtracking along the projection arc.
    real f_trial = 0, moved = 0;
    for (int back = 0; back < 60; ++back) {
      for (std::size_t k = 0; k < T; ++k) trial[k] = w[k] - step * g[k];
      project_simplex(trial);
      real decrease = 0;
      moved = 0;
      for (std::size_t k = 0; k < T; ++k) {
        decrease += g[k] * (w[k] - trial[k]);
        moved = std::max(moved, std::abs(trial[k] - w[k]));
      }
      f_trial = f(trial, g_trial);
      if (f_trial <= fw - real(1e-4) * decrease || moved == 0) break;
      step /= 2;
    }
    if (!(f_trial <= fw)) {  // no descent left at this precision
      met = true;
      break;
    }
    // Barzilai–Borwein step for the next iteration: ⟨s, s⟩ / ⟨s, y⟩.
    real ss = 0, sy = 0;
    for (std::size_t k = 0; k < T; ++k) {
      const real s = trial[k] - w[k], y = g_trial[k] - g[k];
      ss += s * s;
      sy += s * y;
    }
    w.swap(trial);
    g.swap(g_trial);
    fw = f_trial;
    if (moved <= tol) {
      met = true;
      ++it;
      break;
    }
    step = sy > 0 ? ss / sy : step * 2;
  }
  SolveReport report;
  report.iterations = it;
  report.residual = std::max(dotv(g, w) - *std::min_element(g.begin(), g.end()), real(0));
  report.capped = !met;
  return report;
}

void symmetric_eigen(const Tensor& A, std::vector<real>& values, Tensor& V) {
  check_square("symmetric_eigen", A);
  // xt::linalg::eigh: LAPACK's syevd (divide and conquer) on a column-major copy; eigenvalues
  // ascending, eigenvectors in the columns. It throws std::runtime_error when syevd fails. It
  // replaces a direct call of dsyev (QR iteration): as fast up to T = 32 and faster beyond
  // (mtlgrad_bench --case solvers, median µs, T = 2/8/32/64: eigh 2.0/7.0/70/272, dsyev
  // 1.8/6.3/72/384). The eigenvectors' rounding (and sign) differ from dsyev's; every use here
  // (pseudo-inverse, B = V f(Λ) Vᵀ) is invariant to the signs.
  try {
    const auto [w, M] = xt::linalg::eigh(A);
    values.assign(w.begin(), w.end());
    V = M;
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument("symmetric_eigen: LAPACK syevd failed on a " + shape_str(A) + " matrix (" + e.what() + ")");
  }
}

void symmetric_pinv_solve(const Tensor& A, std::vector<real>& b) {
  std::vector<real> values;
  Tensor V;
  symmetric_eigen(A, values, V);
  const std::size_t n = values.size();
  real top = 0;
  for (real v : values) top = std::max(top, std::abs(v));
  const real cutoff = top * real(n) * kEps;
  std::vector<real> x(n, real(0));
  for (std::size_t k = 0; k < n; ++k) {
    if (!(std::abs(values[k]) > cutoff)) continue;
    real c = 0;
    for (std::size_t i = 0; i < n; ++i) c += V(i, k) * b[i];
    c /= values[k];
    for (std::size_t i = 0; i < n; ++i) x[i] += c * V(i, k);
  }
  b.swap(x);
}

real rank_cutoff(const std::vector<real>& values) {
  const real top = values.empty() ? real(0) : *std::max_element(values.begin(), values.end());
  return std::max(top, real(0)) * real(values.size()) * kEps;
}

SolveReport log_barrier_fixed_point(const Tensor& G, std::size_t max_iter, std::vector<real>& alpha) {
  check_square("log_barrier_fixed_point", G);
  const std::size_t T = G.shape(0);
  const auto objective = [&](const std::vector<real>& a, std::vector<real>& Ga) {
    matvec(G, a, Ga);
    real f = dotv(a, Ga) / 2;
    for (real x : a) f -= std::log(x);
    return f;
  };
  real total = 0;
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) total += G(i, j);
  alpha.assign(T, total > 0 ? std::sqrt(real(T) / total) : real(1));
  std::vector<real> Ga, grad(T), step(T), trial(T), Gt;
  std::vector<std::size_t> all(T);
  std::iota(all.begin(), all.end(), std::size_t(0));
  Tensor H = G, L;
  real f = objective(alpha, Ga);
  // Stop on the residual max_i |(Gα)_i α_i − 1| (scale-free); near the solution Newton's full step
  // converges quadratically while f no longer resolves the decrease, so the line search is skipped
  // there and a step that does not shrink the residual ends the loop.
  const auto residual = [&](const std::vector<real>& a, const std::vector<real>& Gav) {
    real r = 0;
    for (std::size_t i = 0; i < T; ++i) r = std::max(r, std::abs(Gav[i] * a[i] - 1));
    return r;
  };
  real res = residual(alpha, Ga);
  std::size_t it = 0;
  for (; it < max_iter && res > 8 * real(T) * kEps; ++it) {
    for (std::size_t i = 0; i < T; ++i) {
      grad[i] = Ga[i] - 1 / alpha[i];
      H(i, i) = G(i, i) + 1 / (alpha[i] * alpha[i]);
      step[i] = -grad[i];
    }
    // G + diag(1/α²) loses definiteness only in rounding, when α has grown to where 1/α² is below
    // the precision of a singular G (no fixed point): keep the last iterate.
    if (!cholesky_solve(H, all, step, L)) break;
    const real decrement = -dotv(grad, step);  // λ² of Newton's method
    real t = 1;
    for (std::size_t i = 0; i < T; ++i)
      if (step[i] < 0) t = std::min(t, real(0.99) * alpha[i] / -step[i]);
    const bool local = t == 1 && decrement < real(1e-3);
    real f_trial = f;
    for (int back = 0; back < 60; ++back, t /= 2) {
      for (std::size_t i = 0; i < T; ++i) trial[i] = alpha[i] + t * step[i];
      f_trial = objective(trial, Gt);
      if (local || f_trial <= f - real(0.25) * t * decrement) break;
    }
    const real res_trial = residual(trial, Gt);
    if (local ? !(res_trial < res) : !(f_trial < f)) break;  // rounding floor reached
    alpha.swap(trial);
    Ga.swap(Gt);
    f = f_trial;
    res = res_trial;
  }
  SolveReport report;
  report.iterations = it;
  report.residual = res;
  report.capped = it == max_iter && res > 8 * real(T) * kEps;
  return report;
}

}  // namespace mtlgrad::solvers
