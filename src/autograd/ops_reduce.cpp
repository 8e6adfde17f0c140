// Reductions and the row-wise log-softmax.
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>

#include "broadcast.hpp"
#include "mtlgrad/autograd/ops.hpp"

#include "tape_nodes.hpp"

namespace mtlgrad {

Var sum(Var x) {
  Tape& t = x.tape();
  Var y = t.push("sum", {1, 1}, {x}, [](Tape& t, const Node& n) {
    if (Tensor* dx = t.grad_buffer(n.in[0])) *dx += n.grad(0, 0);  // ∂x = g broadcast
  });
  t.node(y.index()).value(0, 0) = xt::sum(x.value())();
  return y;
}

Var sum_rows(Var x) {
  Tape& t = x.tape();
  Var y = t.push("sum_rows", {1, x.cols()}, {x}, [](Tape& t, const Node& n) {
    if (Tensor* dx = t.grad_buffer(n.in[0])) xt::noalias(*dx) += n.grad;  // [1,n] over [B,n]
  });
  xt::noalias(t.node(y.index()).value) = xt::sum(x.value(), {0}, xt::keep_dims);
  return y;
}

Var sum_cols(Var x) {
  Tape& t = x.tape();
  Var y = t.push("sum_cols", {x.rows(), 1}, {x}, [](Tape& t, const Node& n) {
    if (Tensor* dx = t.grad_buffer(n.in[0])) xt::noalias(*dx) += n.grad;  // [B,1] over [B,n]
  });
  xt::noalias(t.node(y.index()).value) = xt::sum(x.value(), {1}, xt::keep_dims);
  return y;
}

Var mean(Var x) {
  if (x.value().size() == 0) throw std::invalid_argument("mean: empty input " + shape_str(x.value()));
  return scale(sum(x), real(1) / real(x.value().size()));
}
Var mean_rows(Var x) {
  if (x.rows() == 0) throw std::invalid_argument("mean_rows: no rows in " + shape_str(x.value()));
  return scale(sum_rows(x), real(1) / real(x.rows()));
}
Var mean_cols(Var x) {
  if (x.cols() == 0) throw std::invalid_argument("mean_cols: no columns in " + shape_str(x.value()));
  return scale(sum_cols(x), real(1) / real(x.cols()));
}

namespace detail {

// y = x − max − ln Σ e^{x − max}, row by row, into y (same shape as x).
void log_softmax_rows(const Tensor& x, Tensor& y) {
  const std::size_t B = x.shape(0), C = x.shape(1);
  for (std::size_t i = 0; i < B; ++i) {
    const real* xi = &x(i, 0);
    real* yi = &y(i, 0);
    real m = xi[0];
    for (std::size_t j = 1; j < C; ++j) m = std::max(m, xi[j]);
    real s = 0;
    for (std::size_t j = 0; j < C; ++j) s += std::exp(xi[j] - m);
    const real lse = m + std::log(s);
    for (std::size_t j = 0; j < C; ++j) yi[j] = xi[j] - lse;
  }
}

}  // namespace detail

Var log_softmax(Var x) {
  if (x.cols() == 0) throw std::invalid_argument("log_softmax: no columns in " + shape_str(x.value()));
  Tape& t = x.tape();
  Var y = t.push("log_softmax", x.shape(), {x}, [](Tape& t, const Node& n) {
    // ∂x = g − softmax ⊙ Σ_j g  (row-wise), softmax = e^y. A plain row loop: in xtensor 0.24 a keep_dims
    // reducer broadcast over [B,C] inside a lazy expression (e^y ⊙ Σ_j g) reads garbage (measured).
    Tensor* dx = t.grad_buffer(n.in[0]);
    if (!dx) return;
    const std::size_t B = n.grad.shape(0), C = n.grad.shape(1);
    for (std::size_t i = 0; i < B; ++i) {
      const real* g = &n.grad(i, 0);
      const real* y = &n.value(i, 0);
      real* d = &(*dx)(i, 0);
      real s = 0;
      for (std::size_t j = 0; j < C; ++j) s += g[j];
      for (std::size_t j = 0; j < C; ++j) d[j] += g[j] - std::exp(y[j]) * s;
    }
  });
  detail::log_softmax_rows(x.value(), t.node(y.index()).value);
  return y;
}

}  // namespace mtlgrad
