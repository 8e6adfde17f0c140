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
/// ms of a matrix-product VJP's ∂x = G·Wᵀ (G m×n, W k×n) by BLAS's NT path, and by copying Wᵀ
/// out then an NN GEMM (what src/autograd/batched_vjp.cpp does), copy included.
nlohmann::json dx_kernels(std::size_t m, std::size_t k, std::size_t n, int reps);

}  // namespace bench
