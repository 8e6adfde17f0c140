#pragma once
/// @file gramian_kernels.hpp
/// The kernels behind gramian() (gramian.hpp), for the benchmark and the tests: the Gramian
/// G = J Jᵀ is the sum, in block order, of one partial T×T Gramian per block of columns of J; the
/// partials are computed by whichever thread (core/parallel.hpp) and summed by one, so G has the
/// same bits for any thread count. Which kernel and block width gramian() uses for T rows was
/// measured (src/optim/spatial/gramian.cpp, docs/performance.md).

#include <cstddef>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

/// How a block's partial Gramian is formed: T(T+1)/2 BLAS dots, or one BLAS syrk.
enum class GramianKernel { dots, syrk };
/// The kernel and the block width (columns) gramian() uses for T rows.
GramianKernel gramian_kernel_for(std::size_t T);
std::size_t gramian_block_for(std::size_t T);
/// G = J Jᵀ (resized to T×T if needed, exactly symmetric) by `kernel` over blocks of `block`
/// columns.
void gramian_with(const Tensor& J, Tensor& G, GramianKernel kernel, std::size_t block);

}  // namespace mtlgrad
