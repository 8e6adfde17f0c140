#pragma once
// Raw BLAS rates of this machine in this process: a large square GEMM (the reference that every
// step rate is divided by) and the candidate Gramian kernels G = J Jᵀ on a T×P Jacobian.
#include <cstddef>

#include <nlohmann/json.hpp>

namespace bench {

/// GFLOP/s of C = A·B for n×n matrices (median of `reps` after one warm-up call).
double gemm_gflops(std::size_t n, int reps);
/// ms of G = J Jᵀ for a T×P J by T(T+1)/2 dots, by syrk, by gemm, by dots over column blocks of
/// `block` (L2-sized: J is read once), and by mtlgrad::gramian.
nlohmann::json gramian_kernels(std::size_t T, std::size_t P, int reps);
/// For T up to 64 (issue #19): ms of G = J Jᵀ (T×P) by blocked dots (2048 columns), by one syrk
/// per block of 2048 / 8192 / 32768 columns, by one syrk, and by mtlgrad::gramian; and of
/// d = Jᵀw by blocked axpys (mtlgrad::combine), one gemv, and one gemv per block of 2048 columns.
/// Every kernel runs with mtlgrad's current thread count (parallel::threads()).
nlohmann::json gramian_combine_kernels(std::size_t T, std::size_t P, int reps);
/// ms of every task's ∂W₁ = xᵀG_t (x B×in, G_t B×out) written into row t of J (stride P), as the
/// batched backward does it (T GEMMs), against one GEMM xᵀ[G_1 … G_T] into a scratch after
/// copying the G_t side by side, the scratch then scattered into J (copies included).
nlohmann::json dw_kernels(std::size_t T, std::size_t B, std::size_t in, std::size_t out, int reps);
/// ms of a matrix-product VJP's ∂x = G·Wᵀ (G m×n, W k×n) by BLAS's NT path, and by copying Wᵀ
/// out then an NN GEMM (what src/autograd/batched_vjp.cpp does), copy included.
nlohmann::json dx_kernels(std::size_t m, std::size_t k, std::size_t n, int reps);

}  // namespace bench
