#include "bench_kernels.hpp"

#include <algorithm>
#include <vector>

#include <cblas.h>

#include "bench_cases.hpp"
#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/parallel.hpp"
#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/gramian_kernels.hpp"

namespace bench {
using mtlgrad::real;

namespace {

void xgemm(bool ta, bool tb, int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0, a, lda, b,
              ldb, 0.0, c, ldc);
}
void xgemm(bool ta, bool tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b,
              ldb, 0.0f, c, ldc);
}
void xsyrk(int n, int k, const double* a, double* c) {
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, k, 1.0, a, k, 0.0, c, n);
}
void xsyrk(int n, int k, const float* a, float* c) {
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, k, 1.0f, a, k, 0.0f, c, n);
}
double xdot(int n, const double* x, const double* y) { return cblas_ddot(n, x, 1, y, 1); }
float xdot(int n, const float* x, const float* y) { return cblas_sdot(n, x, 1, y, 1); }

template <class F>
double median_ms(int reps, F&& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_ms();
    f();
    t.push_back(now_ms() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

double gemm_gflops(std::size_t n, int reps) {
  mtlgrad::Rng rng(7);
  mtlgrad::Tensor a = rng.uniform_tensor(n, n, -1, 1), b = rng.uniform_tensor(n, n, -1, 1), c = a;
  const int k = int(n);
  const double ms = median_ms(reps, [&] { xgemm(false, false, k, k, k, a.data(), k, b.data(), k, c.data(), k); });
  return 2.0 * double(n) * double(n) * double(n) / (ms * 1e6);
}

nlohmann::json gramian_kernels(std::size_t T, std::size_t P, int reps) {
  mtlgrad::Rng rng(8);
  mtlgrad::Tensor J = rng.uniform_tensor(T, P, -1, 1), G = mtlgrad::zeros(T, T);
  const int t = int(T), p = int(P);
  const real* j = J.data();
  nlohmann::json out = {{"T", T}, {"P", P}};
  out["dots_ms"] = median_ms(reps, [&] {
    for (int a = 0; a < t; ++a)
      for (int b = a; b < t; ++b) G(a, b) = G(b, a) = xdot(p, j + a * P, j + b * P);
  });
  out["syrk_ms"] = median_ms(reps, [&] { xsyrk(t, p, j, G.data()); });
  out["gemm_ms"] = median_ms(reps, [&] { xgemm(false, true, t, t, p, j, p, j, p, G.data(), t); });
  for (std::size_t block : {2048, 8192}) {
    out["blocked" + std::to_string(block) + "_ms"] = median_ms(reps, [&] {
      G.fill(0);
      for (std::size_t c0 = 0; c0 < P; c0 += block) {
        const int n = int(std::min(block, P - c0));
        for (int a = 0; a < t; ++a)
          for (int b = a; b < t; ++b) G(a, b) += xdot(n, j + a * P + c0, j + b * P + c0);
      }
    });
  }
  out["mtlgrad_ms"] = median_ms(reps, [&] { mtlgrad::gramian(J, G); });
  return out;
}

nlohmann::json gramian_combine_kernels(std::size_t T, std::size_t P, int reps) {
  using mtlgrad::GramianKernel;
  mtlgrad::Rng rng(8);
  mtlgrad::Tensor J = rng.uniform_tensor(T, P, -1, 1), G = mtlgrad::zeros(T, T), d = mtlgrad::zeros(1, P);
  std::vector<real> w(T);
  for (std::size_t i = 0; i < T; ++i) w[i] = real(0.5) + real(i) / real(T);
  nlohmann::json out = {{"T", T}, {"P", P}, {"threads", mtlgrad::parallel::threads()}};
  out["dots2048_ms"] = median_ms(reps, [&] { mtlgrad::gramian_with(J, G, GramianKernel::dots, 2048); });
  for (std::size_t block : {2048, 8192, 32768})
    out["syrk" + std::to_string(block) + "_ms"] =
        median_ms(reps, [&] { mtlgrad::gramian_with(J, G, GramianKernel::syrk, block); });
  out["syrk_ms"] = median_ms(reps, [&] { xsyrk(int(T), int(P), J.data(), G.data()); });
  out["mtlgrad_ms"] = median_ms(reps, [&] { mtlgrad::gramian(J, G); });
  out["combine_ms"] = median_ms(reps, [&] { mtlgrad::combine(J, w, d); });
  out["gemv_ms"] = median_ms(reps, [&] { mtlgrad::blas::gemv_t(T, P, J.data(), P, w.data(), d.data()); });
  out["gemv2048_ms"] = median_ms(reps, [&] {
    for (std::size_t c0 = 0; c0 < P; c0 += 2048)
      mtlgrad::blas::gemv_t(T, std::min<std::size_t>(2048, P - c0), J.data() + c0, P, w.data(), d.data() + c0);
  });
  return out;
}

nlohmann::json dw_kernels(std::size_t T, std::size_t B, std::size_t in, std::size_t out, int reps) {
  mtlgrad::Rng rng(10);
  const std::size_t wsize = in * out, P = wsize + 4096;  // J's rows: ∂W₁ first, then other parameters
  mtlgrad::Tensor x = rng.uniform_tensor(B, in, -1, 1), G = rng.uniform_tensor(T * B, out, -1, 1);
  mtlgrad::Tensor J = mtlgrad::zeros(T, P), Gcat = mtlgrad::zeros(B, T * out), C = mtlgrad::zeros(in, T * out);
  using mtlgrad::blas::gemm;
  const double per_task = median_ms(reps, [&] {
    for (std::size_t t = 0; t < T; ++t)
      gemm(true, false, in, out, B, 1, x.data(), in, G.data() + t * B * out, out, 0, J.data() + t * P, out);
  });
  const double one = median_ms(reps, [&] {
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t r = 0; r < B; ++r)
        std::copy_n(G.data() + (t * B + r) * out, out, Gcat.data() + r * T * out + t * out);
    gemm(true, false, in, T * out, B, 1, x.data(), in, Gcat.data(), T * out, 0, C.data(), T * out);
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t i = 0; i < in; ++i) std::copy_n(C.data() + i * T * out + t * out, out, J.data() + t * P + i * out);
  });
  const double gemm_only = median_ms(reps, [&] {
    gemm(true, false, in, T * out, B, 1, x.data(), in, Gcat.data(), T * out, 0, C.data(), T * out);
  });
  return {{"T", T}, {"B", B}, {"in", in}, {"out", out}, {"per_task_ms", per_task}, {"one_gemm_ms", one},
          {"one_gemm_without_copies_ms", gemm_only}};
}

nlohmann::json dx_kernels(std::size_t m, std::size_t k, std::size_t n, int reps) {
  mtlgrad::Rng rng(9);
  mtlgrad::Tensor G = rng.uniform_tensor(m, n, -1, 1), W = rng.uniform_tensor(k, n, -1, 1), Wt = mtlgrad::zeros(n, k);
  mtlgrad::Tensor C = mtlgrad::zeros(m, k);
  const int M = int(m), K = int(k), N = int(n);
  const double nt = median_ms(reps, [&] { xgemm(false, true, M, K, N, G.data(), N, W.data(), N, C.data(), K); });
  const double nn = median_ms(reps, [&] {
    const real* w = W.data();
    real* t = Wt.data();
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = 0; j < n; ++j) t[j * k + i] = w[i * n + j];
    xgemm(false, false, M, K, N, G.data(), N, Wt.data(), K, C.data(), K);
  });
  return {{"m", m}, {"k", k}, {"n", n}, {"nt_ms", nt}, {"transpose_nn_ms", nn}};
}

}  // namespace bench
