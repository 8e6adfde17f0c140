#pragma once
/// @file blas.hpp
/// The few BLAS calls mtlgrad makes, on `real` (dgemm/sgemm, ddot/sdot, ...). The CBLAS header
/// stays inside src/core/blas.cpp: it clashes with xtensor-blas and keeps headers light. The one GEMM
/// wrapper of the library: every matrix product goes through gemm() below.

#include <cstddef>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad::blas {

/// C = alpha · op(A) · op(B) + beta · C, row-major, op(X) = Xᵀ when the flag is set.
/// C must already have the right shape; shapes are checked and a mismatch throws
/// std::invalid_argument naming `what` and the three shapes. With beta = 0, C's old contents are
/// ignored (NaN included), as BLAS specifies.
void gemm(const char* what, const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C,
          real alpha = 1, real beta = 0);

/// The same on raw row-major pointers: C (m×n) = alpha·op(A)·op(B) + beta·C, inner size k, with
/// explicit row strides lda/ldb/ldc, for kernels that address blocks in place (the batched VJPs:
/// blocks of stacked gradients, rows of J). No shape checks: the caller derives every size. With
/// k = 0 the result is beta·C (0 when beta = 0); with beta = 0, C's old contents are ignored.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, real alpha, const real* a,
          std::size_t lda, const real* b, std::size_t ldb, real beta, real* c, std::size_t ldc);

/// Σ x[k]·y[k] over n elements.
real dot(std::size_t n, const real* x, const real* y);
/// y += alpha·x over n elements.
void axpy(std::size_t n, real alpha, const real* x, real* y);

/// C = A·Aᵀ (n×n, upper triangle only; the strict lower triangle is left alone) for A n×k with row
/// stride lda, C with row stride ldc: the rank-k update of BLAS (syrk) with alpha = 1, beta = 0.
void syrk_upper(std::size_t n, std::size_t k, const real* a, std::size_t lda, real* c, std::size_t ldc);
/// y = Aᵀ·x for A m×n (row stride lda), x of m values, y of n values (gemv, beta = 0).
void gemv_t(std::size_t m, std::size_t n, const real* a, std::size_t lda, const real* x, real* y);

/// Number of threads OpenBLAS uses (tests and benchmarks set 1 for reproducible timings; the
/// results of our kernels do not depend on it).
void set_threads(int n);
int threads();

}  // namespace mtlgrad::blas
