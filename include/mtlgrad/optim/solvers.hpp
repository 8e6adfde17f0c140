#pragma once
/// @file solvers.hpp
/// The small dense solvers of the gradient-surgery family, in one place. Every problem here lives
/// on the T×T Gramian G = J Jᵀ (T = number of tasks, small), never on J.
///
///   project_simplex     Euclidean projection onto Δ = {w ≥ 0, Σ w = 1} (sort-based, Duchi et al. 2008).
///   min_norm_simplex    argmin_{w∈Δ} wᵀGw (the MGDA min-norm point of the convex hull of the rows):
///                       closed form for T ≤ 2, Wolfe's minimum-norm-point algorithm beyond (Wolfe
///                       1976: an exact active set of affinely independent rows, the "corral").
///                       Sener & Koltun's Frank–Wolfe converges at O(1/k) and, measured, still left
///                       duality gaps of 1e-4·max‖g_i‖² after 1000 steps on rank-deficient J.
///   nonneg_qp           argmin_{u≥0} ½uᵀQu + qᵀu for a positive definite Q: exact primal active set
///                       (Lawson–Hanson's NNLS loop with Q in place of AᵀA).
///   nonneg_qp_rows      the T such QPs of UPGrad (targets c_i e_i, one Q) in one call: a batched
///                       guess of every row's free set, then an exact finish per row (T ≥ 32).
///   minimize_on_simplex argmin_{w∈Δ} f(w) for a convex f with a (sub)gradient: projected gradient with
///                       Barzilai–Borwein steps and an Armijo backtracking line search.
///   symmetric_eigen     A = V diag(λ) Vᵀ (xt::linalg::eigh: LAPACK syevd), λ ascending.
///   cholesky_solve      A[idx, idx] x = b for an SPD block (hand-written: faster than xt::linalg's
///                       cholesky + solve_cholesky at T ≤ 64, measured in bench --case solvers).
///   rank_cutoff         the eigenvalue below which a Gramian's eigenvalue counts as 0:
///                       max(λ)·T·ε (torch.linalg.pinv's and TorchJD's rule).
///   log_barrier_fixed_point  α > 0 with (Gα)_i = 1/α_i (the Nash-MTL bargaining solution, Navon et
///                       al. 2022, Eq. 6): damped Newton on the strictly convex ½αᵀGα − Σ log α_i.
///
/// The iterative ones return a SolveReport: iterations, the residual of their own optimality
/// measure at exit (each documents which), and whether they stopped at max_iter before meeting their
/// tolerance. Each throws std::invalid_argument naming the solver when its precondition fails
/// (shapes, a Q that is not positive definite, a fixed point that does not exist).

#include <cstddef>
#include <functional>
#include <vector>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad::solvers {

/// What an iterative solve did.
struct SolveReport {
  std::size_t iterations = 0;
  real residual = 0;    ///< the solver's optimality measure at exit (0 = exact)
  bool capped = false;  ///< stopped at max_iter with the tolerance not met
};

/// v ← argmin_{w ∈ Δ} ‖w − v‖. v must be non-empty.
void project_simplex(std::vector<real>& v);

/// w ← argmin_{w∈Δ} wᵀGw for a symmetric PSD G (T×T, T ≥ 1). T = 1: w = [1]. T = 2: the closed form
/// w_1 = clip((G22 − G12) / (G11 + G22 − 2 G12), 0, 1) (w_1 = ½ when g_1 = g_2). T ≥ 3: Wolfe's
/// algorithm from the shortest row: add the row t with the smallest (Gw)_t to the corral S, move to
/// the minimiser of ‖Jᵀy‖ on the affine hull of S (the KKT system [G_SS 1; 1ᵀ 0], solved by a
/// pseudo-inverse), stepping back to the simplex's boundary and dropping rows while it leaves it;
/// stopped when the Frank–Wolfe duality gap wᵀGw − min_t (Gw)_t ≤ tol·max_i G_ii (then every
/// g_i·d ≥ ‖d‖² − tol·max‖g_i‖²), when rounding stalls it, or after max_iter rows added.
/// T ≥ 32: the affine minimiser comes from a Cholesky factor of G_SS/scale + 11ᵀ grown by one row
/// per added row (O(n²)) instead of a pseudo-inverse per solve (O(n³)): O(T³) in all where it was
/// O(T⁴) (T = 500 random rows: 0.1 s); same minimiser up to rounding, the pseudo-inverse kept for a
/// corral that is affinely dependent in the working precision. T < 32: bit for bit as before.
/// Report: iterations = rows added; residual = that gap over max_i G_ii at exit (0 for J = 0).
SolveReport min_norm_simplex(const Tensor& G, std::size_t max_iter, real tol, std::vector<real>& w);

/// u ← argmin_{u ≥ 0} ½uᵀQu + qᵀu for a symmetric positive definite Q (T×T). Exact up to rounding:
/// the free set grows by the most negative gradient entry; a free-set solve that leaves the orthant
/// steps back to its boundary and frees nothing. Throws if a free block of Q is not positive definite.
/// Stops when no bound index has a gradient entry below −16·T·ε·scale (scale = max(|q_i|, Q_ii)), or
/// after max_iter indices freed (0: 4T + 8, which exact arithmetic never reaches: the objective
/// strictly decreases, so no free set repeats). Report: iterations = indices freed; residual = the
/// KKT gap max_i |min(u_i, (Qu + q)_i)| / scale (0 exactly at the optimum); capped when the cap
/// stopped it with that gap above 16·T·ε.
SolveReport nonneg_qp(const Tensor& Q, const std::vector<real>& q, std::vector<real>& u, std::size_t max_iter = 0);

/// X (T×T) ← row i = argmin_{x ≥ 0} ½xᵀQx + c_i·xᵀQe_i for every i: the T non-negative QPs of UPGrad
/// (row i projected onto the dual cone), all on the same symmetric positive definite Q; c has T
/// values. T < 32: nonneg_qp on each row, as above, bit for bit. T ≥ 32, so that T = 500 takes well
/// under a second instead of minutes (each row frees ~T/2 indices one at a time at O(n³) a solve):
///   1. all T problems at once by accelerated projected gradient (FISTA), one T×T×T GEMM an
///      iteration, step 1/L with L ≥ λ_max(Q) (power iteration, then 1.25× margin), until the sign
///      pattern of X has held for 10 iterations or after 150 iterations: a guess of each row's free set;
///   2. each row exactly from its guess: a primal–dual active-set loop (solve on the free set F by
///      LAPACK's Cholesky, F ← {z > 0} ∪ {bound j with a gradient below −16·T·ε·scale}) until F
///      repeats with z > 0, i.e. the KKT conditions hold to rounding; after 10 rounds without that,
///      nonneg_qp on the row from scratch. Phase 1 only guesses, so the answer is nonneg_qp's optimum
///      up to rounding (not its bits: another free set's factorisation order and LAPACK's blocking).
/// Report: iterations = the most free-set solves of a row; residual = the largest KKT gap of a row
/// (as nonneg_qp's); capped when a row's fallback was capped.
SolveReport nonneg_qp_rows(const Tensor& Q, const std::vector<real>& c, Tensor& X);

/// A convex function on the simplex: returns f(w) and writes a (sub)gradient into grad.
using SimplexObjective = std::function<real(const std::vector<real>& w, std::vector<real>& grad)>;
/// w (a start inside Δ) ← argmin_{w∈Δ} f(w); stops when a step moves w by less than tol (max-norm)
/// or after max_iter steps. Report: iterations = steps; residual = the Frank–Wolfe gap
/// ⟨∇f(w), w⟩ − min_k ∂_k f(w) at exit (≥ f(w) − min f for a convex f); capped when max_iter ended it.
SolveReport minimize_on_simplex(const SimplexObjective& f, std::size_t max_iter, real tol, std::vector<real>& w);

/// b ← the solution of A[idx, idx] x = b (b has idx.size() values) by Cholesky, L (grown as needed)
/// its workspace. Returns false, with b undefined, when a pivot falls to ε·A_ii or below (the block
/// is not numerically positive definite).
bool cholesky_solve(const Tensor& A, const std::vector<std::size_t>& idx, std::vector<real>& b, Tensor& L);

/// A = V diag(values) Vᵀ for a symmetric A (T×T): values ascending, column k of V the k-th eigenvector.
void symmetric_eigen(const Tensor& A, std::vector<real>& values, Tensor& V);

/// b ← A⁺b for a symmetric (possibly singular or indefinite) A (n×n, b n values): eigenvalues with
/// |λ| ≤ n·ε·max|λ| count as 0.
void symmetric_pinv_solve(const Tensor& A, std::vector<real>& b);

/// max(λ)·T·ε (ε of `real`): eigenvalues ≤ this are numerically 0.
real rank_cutoff(const std::vector<real>& values);

/// α (T values > 0) ← the solution of Gα = 1/α for a symmetric positive definite G. Newton on
/// f(α) = ½αᵀGα − Σ log α_i, steps kept inside α > 0 and backtracked on f, from α = √(T / 1ᵀG1)·1,
/// until max_i |(Gα)_i α_i − 1| ≤ 8·T·ε, rounding stops the progress, or after max_iter steps.
/// When G is singular in the working precision and no fixed point exists, α is the last (finite,
/// positive) iterate. Report: iterations = Newton steps; residual = max_i |(Gα)_i α_i − 1|;
/// capped when max_iter ended it with the residual above 8·T·ε.
SolveReport log_barrier_fixed_point(const Tensor& G, std::size_t max_iter, std::vector<real>& alpha);

}  // namespace mtlgrad::solvers
