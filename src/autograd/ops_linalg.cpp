// Matrix products and shape ops. Shapes in comments: [rows,cols].
#include <algorithm>

#include <xtensor/xview.hpp>

#include "broadcast.hpp"
#include "mtlgrad/autograd/ops.hpp"
#include "mtlgrad/core/blas.hpp"

#include "tape_nodes.hpp"

namespace mtlgrad {

Var matmul(Var a, Var b) {
  const Tensor &A = a.value(), &B = b.value();
  if (A.shape(1) != B.shape(0))
    throw std::invalid_argument("matmul: shapes " + shape_str(A) + " and " + shape_str(B) +
                                " do not multiply (inner sizes " + std::to_string(A.shape(1)) + " and " +
                                std::to_string(B.shape(0)) + ")");
  Tape& t = a.tape();
  Var y = t.push("matmul", {A.shape(0), B.shape(1)}, {a, b}, [](Tape& t, const Node& n) {
    const Tensor &A = t.node(n.in[0]).val(), &B = t.node(n.in[1]).val();
    if (Tensor* dA = t.grad_buffer(n.in[0])) blas::gemm("matmul backward", n.grad, false, B, true, *dA, 1, 1);  // [m,n]×[n,k]
    if (Tensor* dB = t.grad_buffer(n.in[1])) blas::gemm("matmul backward", A, true, n.grad, false, *dB, 1, 1);  // [k,m]×[m,n]
  });
  blas::gemm("matmul", A, false, B, false, t.node(y.index()).value);  // [m,k]×[k,n] -> [m,n]
  return y;
}

Var affine(Var x, Var w, Var b) {
  const Tensor &X = x.value(), &W = w.value(), &B = b.value();
  if (X.shape(1) != W.shape(0) || B.shape(0) != 1 || B.shape(1) != W.shape(1))
    throw std::invalid_argument("affine: shapes x " + shape_str(X) + ", W " + shape_str(W) + ", b " +
                                shape_str(B) + " do not fit x·W + b (expected [B,in], [in,out], [1,out])");
  Tape& t = x.tape();
  Var y = t.push("affine", {X.shape(0), W.shape(1)}, {x, w, b}, [](Tape& t, const Node& n) {
    const Tensor &X = t.node(n.in[0]).val(), &W = t.node(n.in[1]).val();
    if (Tensor* dX = t.grad_buffer(n.in[0])) blas::gemm("affine backward", n.grad, false, W, true, *dX, 1, 1);  // [B,out]×[out,in]
    if (Tensor* dW = t.grad_buffer(n.in[1])) blas::gemm("affine backward", X, true, n.grad, false, *dW, 1, 1);  // [in,B]×[B,out]
    if (t.node(n.in[2]).requires_grad) t.accumulate(n.in[2], xt::sum(n.grad, {0}, xt::keep_dims));
  });
  Tensor& Y = t.node(y.index()).value;
  // Each row = b (a row copy: xt::broadcast's stepper costs ~1/5 of a small MLP's step; one fill
  // for a single column, not one memmove call per value), then Y += X·W in place.
  if (B.size() == 1) std::fill_n(Y.data(), Y.size(), B.data()[0]);
  else
    for (std::size_t r = 0; r < Y.shape(0); ++r) std::copy_n(B.data(), B.size(), Y.data() + r * Y.shape(1));
  blas::gemm("affine", X, false, W, false, Y, 1, 1);
  return y;
}

Var transpose(Var x) {
  Tape& t = x.tape();
  Var y = t.push("transpose", {x.cols(), x.rows()}, {x}, [](Tape& t, const Node& n) {
    t.accumulate(n.in[0], xt::transpose(n.grad));
  });
  xt::noalias(t.node(y.index()).value) = xt::transpose(x.value());
  return y;
}

namespace {
void check_range(const char* op, const Tensor& x, std::size_t dim, std::size_t begin, std::size_t end) {
  if (begin > end || end > x.shape(dim))
    throw std::invalid_argument(std::string(op) + ": range [" + std::to_string(begin) + ", " +
                                std::to_string(end) + ") is outside " + (dim ? "columns" : "rows") +
                                " [0, " + std::to_string(x.shape(dim)) + ") of shape " + shape_str(x));
}
}  // namespace

Var slice_cols(Var x, std::size_t begin, std::size_t end) {
  check_range("slice_cols", x.value(), 1, begin, end);
  Tape& t = x.tape();
  Var y = t.push("slice_cols", {x.rows(), end - begin}, {x}, [](Tape& t, const Node& n) {
    if (Tensor* dx = t.grad_buffer(n.in[0]))
      xt::noalias(xt::view(*dx, xt::all(), xt::range(n.ints[0], n.ints[1]))) += n.grad;
  });
  Node& nd = t.node(y.index());
  nd.ints = {begin, end};
  xt::noalias(nd.value) = xt::view(x.value(), xt::all(), xt::range(begin, end));
  return y;
}

Var slice_rows(Var x, std::size_t begin, std::size_t end) {
  check_range("slice_rows", x.value(), 0, begin, end);
  Tape& t = x.tape();
  Var y = t.push("slice_rows", {end - begin, x.cols()}, {x}, [](Tape& t, const Node& n) {
    if (Tensor* dx = t.grad_buffer(n.in[0]))
      xt::noalias(xt::view(*dx, xt::range(n.ints[0], n.ints[1]), xt::all())) += n.grad;
  });
  Node& nd = t.node(y.index());
  nd.ints = {begin, end};
  xt::noalias(nd.value) = xt::view(x.value(), xt::range(begin, end), xt::all());
  return y;
}

namespace {

// Concatenation along `dim` (0 rows, 1 columns). A node has at most three recorded inputs, so the
// input indices live in node.ints: [dim, i_1, …, i_n].
Var concat(const char* op, const std::vector<Var>& xs, std::size_t dim) {
  if (xs.empty()) throw std::invalid_argument(std::string(op) + ": no inputs");
  Tape& t = xs[0].tape();
  const std::size_t other = 1 - dim;
  std::size_t total = 0;
  bool rg = false;
  for (const Var& v : xs) {
    if (&v.tape() != &t) throw std::invalid_argument(std::string(op) + ": operands belong to different tapes");
    if (v.value().shape(other) != xs[0].value().shape(other))
      throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(xs[0].value()) + " and " +
                                  shape_str(v.value()) + " differ in " + (dim ? "rows" : "columns"));
    total += v.value().shape(dim);
    rg = rg || t.node(v.index()).requires_grad;
  }
  const Shape s = dim ? Shape{xs[0].rows(), total} : Shape{total, xs[0].cols()};
  Var y = t.push(op, s, {}, [](Tape& t, const Node& n) {
    const std::size_t dim = n.ints[0];
    std::size_t off = 0;
    for (std::size_t k = 1; k < n.ints.size(); ++k) {
      const auto i = std::uint32_t(n.ints[k]);
      const std::size_t len = t.node(i).val().shape(dim);
      if (dim) t.accumulate(i, xt::view(n.grad, xt::all(), xt::range(off, off + len)));
      else t.accumulate(i, xt::view(n.grad, xt::range(off, off + len), xt::all()));
      off += len;
    }
  });
  Node& nd = t.node(y.index());
  nd.requires_grad = rg;
  nd.ints.push_back(dim);
  std::size_t off = 0;
  for (const Var& v : xs) {
    nd.ints.push_back(v.index());
    const std::size_t len = v.value().shape(dim);
    if (dim) xt::view(nd.value, xt::all(), xt::range(off, off + len)) = v.value();
    else xt::view(nd.value, xt::range(off, off + len), xt::all()) = v.value();
    off += len;
  }
  return y;
}

}  // namespace

Var concat_cols(const std::vector<Var>& xs) { return concat("concat_cols", xs, 1); }
Var concat_rows(const std::vector<Var>& xs) { return concat("concat_rows", xs, 0); }

}  // namespace mtlgrad
