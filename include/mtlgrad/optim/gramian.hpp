#pragma once
/// @file gramian.hpp
/// The two kernels every weighting needs: the Gramian G = J Jᵀ (T×T) and the combination
/// d = Jᵀ w (1×P). A stage that is a weighting computes w from G alone (O(T²)–O(T³) scalar work)
/// and then forms d with one pass over J.
///
/// gramian() uses T(T+1)/2 BLAS dot products per block of 2048 columns, summed over the blocks:
/// for M = N = T and a huge K, dots beat one syrk or gemm by up to 5× for T ≤ 4, and the blocks
/// read J from memory once, so they also tie syrk at T = 16 where one dot per pair is 3× slower
/// (measured, ISSUES #9, bench/mtlgrad_bench --case gramian). Never xt::sum(a * b).

#include <vector>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

/// G = J Jᵀ into a T×T tensor (resized if needed), exactly symmetric.
void gramian(const Tensor& J, Tensor& G);
/// The same without gramian()'s overflow check: a non-finite entry of J gives a non-finite G_ii
/// (for callers that test J's finiteness through G, as the trainer does).
void gramian_unchecked(const Tensor& J, Tensor& G);
/// How gramian() forms each block's contribution: T(T+1)/2 BLAS dots, or one BLAS syrk.
enum class GramianKernel { dots, syrk };
/// The kernel and the block width (columns) gramian() uses for T rows: the measured choice
/// (src/optim/spatial/gramian.cpp, docs/performance.md).
GramianKernel gramian_kernel_for(std::size_t T);
std::size_t gramian_block_for(std::size_t T);
/// G = J Jᵀ by `kernel` over blocks of `block` columns, the blocks' partial Gramians summed in
/// block order (for the benchmark's comparison of kernels; gramian() picks them by T).
void gramian_with(const Tensor& J, Tensor& G, GramianKernel kernel, std::size_t block);
/// d = Σ_i w[i] J[i, :] into a 1×P tensor (resized if needed). w.size() must equal J's rows.
void combine(const Tensor& J, const std::vector<real>& w, Tensor& d);
/// Throws gramian()'s error when a diagonal entry of G = J Jᵀ is not finite for a finite J: the
/// squared norm of that row overflows the range of real.
void check_gramian_diagonal(const Tensor& J, const Tensor& G);
/// Throws std::invalid_argument("<stage>: ...") if J has no rows or a non-finite entry.
void check_jacobian(const char* stage, const Tensor& J);

}  // namespace mtlgrad
