#pragma once
// GEMM on raw row-major pointers with explicit leading dimensions, for the batched VJPs (which
// address blocks of stacked gradients and rows of J in place). The CBLAS header stays in
// raw_gemm.cpp (it clashes with xtensor-blas: both declare the CBLAS enums).
#include <cstddef>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad::detail {

/// C = alpha·op(A)·op(B) + beta·C, C m×n, inner size k; lda/ldb/ldc are the row strides. With
/// beta = 0, C's old contents are ignored. No shape checks: the callers derive every size from the tape.
void raw_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, real alpha, const real* a,
              std::size_t lda, const real* b, std::size_t ldb, real beta, real* c, std::size_t ldc);

}  // namespace mtlgrad::detail
