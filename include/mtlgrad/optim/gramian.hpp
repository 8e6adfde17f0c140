#pragma once
/// @file gramian.hpp
/// The two kernels every weighting needs: the Gramian G = J Jᵀ (T×T) and the combination
/// d = Jᵀ w (1×P). A stage that is a weighting computes w from G alone (O(T²)–O(T³) scalar work)
/// and then forms d with one pass over J.
///
/// gramian() uses T(T+1)/2 BLAS dot products: for M = N = T and a huge K, that beats one syrk or
/// gemm by up to 5× for T ≤ 4 and ties at T = 8 (measured, ISSUES #9). Never xt::sum(a * b).

#include <vector>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

/// G = J Jᵀ into a T×T tensor (resized if needed), exactly symmetric.
void gramian(const Tensor& J, Tensor& G);
/// d = Σ_i w[i] J[i, :] into a 1×P tensor (resized if needed). w.size() must equal J's rows.
void combine(const Tensor& J, const std::vector<real>& w, Tensor& d);
/// Throws std::invalid_argument("<stage>: ...") if J has no rows or a non-finite entry.
void check_jacobian(const char* stage, const Tensor& J);

}  // namespace mtlgrad
