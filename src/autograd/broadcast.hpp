#pragma once
// Broadcasting shared by the binary ops: the result shape, and the reduction of a gradient of the
// result's shape back to an operand's shape.
#include <xtensor/xnoalias.hpp>
#include <xtensor/xreducer.hpp>

#include "mtlgrad/autograd/tape.hpp"

#include "tape_nodes.hpp"

namespace mtlgrad::detail {

/// Each dimension equal, or one side 1. Throws "<op>: shapes [..] and [..] do not broadcast".
Shape broadcast_shape(const char* op, const Tensor& a, const Tensor& b);

/// Adds `e` (an expression of shape `out`) into input i's gradient, summed over the dimensions in
/// which input i was broadcast.
template <class E>
void accumulate_reduced(Tape& t, std::uint32_t i, const E& e, const Shape& out) {
  const Tensor& x = t.node(i).val();
  const bool r = x.shape(0) != out[0], c = x.shape(1) != out[1];
  if (!t.node(i).requires_grad) return;
  if (!r && !c) t.accumulate(i, e);
  else if (r && !c) t.accumulate(i, xt::sum(e, {0}, xt::keep_dims));
  else if (!r && c) t.accumulate(i, xt::sum(e, {1}, xt::keep_dims));
  else t.accumulate(i, xt::sum(e, {0, 1}, xt::keep_dims));
}

}  // namespace mtlgrad::detail
