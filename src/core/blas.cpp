#include "mtlgrad/core/blas.hpp"

#include <algorithm>

#include <cblas.h>

namespace mtlgrad::blas {
namespace {

inline void xgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha,
                  const double* a, int lda, const double* b, int ldb, double beta, double* c,
                  int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void xgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
                  const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline double xdot(int n, const double* x, const double* y) { return cblas_ddot(n, x, 1, y, 1); }
inline float xdot(int n, const float* x, const float* y) {
  // sdot accumulates in float; that is the float build's contract.
  return cblas_sdot(n, x, 1, y, 1);
}
inline void xsyrk(int n, int k, const double* a, int lda, double* c, int ldc) {
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, k, 1.0, a, lda, 0.0, c, ldc);
}
inline void xsyrk(int n, int k, const float* a, int lda, float* c, int ldc) {
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, k, 1.0f, a, lda, 0.0f, c, ldc);
}
inline void xgemv_t(int m, int n, const double* a, int lda, const double* x, double* y) {
  cblas_dgemv(CblasRowMajor, CblasTrans, m, n, 1.0, a, lda, x, 1, 0.0, y, 1);
}
inline void xgemv_t(int m, int n, const float* a, int lda, const float* x, float* y) {
  cblas_sgemv(CblasRowMajor, CblasTrans, m, n, 1.0f, a, lda, x, 1, 0.0f, y, 1);
}
inline void xaxpy(int n, double a, const double* x, double* y) { cblas_daxpy(n, a, x, 1, y, 1); }
inline void xaxpy(int n, float a, const float* x, float* y) { cblas_saxpy(n, a, x, 1, y, 1); }

}  // namespace

void gemm(const char* what, const Tensor& A, bool trans_a, const Tensor& B, bool trans_b, Tensor& C,
          real alpha, real beta) {
  const std::size_t m = trans_a ? A.shape(1) : A.shape(0);
  const std::size_t k = trans_a ? A.shape(0) : A.shape(1);
  const std::size_t kb = trans_b ? B.shape(1) : B.shape(0);
  const std::size_t n = trans_b ? B.shape(0) : B.shape(1);
  if (k != kb || C.shape(0) != m || C.shape(1) != n)
    throw std::invalid_argument(std::string(what) + ": shapes " + shape_str(A) +
                                (trans_a ? "ᵀ" : "") + " x " + shape_str(B) + (trans_b ? "ᵀ" : "") +
                                " -> " + shape_str(C) + " do not match");
  gemm(trans_a, trans_b, m, n, k, alpha, A.data(), A.shape(1), B.data(), B.shape(1), beta, C.data(), C.shape(1));
}

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, real alpha, const real* a,
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

real dot(std::size_t n, const real* x, const real* y) { return n == 0 ? real(0) : xdot(int(n), x, y); }

void axpy(std::size_t n, real alpha, const real* x, real* y) {
  if (n) xaxpy(int(n), alpha, x, y);
}

void syrk_upper(std::size_t n, std::size_t k, const real* a, std::size_t lda, real* c, std::size_t ldc) {
  if (n == 0) return;
  if (k == 0) {
    for (std::size_t i = 0; i < n; ++i) std::fill(c + i * ldc + i, c + i * ldc + n, real(0));
    return;
  }
  xsyrk(int(n), int(k), a, int(std::max<std::size_t>(lda, 1)), c, int(std::max<std::size_t>(ldc, 1)));
}

void gemv_t(std::size_t m, std::size_t n, const real* a, std::size_t lda, const real* x, real* y) {
  if (n == 0) return;
  if (m == 0) {
    std::fill_n(y, n, real(0));
    return;
  }
  xgemv_t(int(m), int(n), a, int(std::max<std::size_t>(lda, 1)), x, y);
}

void set_threads(int n) { openblas_set_num_threads(n); }
int threads() { return openblas_get_num_threads(); }

}  // namespace mtlgrad::blas
