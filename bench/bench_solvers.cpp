// The T×T kernels under the spatial stages' solvers (src/optim/spatial/solvers.cpp), each against
// its xtensor-blas (xt::linalg) counterpart, to decide which one the solvers use. Own file: the
// xtensor-blas header cannot share a translation unit with <cblas.h> (bench_kernels.cpp).
#include "bench_solvers.hpp"

#include <algorithm>
#include <vector>

#include <xtensor-blas/xlinalg.hpp>

#include "bench_cases.hpp"
#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/optim/solvers.hpp"

extern "C" {
// LAPACK's QR-iteration eigensolver, which symmetric_eigen called directly before it used
// xt::linalg::eigh (divide and conquer, syevd): kept here only as the baseline of that change.
void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
            const int* lwork, int* info, std::size_t, std::size_t);
void ssyev_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w, float* work,
            const int* lwork, int* info, std::size_t, std::size_t);
}

namespace bench {
namespace {

[[maybe_unused]] void syev(int n, double* a, double* w, double* work, int lwork, int& info) {
  dsyev_("V", "U", &n, a, &n, w, work, &lwork, &info, 1, 1);
}
[[maybe_unused]] void syev(int n, float* a, float* w, float* work, int lwork, int& info) {
  ssyev_("V", "U", &n, a, &n, w, work, &lwork, &info, 1, 1);
}

template <class F>
double median_us(int reps, F&& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_ms();
    f();
    t.push_back(1000 * (now_ms() - t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

nlohmann::json solver_kernels(std::size_t T, int reps) {
  using mtlgrad::real;
  using mtlgrad::Tensor;
  mtlgrad::Rng rng(11);
  // A = J Jᵀ + I: a well-conditioned T×T Gramian, as the Newton and active-set systems see.
  const Tensor J = rng.normal_tensor(T, 2 * T);
  Tensor A = mtlgrad::zeros(T, T);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) {
      for (std::size_t p = 0; p < 2 * T; ++p) A(i, j) += J(i, p) * J(j, p);
      if (i == j) A(i, j) += 1;
    }
  std::vector<std::size_t> all(T);
  for (std::size_t i = 0; i < T; ++i) all[i] = i;
  std::vector<real> b(T, real(1)), x;
  Tensor L;
  volatile real sink = 0;
  nlohmann::json out = {{"T", T}};
  out["cholesky_hand_us"] = median_us(reps, [&] {
    x = b;
    mtlgrad::solvers::cholesky_solve(A, all, x, L);
    sink = sink + x[0];
  });
  const xt::xtensor<real, 1> bx = xt::ones<real>({T});
  out["cholesky_xt_us"] = median_us(reps, [&] {
    const auto Lx = xt::linalg::cholesky(A);
    const auto xx = xt::linalg::solve_cholesky(Lx, bx);
    sink = sink + xx(0);
  });
  std::vector<real> values;
  Tensor V;
  out["eigen_xt_us"] = median_us(reps, [&] {
    mtlgrad::solvers::symmetric_eigen(A, values, V);
    sink = sink + values[0];
  });
  out["eigen_syev_us"] = median_us(reps, [&] {
    Tensor a = A;
    std::vector<real> w(T);
    const int n = int(T);
    int info = 0;
    real query = 0;
    syev(n, a.data(), w.data(), &query, -1, info);
    std::vector<real> work(std::size_t(std::max(1, int(query))));
    syev(n, a.data(), w.data(), work.data(), int(work.size()), info);
    sink = sink + w[0];
  });
  return out;
}

}  // namespace bench
