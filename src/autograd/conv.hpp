#pragma once
// The image ops' batched VJPs (ops_conv.cpp), for the table of batched_vjp.cpp.
#include <cstdint>

#include "mtlgrad/autograd/batched.hpp"

namespace mtlgrad::detail {

void conv2d_batched_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self);
void max_pool2d_batched_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self);

}  // namespace mtlgrad::detail
