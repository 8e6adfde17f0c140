#include "mtlgrad/autograd/tape.hpp"

#include <xtensor/xnoalias.hpp>

namespace mtlgrad {

const Tensor& Var::value() const { return tape().value(index_); }

real Var::item() const {
  const Tensor& v = value();
  if (v.shape(0) != 1 || v.shape(1) != 1)
    throw std::invalid_argument(std::string("item: expected a 1x1 value, got ") + shape_str(v) + " (op " +
                                tape().node(index_).op + ")");
  return v(0, 0);
}

Node& Tape::next_node() {
  if (size_ == nodes_.size()) nodes_.emplace_back();
  Node& n = nodes_[size_++];
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
  n.requires_grad = requires_grad;
  return Var(this, std::uint32_t(size_ - 1));
}

Var Tape::leaf(const Tensor& value) { return bind("leaf", value, true); }

Var Tape::param(Parameter& p) {
  for (std::size_t i = 0; i < size_; ++i)
    if (nodes_[i].param == &p) return Var(this, std::uint32_t(i));
  Var v = leaf(p.value);
  Node& n = nodes_[v.index()];
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
    rg = rg || nodes_[v.index()].requires_grad;
  }
  n.requires_grad = rg;
  n.backward = backward;
  return Var(this, std::uint32_t(size_ - 1));
}

Tensor* Tape::grad_buffer(std::uint32_t i) {
  Node& n = nodes_[i];
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
  const Tensor& v = nodes_[root].val();
  if (seed.shape(0) != v.shape(0) || seed.shape(1) != v.shape(1))
    throw std::invalid_argument("backward: seed shape " + shape_str(seed) + " differs from output shape " +
                                shape_str(v));
  for (std::size_t i = 0; i <= root; ++i) nodes_[i].live = false;
  accumulate(root, seed);
  for (std::size_t i = root + 1; i-- > 0;) {
    const Node& n = nodes_[i];
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
    Node& n = nodes_[i];
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
    const Node& n = nodes_[wrt[k].index()];
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
