// Issue #13 item 5: every iterative solve reports its iterations and residual, and whether max_iter
// stopped it; the Gramian stages pass that on as Aggregation::metrics / solver_capped. Hand-made
// problems with known answers, each once converged and once capped.
#include "test_util.hpp"
#include "spatial/spatial_util.hpp"

#include <cmath>
#include <limits>

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/solvers.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
namespace sv = mtlgrad::solvers;

namespace {

const real kEps = std::numeric_limits<real>::epsilon();

Tensor identity(std::size_t n) {
  Tensor I = zeros(n, n);
  for (std::size_t i = 0; i < n; ++i) I(i, i) = 1;
  return I;
}

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("solver reports: min_norm_simplex on G = I_4 (w = 1/4 each) converged and capped") {
  std::vector<real> w;
  // From e_1, Wolfe adds the three other rows, one per iteration; the gap is then 0.
  const auto done = sv::min_norm_simplex(identity(4), 100, real(1e-12), w);
  CHECK_TENSOR_NEAR(as_row(w), as_row({0.25, 0.25, 0.25, 0.25}), tolerance(1e-15, 1e-6));
  CHECK(done.iterations == 3);
  CHECK(done.residual <= 4 * kEps);
  CHECK_FALSE(done.capped);
  // One row added: w = (½, ½, 0, 0), gap wᵀGw − min_t (Gw)_t = ½ − 0, over max G_ii = 1.
  const auto cut = sv::min_norm_simplex(identity(4), 1, real(1e-12), w);
  CHECK_TENSOR_NEAR(as_row(w), as_row({0.5, 0.5, 0, 0}), tolerance(1e-15, 1e-6));
  CHECK(cut.iterations == 1);
  CHECK(std::abs(cut.residual - real(0.5)) <= 4 * kEps);
  CHECK(cut.capped);
}

TEST_CASE("solver reports: nonneg_qp on Q = I, q = (-1, -2, 3) (u = (1, 2, 0)) converged and capped") {
  std::vector<real> u;
  const auto done = sv::nonneg_qp(identity(3), {-1, -2, 3}, u);
  CHECK_TENSOR_NEAR(as_row(u), as_row({1, 2, 0}), tolerance(1e-15, 1e-6));
  CHECK(done.iterations == 2);
  CHECK(done.residual == 0);
  CHECK_FALSE(done.capped);
  // One index freed (the most negative gradient, index 1): u = (0, 2, 0); index 0's gradient −1
  // is the KKT gap, over scale = max(|q_i|, Q_ii) = 3.
  const auto cut = sv::nonneg_qp(identity(3), {-1, -2, 3}, u, 1);
  CHECK_TENSOR_NEAR(as_row(u), as_row({0, 2, 0}), tolerance(1e-15, 1e-6));
  CHECK(cut.iterations == 1);
  CHECK(std::abs(cut.residual - real(1) / 3) <= 4 * kEps);
  CHECK(cut.capped);
}

TEST_CASE("solver reports: minimize_on_simplex on f = ½wᵀdiag(1,2,4)w (w ∝ (4, 2, 1)) converged and capped") {
  const sv::SimplexObjective f = [](const std::vector<real>& w, std::vector<real>& g) {
    const real a[3] = {1, 2, 4};
    real v = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      g[k] = a[k] * w[k];
      v += a[k] * w[k] * w[k] / 2;
    }
    return v;
  };
  std::vector<real> w(3, real(1) / 3);
  const auto done = sv::minimize_on_simplex(f, 1000, tolerance(1e-14, 1e-7), w);
  // Float stops where f no longer resolves a decrease (measured: w 2e-5 off, gap 8e-5).
  CHECK_TENSOR_NEAR(as_row(w), as_row({real(4) / 7, real(2) / 7, real(1) / 7}), tolerance(1e-12, 1e-4));
  CHECK(done.iterations >= 2);
  CHECK(done.residual <= tolerance(1e-12, 1e-3));  // the Frank–Wolfe gap: 0 at the optimum
  CHECK_FALSE(done.capped);
  w.assign(3, real(1) / 3);
  const auto cut = sv::minimize_on_simplex(f, 1, tolerance(1e-14, 1e-7), w);
  CHECK(cut.iterations == 1);
  CHECK(cut.residual > real(1e-3));
  CHECK(cut.capped);
}

TEST_CASE("solver reports: log_barrier_fixed_point on G = diag(4, 1) (a = (1/2, 1)) converged and capped") {
  std::vector<real> a;
  const auto done = sv::log_barrier_fixed_point(matrix({{4, 0}, {0, 1}}), 100, a);
  CHECK_TENSOR_NEAR(as_row(a), as_row({0.5, 1}), tolerance(1e-15, 1e-6));
  CHECK(done.iterations >= 1);
  CHECK(done.residual <= 64 * kEps);  // max_i |(Ga)_i a_i − 1|: the stop is 8·T·ε or the rounding floor
  CHECK_FALSE(done.capped);
  // From a = √(2/5)·(1, 1) one Newton step does not reach the fixed point.
  const auto cut = sv::log_barrier_fixed_point(matrix({{4, 0}, {0, 1}}), 1, a);
  CHECK(cut.iterations == 1);
  CHECK(cut.residual > real(1e-3));
  CHECK(std::abs(cut.residual - std::max(std::abs(4 * a[0] * a[0] - 1), std::abs(a[1] * a[1] - 1))) <= 8 * kEps);
  CHECK(cut.capped);
}

TEST_CASE("solver reports: the Gramian stages fill metrics {solver_iters, solver_residual} and solver_capped") {
  const std::vector<std::string> names = {"solver_iters", "solver_residual"};
  for (const char* stage : {"mgda", "cagrad", "upgrad", "dualproj", "nash-mtl"}) {
    CAPTURE(stage);
    CHECK(make_aggregator({{"name", stage}})->metric_names() == names);
    const auto out = run({{"name", stage}}, matrix({{-4, 1, 1}, {6, 1, 1}, {1, -2, 0.5}}));
    REQUIRE(out.metrics.size() == 2);
    CHECK(out.metrics[1] <= tolerance(1e-8, 1e-4));  // each solver's own tolerance or below
    CHECK_FALSE(out.solver_capped);
    // Zero J needs no solve: {0, 0}, not capped.
    const auto zero = run({{"name", stage}}, zeros(3, 2));
    CHECK(zero.metrics == std::vector<real>{0, 0});
    CHECK_FALSE(zero.solver_capped);
  }
  // mgda on J = I_4 (G = I): converged after 3 rows; max_iter 1 stops at gap ½ and says so.
  const auto done = run({{"name", "mgda"}}, identity(4));
  CHECK(done.metrics[0] == 3);
  CHECK(done.metrics[1] <= 4 * kEps);
  CHECK_FALSE(done.solver_capped);
  const auto cut = run({{"name", "mgda"}, {"max_iter", 1}}, identity(4));
  CHECK(cut.metrics[0] == 1);
  CHECK(std::abs(cut.metrics[1] - real(0.5)) <= 4 * kEps);
  CHECK(cut.solver_capped);
  // upgrad runs T solves and reports the largest count: on G = I every row is already in the dual
  // cone (no index freed), on a conflicting pair one solve frees the other row.
  CHECK(run({{"name", "upgrad"}}, identity(3)).metrics[0] == 0);
  CHECK(run({{"name", "upgrad"}}, matrix({{1, 0}, {-1, 1}})).metrics[0] == 1);
  // Stages without a solver declare no columns.
  for (const char* stage : {"sum", "imtl-g", "aligned-mtl"}) {
    CAPTURE(stage);
    CHECK(make_aggregator({{"name", stage}})->metric_names().empty());
    CHECK(run({{"name", stage}}, matrix({{1, 0}, {0, 1}})).metrics.empty());
  }
}

}  // TEST_SUITE
