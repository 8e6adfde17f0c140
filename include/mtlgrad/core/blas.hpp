#pragma once
/// @file blas.hpp
/// The few BLAS calls mtlgrad makes, on `real` (dgemm/sgemm, ddot/sdot, ...). The CBLAS header
/// stays inside src/core/blas.cpp: it clashes with xtensor-blas (both declare the CBLAS enums) and keeps headers light.

#include <cstddef>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad::blas {

/// C = alpha · op(A) · op(B) + beta · C, row-major, op(X) = Xᵀ when the flag is set.
/// C must already have the right shape; shapes are checked and a mismatch throws
/// std::invalid_argument naming `what` and the three shapes. With beta = 0, C's old contents are
/// ignored (NaN included), as BLAS specifies.
void gemm(const char* what, const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C,
          real alpha = 1, real beta = 0);

/// Σ x[k]·y[k] over n elements.
real dot(std::size_t n, const real* x, const real* y);
/// y += alpha·x over n elements.
void axpy(std::size_t n, real alpha, const real* x, real* y);

/// Number of threads OpenBLAS uses (tests and benchmarks set 1 for reproducible timings; the
/// results of our kernels do not depend on it).
void set_threads(int n);
int threads();

}  // namespace mtlgrad::blas
