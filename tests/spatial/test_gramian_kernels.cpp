// The Gramian and combine kernels chosen by T (src/optim/spatial/gramian.cpp: blocked dots up to
// T = 8, one syrk per block from T = 16; axpys for T < 4, a gemv per block from T = 4) against
// sums written here in long double, and the same bits for any thread count.
#include "test_util.hpp"

#include <cstring>

#include "mtlgrad/core/parallel.hpp"
#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/gramian_kernels.hpp"

using namespace mtlgrad;

namespace {

struct RestoreThreads {
  int before = parallel::threads();
  ~RestoreThreads() { parallel::set_threads(before); }
};

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(real)) == 0;
}

}  // namespace

TEST_SUITE("gramian kernels") {
  TEST_CASE("G = J Jᵀ and d = Jᵀw by every kernel match long-double sums, for T from 1 to 20") {
    RestoreThreads restore;
    Rng rng(5);
    for (std::size_t T : {1, 2, 3, 4, 8, 15, 16, 20})
      for (std::size_t P : {1, 100, 70000}) {
        CAPTURE(T);
        CAPTURE(P);
        const Tensor J = rng.uniform_tensor(T, P, -1, 1);
        std::vector<real> w(T);
        for (std::size_t i = 0; i < T; ++i) w[i] = rng.uniform(-2, 2);
        Tensor ref = zeros(T, T), dref = zeros(1, P), tol = zeros(T, T);
        for (std::size_t i = 0; i < T; ++i)
          for (std::size_t j = 0; j < T; ++j) {
            long double s = 0, a = 0;
            for (std::size_t c = 0; c < P; ++c) {
              s += (long double)J(i, c) * J(j, c);
              a += std::abs((long double)J(i, c) * J(j, c));
            }
            ref(i, j) = real(s);
            // relative to Σ|J_ic J_jc|: the error bound of any order of the sum scales with it
            tol(i, j) = real(a) * tolerance(1e-13, 1e-4);
          }
        for (std::size_t c = 0; c < P; ++c) {
          long double s = 0;
          for (std::size_t i = 0; i < T; ++i) s += (long double)w[i] * J(i, c);
          dref(0, c) = real(s);
        }
        for (int th : {1, 2, 3}) {
          parallel::set_threads(th);
          Tensor G, d;
          for (auto k : {GramianKernel::dots, GramianKernel::syrk})
            for (std::size_t block : {std::size_t(7), std::size_t(2048), std::size_t(32768)}) {
              gramian_with(J, G, k, block);
              for (std::size_t i = 0; i < T; ++i)
                for (std::size_t j = 0; j < T; ++j) {
                  CHECK(std::abs(double(G(i, j) - ref(i, j))) <= double(tol(i, j)));
                  CHECK(G(i, j) == G(j, i));  // exactly symmetric
                }
            }
          gramian(J, G);
          for (std::size_t i = 0; i < T; ++i)
            for (std::size_t j = 0; j < T; ++j) CHECK(std::abs(double(G(i, j) - ref(i, j))) <= double(tol(i, j)));
          combine(J, w, d);
          for (std::size_t c = 0; c < P; ++c) CHECK(std::abs(double(d(0, c) - dref(0, c))) <= 2 * tolerance(1e-15, 5e-7) * double(T) * double(T));
        }
      }
  }

  TEST_CASE("gramian and combine give the same bits with 1, 2 and 3 threads") {
    RestoreThreads restore;
    Rng rng(6);
    for (std::size_t T : {2, 8, 16, 33}) {
      CAPTURE(T);
      const Tensor J = rng.uniform_tensor(T, 300000, -1, 1);
      std::vector<real> w(T, real(0.25));
      w[0] = real(-1.5);
      parallel::set_threads(1);
      Tensor G1, d1;
      gramian(J, G1);
      combine(J, w, d1);
      for (int th : {2, 3}) {
        parallel::set_threads(th);
        Tensor G, d;
        gramian(J, G);
        combine(J, w, d);
        CHECK(same_bits(G, G1));
        CHECK(same_bits(d, d1));
      }
    }
  }

  TEST_CASE("the kernel chosen by T: dots up to 8, syrk from 16") {
    CHECK(gramian_kernel_for(2) == GramianKernel::dots);
    CHECK(gramian_kernel_for(8) == GramianKernel::dots);
    CHECK(gramian_kernel_for(16) == GramianKernel::syrk);
    CHECK(gramian_kernel_for(64) == GramianKernel::syrk);
  }
}
