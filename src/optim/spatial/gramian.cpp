#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/gramian_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/parallel.hpp"

namespace mtlgrad {

namespace {
// How G = J Jᵀ and d = Jᵀw are computed, by T: measured with `mtlgrad_bench --cpu-clock --case
// gramian_t` on the 784-256-256 J (P = 266 752, double, one thread, ms; docs/performance.md):
//
//     T   blocked dots  syrk/block 8192  syrk/block 32768  one syrk | axpys/block  gemv  gemv/block
//     2      0.127         0.520             0.517          0.520   |   0.137     0.108    0.135
//     4      0.458         0.870             0.840          0.774   |   0.266     0.160    0.167
//     8      2.124         2.289             2.266          2.203   |   0.982     0.602    0.649
//    16      6.737         5.609             5.164          5.099   |   2.668     1.532    1.477
//    32     23.58         13.74             13.90          13.66    |   5.541     2.833    2.872
//    64     92.42         42.02             41.46          40.52    |  10.66      6.037    5.924
//
// Gramian: T(T+1)/2 BLAS dots per block of 2048 columns up to T = 8 (the T rows of a block stay
// in L2, so J is read from memory once; 2.5-5x faster than syrk for T <= 4); from T = 16 one
// syrk per block of 32 768 columns (1.3x faster at T = 16, 2.2x at T = 64, as fast as one syrk
// over all of J, and the blocks can go to threads). The syrk's sums run in BLAS's order: a
// Gramian at T >= 16 differs in the last bits from the dots'. Combine: one gemv per block of
// 2048 columns from T = 4 (1.6-1.9x faster than T axpys; BLAS's order of the T-term sums), the
// axpys below (T = 2, 3: fastest there, and the order of the code before the gemv came).
constexpr std::size_t kBlock = 2048;
constexpr std::size_t kSyrkFromT = 16;
constexpr std::size_t kSyrkBlock = 32768;
constexpr std::size_t kGemvFromT = 4;

// At least this many multiply-adds per thread before a kernel is split (a dispatch costs a few
// microseconds; the tiny step's Gramian, ~100 multiply-adds, stays on the caller).
constexpr std::size_t kMinWorkPerThread = std::size_t(1) << 18;

// OpenBLAS at one thread while a kernel here runs: with two of ours and two of OpenBLAS's, the
// per-block calls from our threads (gemv and syrk split themselves over OpenBLAS's threads from
// ~10^4 values) made a T = 8 step's spatial phase take ~950 ms of wall time instead of 0.75 on a
// loaded machine; the blocks are too small to gain from OpenBLAS's threads anyway. It also makes
// G and d independent of OpenBLAS's thread count.
struct BlasOneThread {
  int before = blas::threads();
  BlasOneThread() {
    if (before != 1) blas::set_threads(1);
  }
  ~BlasOneThread() {
    if (before != 1) blas::set_threads(before);
  }
};

std::size_t min_items(std::size_t work_per_item) {
  return std::max<std::size_t>(1, kMinWorkPerThread / std::max<std::size_t>(work_per_item, 1));
}

// Block b's contribution to the upper triangle of G, into out (T×T, row-major).
void block_gramian(GramianKernel k, const real* J, std::size_t T, std::size_t P, std::size_t c0, std::size_t n,
                   real* out) {
  if (k == GramianKernel::syrk) {
    blas::syrk_upper(T, n, J + c0, P, out, T);
    return;
  }
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = i; j < T; ++j) out[i * T + j] = blas::dot(n, J + i * P + c0, J + j * P + c0);
}
}  // namespace

GramianKernel gramian_kernel_for(std::size_t T) { return T >= kSyrkFromT ? GramianKernel::syrk : GramianKernel::dots; }

std::size_t gramian_block_for(std::size_t T) { return T >= kSyrkFromT ? kSyrkBlock : kBlock; }

void gramian_with(const Tensor& J, Tensor& G, GramianKernel kernel, std::size_t block) {
  const std::size_t T = J.shape(0), P = J.shape(1);
  if (G.shape(0) != T || G.shape(1) != T) G.resize({T, T});
  block = std::max<std::size_t>(block, 1);
  const std::size_t nb = (P + block - 1) / block;
  // One T×T partial per block, computed by whichever thread; then summed over the blocks in
  // block order from 0 by one thread per row of G: the same sums, in the same order, for every
  // thread count (for dots, the order of the single-threaded kernel before the threads came).
  thread_local std::vector<real> partials;
  const BlasOneThread one_blas_thread;
  if (partials.size() < nb * T * T) partials.resize(nb * T * T);
  real* part = partials.data();
  const real* j = J.data();
  parallel::for_items(nb, min_items(T * (T + 1) / 2 * block), [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b)
      block_gramian(kernel, j, T, P, b * block, std::min(block, P - b * block), part + b * T * T);
  });
  parallel::for_items(T, min_items(nb * T), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i)
      for (std::size_t jj = i; jj < T; ++jj) {
        real s = 0;
        for (std::size_t b = 0; b < nb; ++b) s += part[b * T * T + i * T + jj];
        G(i, jj) = s;
      }
  });
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t jj = i + 1; jj < T; ++jj) G(jj, i) = G(i, jj);
}

void gramian_unchecked(const Tensor& J, Tensor& G) {
  const std::size_t T = J.shape(0);
  gramian_with(J, G, gramian_kernel_for(T), gramian_block_for(T));
}

void gramian(const Tensor& J, Tensor& G) {
  gramian_unchecked(J, G);
  check_gramian_diagonal(J, G);
}

void check_gramian_diagonal(const Tensor& J, const Tensor& G) {
  // A finite J can still overflow |g_i|² (entries beyond ~1e154 in double, ~1e19 in float); every
  // weighting would then turn it into NaN weights. By Cauchy–Schwarz finite diagonals bound the rest.
  for (std::size_t i = 0; i < G.shape(0); ++i)
    if (!std::isfinite(G(i, i)))
      throw std::invalid_argument("gramian: |g_" + std::to_string(i) + "|^2 overflows the range of real (row " +
                                  std::to_string(i) + " of the Jacobian " + shape_str(J) +
                                  " has entries too large); scale the losses or the Jacobian down");
}

void combine(const Tensor& J, const std::vector<real>& w, Tensor& d) {
  const std::size_t T = J.shape(0), P = J.shape(1);
  if (w.size() != T)
    throw std::invalid_argument("combine: " + std::to_string(w.size()) + " weights for a Jacobian " + shape_str(J));
  if (d.shape(0) != 1 || d.shape(1) != P) d.resize({1, P});
  // Block by block, so that d's block stays in cache across the T rows; the blocks are
  // independent, so they are spread over the threads with the same sums in the same order.
  const std::size_t nb = (P + kBlock - 1) / kBlock;
  const real* j = J.data();
  real* out = d.data();
  const BlasOneThread one_blas_thread;
  parallel::for_items(nb, min_items(T * kBlock), [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      const std::size_t c0 = b * kBlock, n = std::min(kBlock, P - c0);
      if (T >= kGemvFromT) {
        blas::gemv_t(T, n, j + c0, P, w.data(), out + c0);
        continue;
      }
      std::fill_n(out + c0, n, real(0));
      for (std::size_t i = 0; i < T; ++i) blas::axpy(n, w[i], j + i * P + c0, out + c0);
    }
  });
}

void check_jacobian(const char* stage, const Tensor& J) {
  if (J.shape(0) == 0)
    throw std::invalid_argument(std::string(stage) + ": the Jacobian has no rows (T = 0 tasks)");
  for (std::size_t k = 0; k < J.size(); ++k)
    if (!std::isfinite(J.data()[k]))
      throw std::invalid_argument(std::string(stage) + ": non-finite gradient entry J[" +
                                  std::to_string(k / J.shape(1)) + "][" + std::to_string(k % J.shape(1)) +
                                  "] = " + std::to_string(J.data()[k]));
}

}  // namespace mtlgrad
