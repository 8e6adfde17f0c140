#pragma once
// The small dense kernels of the spatial solvers at T×T sizes: the hand-written Cholesky solve
// against xt::linalg's cholesky + solve_cholesky, and symmetric_eigen (xt::linalg::eigh) against
// LAPACK's dsyev called directly.
#include <cstddef>

#include <nlohmann/json.hpp>

namespace bench {

/// Median µs over `reps` of each kernel on a T×T SPD matrix A = J Jᵀ + I (J T×2T normals).
nlohmann::json solver_kernels(std::size_t T, int reps);

}  // namespace bench
