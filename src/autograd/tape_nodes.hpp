#pragma once
// The tape's node, for the op implementations of this folder only (not installed): a program
// sees Node as an opaque type and inspects a tape through Tape::op, inputs and value.
#include <cstdint>
#include <deque>
#include <vector>

#include "mtlgrad/autograd/tape.hpp"
#include "mtlgrad/core/detail/assign.hpp"

namespace mtlgrad {

struct Node {
  const char* op = "";
  Tensor value;                    ///< the result (unused by leaves bound to an outside tensor)
  const Tensor* ref = nullptr;     ///< leaves: the bound tensor (not copied)
  Parameter* param = nullptr;      ///< leaves bound with Tape::param
  Tensor grad;                     ///< ∂L/∂value during a backward (valid when `live`)
  bool live = false;               ///< grad holds a value in the current backward
  bool requires_grad = false;      ///< a leaf, or depends on one
  std::uint8_t n_in = 0;
  std::uint32_t in[3] = {0, 0, 0};  ///< input node indices
  real k[2] = {0, 0};              ///< op constants (exponent, clamp bounds, slope, ...)
  Tensor saved;                    ///< op-specific saved tensor (softmax, mask, ...)
  std::vector<std::size_t> ints;   ///< op-specific integers (labels, slice bounds, ...)
  Backward backward = nullptr;

  const Tensor& val() const { return ref ? *ref : value; }
};

namespace detail {
/// The tape's nodes: a deque, so that a node (and the references into its tensors) never moves.
struct TapeNodes : std::deque<Node> {};
}  // namespace detail

template <class E>
void Tape::accumulate(std::uint32_t i, const E& contribution) {
  Node& n = node(i);
  if (!n.requires_grad) return;
  if (!n.live) {
    // First contribution in this backward: 0 + contribution, written directly (assign_in_place
    // sizes the buffer). Every contribution has the shape of the node's value (the ops reduce
    // broadcasts first).
    assign_in_place(n.grad, contribution);
    n.live = true;
  } else {
    add_in_place(n.grad, contribution);
  }
}

}  // namespace mtlgrad
