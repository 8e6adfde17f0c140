#include "raw_gemm.hpp"

#include <algorithm>

#include <cblas.h>

namespace mtlgrad::detail {
namespace {

[[maybe_unused]] inline void xgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha, const double* a, int lda,
           const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
[[maybe_unused]] inline void xgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

void raw_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, real alpha, const real* a,
              std::size_t lda, const real* b, std::size_t ldb, real beta, real* c, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS leaves C alone for k = 0; define the result as beta·C (0 when beta = 0)
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = beta == real(0) ? real(0) : beta * c[i * ldc + j];
    return;
  }
  xgemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, int(m), int(n), int(k), alpha, a,
        int(std::max<std::size_t>(lda, 1)), b, int(std::max<std::size_t>(ldb, 1)), beta, c,
        int(std::max<std::size_t>(ldc, 1)));
}

}  // namespace mtlgrad::detail
