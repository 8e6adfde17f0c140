#include "mtlgrad/autograd/tape.hpp"

#include "tape_nodes.hpp"

#include <xtensor/xnoalias.hpp>

namespace mtlgrad {

Tape::Tape() : nodes_(std::make_unique<detail::TapeNodes>()) {}
Tape::~Tape() = default;

void Var::refuse() const {
  if (!tape_) throw std::logic_error("Var: used before being assigned a node");
  throw std::logic_error("Var: stale: node " + std::to_string(index_) + " was recorded before the tape's clear() (" +
                         "recording " + std::to_string(generation_) + ", the tape is at " +
                         std::to_string(tape_->generation_) + "); record it again after clear()");
}

// The inspection API checks its index: a caller outside the ops has no other guard.
const Node& Tape::inspect(const char* what, std::uint32_t i) const {
  if (i >= size_)
    throw std::out_of_range(std::string("Tape::") + what + ": node " + std::to_string(i) + " of a recording of " +
                            std::to_string(size_) + " nodes");
  return node(i);
}

const char* Tape::op(std::uint32_t i) const { return inspect("op", i).op; }

std::vector<std::uint32_t> Tape::inputs(std::uint32_t i) const {
  const Node& n = inspect("inputs", i);
  return std::vector<std::uint32_t>(n.in, n.in + n.n_in);
}

const Tensor& Tape::value(std::uint32_t i) const { return inspect("value", i).val(); }

real Var::item() const {
  const Tensor& v = value();
  if (v.shape(0) != 1 || v.shape(1) != 1)
    throw std::invalid_argument(std::string("item: expected a 1x1 value, got ") + shape_str(v) + " (op " +
                                tape().node(index_).op + ")");
  return v(0, 0);
}

Node& Tape::next_node() {
  if (size_ == slots_.size()) {
    nodes_->emplace_back();
    slots_.push_back(&nodes_->back());
    values_.push_back(nullptr);
  }
  Node& n = *slots_[size_];
  values_[size_++] = &n.value;
  n.ref = nullptr;
  n.param = nullptr;
  n.live = false;
  n.n_in = 0;
  n.backward = nullptr;
  n.ints.clear();
  return n;
}

Var Tape::bind(const char* op, const Tensor& value, bool requires_grad) {
  Node& n = next_node();
  n.op = op;
  n.ref = &value;
  values_[size_ - 1] = &value;
  n.requires_grad = requires_grad;
  return Var(this, std::uint32_t(size_ - 1));
}

Var Tape::leaf(const Tensor& value) { return bind("leaf", value, true); }

Var Tape::param(Parameter& p) {
  for (std::size_t i = 0; i < size_; ++i)
    if (node(std::uint32_t(i)).param == &p) return Var(this, std::uint32_t(i));
  Var v = leaf(p.value);
  Node& n = node(v.index());
  n.op = "param";
  n.param = &p;
  return v;
}

Var Tape::input(const Tensor& value) { return bind("input", value, false); }

Var Tape::constant(const Tensor& value) {
  Node& n = next_node();
  n.op = "constant";
  assign_in_place(n.value, value);  // sizes n.value to value's shape
  n.requires_grad = false;
  return Var(this, std::uint32_t(size_ - 1));
}

Var Tape::push(const char* op, const Shape& shape, std::initializer_list<Var> inputs, Backward backward) {
  // Check before appending: a failed op must leave the tape as it was.
  for (const Var& v : inputs)
    if (&v.tape() != this) throw std::invalid_argument(std::string(op) + ": operands belong to different tapes");
  Node& n = next_node();
  n.op = op;
  if (n.value.shape(0) != shape[0] || n.value.shape(1) != shape[1]) n.value.resize(shape);
  bool rg = false;
  for (const Var& v : inputs) {
    n.in[n.n_in++] = v.index();
    rg = rg || node(v.index()).requires_grad;
  }
  n.requires_grad = rg;
  n.backward = backward;
  return Var(this, std::uint32_t(size_ - 1));
}

Tensor* Tape::grad_buffer(std::uint32_t i) {
  Node& n = node(std::uint32_t(i));
  if (!n.requires_grad) return nullptr;
  if (!n.live) {
    const Tensor& v = n.val();
    if (n.grad.shape(0) != v.shape(0) || n.grad.shape(1) != v.shape(1)) n.grad.resize(shape_of(v));
    n.grad.fill(real(0));
    n.live = true;
  }
  return &n.grad;
}

void Tape::run_backward(Var out, const Tensor& seed) {
  if (&out.tape() != this) throw std::invalid_argument("backward: the output belongs to another tape");
  const std::uint32_t root = out.index();
  const Tensor& v = node(root).val();
  if (seed.shape(0) != v.shape(0) || seed.shape(1) != v.shape(1))
    throw std::invalid_argument("backward: seed shape " + shape_str(seed) + " differs from output shape " +
                                shape_str(v));
  for (std::size_t i = 0; i <= root; ++i) node(std::uint32_t(i)).live = false;
  accumulate(root, seed);
  for (std::size_t i = root + 1; i-- > 0;) {
    const Node& n = node(std::uint32_t(i));
    if (n.live && n.backward) n.backward(*this, n);
  }
}

void Tape::backward(Var out) {
  if (out.rows() != 1 || out.cols() != 1)
    throw std::invalid_argument("backward: the output must be 1x1 (a loss), got " + shape_str(out.value()) +
                                "; pass a seed for a non-scalar output");
  backward(out, scalar(1));
}

void Tape::backward(Var out, const Tensor& seed) {
  run_backward(out, seed);
  for (std::size_t i = 0; i <= out.index(); ++i) {
    Node& n = node(std::uint32_t(i));
    if (!n.param || !n.live) continue;
    Tensor& g = n.param->grad;
    if (g.shape(0) != n.grad.shape(0) || g.shape(1) != n.grad.shape(1)) g = zeros(shape_of(n.grad));
    xt::noalias(g) += n.grad;
  }
}

std::vector<Tensor> Tape::grad(Var out, const std::vector<Var>& wrt) {
  if (out.rows() != 1 || out.cols() != 1)
    throw std::invalid_argument("grad: the output must be 1x1 (a loss), got " + shape_str(out.value()) +
                                "; pass a seed for a non-scalar output");
  std::vector<Tensor> result;
  grad(out, scalar(1), wrt, result);
  return result;
}

void Tape::grad(Var out, const Tensor& seed, const std::vector<Var>& wrt, std::vector<Tensor>& result) {
  run_backward(out, seed);
  result.resize(wrt.size());
  for (std::size_t k = 0; k < wrt.size(); ++k) {
    if (&wrt[k].tape() != this) throw std::invalid_argument("grad: a variable belongs to another tape");
    const Node& n = node(wrt[k].index());
    const Shape s = shape_of(n.val());
    if (result[k].shape(0) != s[0] || result[k].shape(1) != s[1]) result[k].resize(s);
    if (n.live && wrt[k].index() <= out.index()) xt::noalias(result[k]) = n.grad;
    else result[k].fill(real(0));
  }
}

void Tape::clear() {
  size_ = 0;
  ++generation_;
}

}  // namespace mtlgrad
