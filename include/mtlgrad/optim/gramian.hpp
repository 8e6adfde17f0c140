#pragma once
/// @file gramian.hpp
/// The two kernels every weighting needs: the Gramian G = J Jᵀ (T×T) and the combination
/// d = Jᵀ w (1×P). A stage that is a weighting computes w from G alone (O(T²)–O(T³) scalar work)
/// and then forms d with one pass over J.
///
/// gramian() sums per-block partial Gramians in block order: T(T+1)/2 BLAS dots per block of 2048
/// columns up to T = 8 (J read once; up to 5× faster than syrk for T ≤ 4), one syrk per block of
/// 32 768 from T = 16 (2.2× faster at T = 64); combine() one gemv per block from T = 4. Blocks go to
/// threads, bit-identically (gramian_kernels.hpp, gramian.cpp's measurements). Never xt::sum(a * b).

#include <vector>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

/// G = J Jᵀ into a T×T tensor (resized if needed), exactly symmetric.
void gramian(const Tensor& J, Tensor& G);
/// The same without gramian()'s overflow check: a non-finite entry of J gives a non-finite G_ii
/// (for callers that test J's finiteness through G, as the trainer does).
void gramian_unchecked(const Tensor& J, Tensor& G);
/// d = Σ_i w[i] J[i, :] into a 1×P tensor (resized if needed). w.size() must equal J's rows.
void combine(const Tensor& J, const std::vector<real>& w, Tensor& d);
/// Throws gramian()'s error when a diagonal entry of G = J Jᵀ is not finite for a finite J: the
/// squared norm of that row overflows the range of real.
void check_gramian_diagonal(const Tensor& J, const Tensor& G);
/// Throws std::invalid_argument("<stage>: ...") if J has no rows or a non-finite entry.
void check_jacobian(const char* stage, const Tensor& J);

}  // namespace mtlgrad
