#pragma once
/// @file mmoe.hpp
/// The synthetic regression tasks of controlled relatedness of Ma et al. 2018, "Modeling Task
/// Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts" (KDD), §4.1,
/// generalised from 2 to T tasks.
///
/// The paper, for two tasks with correlation score p ∈ [−1, 1] and scale c:
///  1. u1, u2 ∈ R^d orthogonal unit vectors;
///  2. w1 = c·u1,  w2 = c·(p·u1 + √(1 − p²)·u2), so cos(w1, w2) = p;
///  3. x ∈ R^d with x_k ~ N(0, 1);
///  4. y_i = w_iᵀx + Σ_{k=1..m} sin(α_k·w_iᵀx + β_k) + ε_i,   ε_i ~ N(0, 0.01).
///
/// T tasks. Given a T×T relatedness matrix P (symmetric, unit diagonal, positive semidefinite:
/// the cosines of T unit vectors), let P = L·Lᵀ with L lower triangular (Cholesky; a zero pivot
/// is allowed, so P may be singular, e.g. p = ±1) and u_1..u_T orthonormal (d >= T). Then
///
///     w_t = c · Σ_k L_tk · u_k   ⇒   w_sᵀw_t = c²·(L Lᵀ)_st = c²·P_st,  ‖w_t‖ = c,
///
/// so cos(w_s, w_t) = P_st exactly; for T = 2 and P = [[1, p], [p, 1]], L = [[1, 0], [p, √(1−p²)]]
/// gives the paper's w1, w2. Planted groups: task t in group g_t, P_st = 1 if s = t, p_in if
/// g_s = g_t, p_out otherwise (PSD e.g. for 0 <= p_out <= p_in <= 1).
///
/// Choices the paper leaves open ("given parameters"): α_k ~ N(0, alpha_std²) and
/// β_k ~ N(0, beta_std²), drawn once and shared by all tasks as in the paper's formula; u_k by
/// Gram–Schmidt (twice) on Gaussian vectors. The noise ε_t ~ N(0, noise_std_t²) is drawn per
/// sample and task; the paper's N(0, 0.01) is noise_std = 0.1. A larger noise_std makes
/// mini-batch gradients noisier without changing the tasks' relatedness.
///
/// Draw order from Rng(seed): u (T×d normals, row after row), α, β, then the training samples,
/// then the test samples (each sample: its x, then its T noises).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/data/dataset.hpp"

namespace mtlgrad {

struct MmoeOptions {
  std::size_t n = 2000;       ///< training samples
  std::size_t n_test = 500;   ///< test samples
  std::size_t dim = 100;      ///< input dimension d (paper: 100)
  real c = 1;                 ///< scale of the task weight vectors (paper: 1)
  std::size_t m = 10;         ///< number of sinusoids (paper: 10)
  real alpha_std = 1, beta_std = 1;
  Tensor relatedness = matrix({{1, 0.5}, {0.5, 1}});  ///< T×T relatedness P
  std::vector<real> noise_std = {0.1, 0.1};           ///< one per task
  std::uint64_t seed = 0;
};

/// Reads {"n", "n_test", "dim", "c", "m", "alpha_std", "beta_std", "seed", "noise_std" (number or
/// one per task), and the relatedness as one of: "p" (number; all pairs, with "tasks" = T,
/// default 2), "p" (T×T matrix), or "groups" (task → group id) with "p_in" and "p_out"}. Unknown
/// keys and invalid values throw ConfigError naming the key path. The name key is declared.
MmoeOptions read_mmoe_options(const nlohmann::json& spec, const std::string& path);

/// The relatedness matrix of planted groups (see above).
Tensor group_relatedness(const std::vector<std::size_t>& groups, real p_in, real p_out);

/// L lower triangular with L·Lᵀ = P, for a symmetric positive semidefinite P with unit diagonal.
/// Throws std::invalid_argument naming `what` if P is not square, not symmetric, has a diagonal
/// entry other than 1, or is not positive semidefinite (naming the failing pivot).
Tensor relatedness_factor(const Tensor& P, const std::string& what);

struct MmoeTeacher {
  Tensor weights;   ///< T×d, row t = w_t
  Tensor alpha;     ///< 1×m
  Tensor beta;      ///< 1×m
  std::vector<real> noise_std;
};

/// Steps 1–2 and the α, β draws.
MmoeTeacher make_mmoe_teacher(const MmoeOptions& o, Rng& rng);
/// Steps 3–4 for n samples; tasks named "task0".."task{T−1}", regression with 1 output each.
MultiTaskData sample_mmoe(const MmoeTeacher& teacher, std::size_t n, Rng& rng);
/// The training and test sets from Rng(o.seed).
DataSplit make_mmoe(const MmoeOptions& o);

}  // namespace mtlgrad
