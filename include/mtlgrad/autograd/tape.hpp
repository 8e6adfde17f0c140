#pragma once
/// @file tape.hpp
/// Reverse-mode automatic differentiation on a tape.
///
/// A Tape records every operation of a forward pass as a Node, in creation order. Because a node
/// can only use nodes created before it, creation order is a topological order, and backward is a
/// plain reverse loop: each node hands its output gradient ∂L/∂y to its inputs through its VJP
/// (vector–Jacobian product), which ACCUMULATES (+=) into the inputs' gradients — a value used twice
/// receives the sum of both contributions.
///
///     Tape tape;
///     Var x = tape.leaf(x_value);          // a leaf: differentiable input
///     Var W = tape.param(layer.weight);    // a leaf bound to a Parameter
///     Var y = sum(tanh(matmul(x, W)));     // ops record nodes as they compute values
///     tape.backward(y);                    // accumulates ∂y/∂W into layer.weight.grad
///     auto g = tape.grad(y, {x});          // or: gradients returned, nothing else touched
///
/// The tape keeps its values after a backward, so several outputs of one forward pass (the task
/// losses of a multi-task model) can each be differentiated. clear() starts a new recording but
/// keeps every node's buffers, so a training loop that records the same graph each step does not
/// allocate in the steady state.
///
/// Var is a cheap handle (tape pointer + node index + the tape's generation). Values and gradients
/// are references into the tape's nodes, which never move (the nodes live in a std::deque). A Var
/// kept across clear() would name a node of the new recording: each clear() starts a new
/// generation, and a Var of an older one throws std::logic_error when used ("stale Var").

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

class Tape;
/// A recorded operation. Its layout is the op implementations' business: it is defined in
/// src/autograd/tape_nodes.hpp, which is not installed; a program inspects a tape through
/// Tape::op, Tape::inputs and Tape::value.
struct Node;
namespace detail {
struct TapeNodes;
}

/// A named trainable tensor owned by a Module (or anyone). Tape::backward accumulates into grad.
struct Parameter {
  std::string name;
  Tensor value;
  Tensor grad;  ///< same shape as value once a backward reached it; zero_grad() zeroes it
  void zero_grad() {
    if (grad.shape(0) == value.shape(0) && grad.shape(1) == value.shape(1)) grad.fill(real(0));
    else grad = zeros(shape_of(value));
  }
};

/// The VJP of a node: reads node.grad (∂L/∂output) and accumulates into its inputs' gradients.
using Backward = void (*)(Tape& tape, const Node& node);

/// A handle to a node of a tape.
class Var {
 public:
  Var() = default;
  /// The node `index` of `tape`'s current recording.
  Var(Tape* tape, std::uint32_t index);
  /// The tape; throws std::logic_error for an invalid Var or a stale one (its tape was cleared
  /// after it was recorded).
  Tape& tape() const;
  /// The node index (checked as tape() is).
  std::uint32_t index() const {
    tape();
    return index_;
  }
  const Tensor& value() const;
  std::size_t rows() const { return value().shape(0); }
  std::size_t cols() const { return value().shape(1); }
  Shape shape() const { return shape_of(value()); }
  /// The value of a 1×1 Var; throws for any other shape.
  real item() const;
  bool valid() const { return tape_ != nullptr; }

 private:
  /// Throws the logic_error of an invalid or stale Var: out of line, so that tape()'s check
  /// inlines into every op (the check was 12% of the toy's step while tape() carried the message).
  [[noreturn]] void refuse() const;

  Tape* tape_ = nullptr;
  std::uint32_t index_ = 0;
  std::uint32_t generation_ = 0;
};

class Tape {
 public:
  Tape();
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  /// A differentiable leaf bound to `value` (not copied: it must outlive the recording).
  Var leaf(const Tensor& value);
  /// A temporary would dangle as soon as the call returns: bind a named tensor, or use constant().
  Var leaf(Tensor&&) = delete;
  /// A leaf bound to a Parameter; backward() accumulates into p.grad. Binding the same parameter
  /// twice in one recording returns the same Var.
  Var param(Parameter& p);
  /// An input bound to `value` (not copied: it must outlive the recording); no gradient flows to
  /// it. For data batches.
  Var input(const Tensor& value);
  Var input(Tensor&&) = delete;  ///< a temporary would dangle (see leaf)
  /// A constant (copied; no gradient flows to it).
  Var constant(const Tensor& value);

  /// ∂out/∂(every bound Parameter) for a 1×1 `out`, accumulated into each Parameter::grad.
  void backward(Var out);
  /// The same with an explicit seed ∂L/∂out of out's shape (a vector–Jacobian product).
  void backward(Var out, const Tensor& seed);
  /// ∂out/∂wrt[k] for a 1×1 `out`, returned; no Parameter::grad is touched. A Var that `out` does
  /// not depend on gets zeros.
  std::vector<Tensor> grad(Var out, const std::vector<Var>& wrt);
  /// The same with an explicit seed, writing into `result` (resized; reused across calls).
  void grad(Var out, const Tensor& seed, const std::vector<Var>& wrt, std::vector<Tensor>& result);

  /// Starts a new recording (a new generation: the Vars of the old one become stale); keeps node
  /// buffers for reuse.
  void clear();
  std::size_t size() const { return size_; }
  /// Counts the clear() calls: a Var remembers the generation it was recorded in.
  std::uint32_t generation() const { return generation_; }

  // ---- inspection ---------------------------------------------------------------------------
  /// The op name of node i ("leaf", "param", "input", "constant", "matmul", ...), its input node
  /// indices in argument order, and its value (a leaf's bound tensor itself). Node i of the
  /// current recording, in creation order (a topological order); throws std::out_of_range for
  /// i >= size().
  const char* op(std::uint32_t i) const;
  std::vector<std::uint32_t> inputs(std::uint32_t i) const;
  const Tensor& value(std::uint32_t i) const;

  // ---- for op implementations (src/autograd; defined with Node in tape_nodes.hpp) ------------
  /// Appends a node computing `op` of `inputs`, its value resized to `shape` (contents
  /// unspecified: the op writes them). Returns its handle.
  Var push(const char* op, const Shape& shape, std::initializer_list<Var> inputs, Backward backward);
  Node& node(std::uint32_t i) { return *slots_[i]; }
  const Node& node(std::uint32_t i) const { return *slots_[i]; }
  /// Adds `contribution` (an xtensor expression of the input's shape) to input i's gradient.
  template <class E>
  void accumulate(std::uint32_t i, const E& contribution);
  /// Input i's gradient buffer, zero-initialised on first touch in this backward (for ops that
  /// accumulate piecewise, e.g. through BLAS with beta = 1). Returns nullptr if i needs no gradient.
  Tensor* grad_buffer(std::uint32_t i);

 private:
  Node& next_node();
  const Node& inspect(const char* what, std::uint32_t i) const;
  /// A leaf bound to an outside tensor (leaf, param, input).
  Var bind(const char* op, const Tensor& value, bool requires_grad);
  void run_backward(Var out, const Tensor& seed);
  friend class Var;

  std::unique_ptr<detail::TapeNodes> nodes_;  // a std::deque<Node>: nodes never move
  // Node i and its value (its own, or the tensor a leaf is bound to), one load away: the deque's
  // own indexing and an out-of-line Var::value() were 10% of a step of 1×1 ops (the toy).
  std::vector<Node*> slots_;
  std::vector<const Tensor*> values_;
  std::size_t size_ = 0;
  std::uint32_t generation_ = 0;
};

inline Var::Var(Tape* tape, std::uint32_t index)
    : tape_(tape), index_(index), generation_(tape ? tape->generation() : 0) {}

inline Tape& Var::tape() const {
  if (!tape_ || generation_ != tape_->generation_) refuse();
  return *tape_;
}

inline const Tensor& Var::value() const { return *tape().values_[index_]; }

}  // namespace mtlgrad
