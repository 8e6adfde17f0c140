// Elementwise ops. Each forward is followed by its VJP; `g` is ∂L/∂y, `y` the node's value.
#include <cmath>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "broadcast.hpp"
#include "mtlgrad/autograd/ops.hpp"

#include "tape_nodes.hpp"

namespace mtlgrad {
namespace detail {

Shape broadcast_shape(const char* op, const Tensor& a, const Tensor& b) {
  Shape s{};
  for (std::size_t d = 0; d < 2; ++d) {
    const std::size_t x = a.shape(d), y = b.shape(d);
    if (x == y || y == 1) s[d] = x;
    else if (x == 1) s[d] = y;
    else
      throw std::invalid_argument(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                                  " do not broadcast");
  }
  return s;
}

}  // namespace detail

using detail::accumulate_reduced;
using detail::broadcast_shape;

namespace {

// Plain loops for the ops on operands of one shape: element k gets the same arithmetic as in the
// xtensor expression each replaces (so the same bits), without the expression's broadcast-shape
// and stepper setup per call, which dominated a step made of 1×1 ops (the toy).

// y[k] = f(x[k]); y already has x's shape (push sized it).
template <class F>
void map_into(Tensor& y, const Tensor& x, F f) {
  const real* in = x.data();
  real* out = y.data();
  for (std::size_t k = 0, n = x.size(); k < n; ++k) out[k] = f(in[k]);
}

// Tape::accumulate(i, c) for a contribution c of input i's shape given element-wise, c[k] = f(k):
// the first contribution of the backward is assigned, later ones added.
template <class F>
void accumulate_map(Tape& t, std::uint32_t i, F f) {
  Node& in = t.node(i);
  if (!in.requires_grad) return;
  const Tensor& v = in.val();
  const std::size_t n = v.size();
  if (!in.live) {
    if (in.grad.shape(0) != v.shape(0) || in.grad.shape(1) != v.shape(1)) in.grad.resize(shape_of(v));
    real* g = in.grad.data();
    for (std::size_t k = 0; k < n; ++k) g[k] = f(k);
    in.live = true;
  } else {
    real* g = in.grad.data();
    for (std::size_t k = 0; k < n; ++k) g[k] = g[k] + f(k);
  }
}

bool same_shape(const Tensor& a, const Tensor& b) { return a.shape(0) == b.shape(0) && a.shape(1) == b.shape(1); }

}  // namespace

// ---- binary, broadcasting -----------------------------------------------------------------------

Var add(Var a, Var b) {
  Tape& t = a.tape();
  const Shape s = broadcast_shape("add", a.value(), b.value());
  Var y = t.push("add", s, {a, b}, [](Tape& t, const Node& n) {
    const real* g = n.grad.data();
    for (std::uint32_t i : {n.in[0], n.in[1]}) {  // ∂a = g, ∂b = g
      if (same_shape(t.node(i).val(), n.grad)) accumulate_map(t, i, [g](std::size_t k) { return g[k]; });
      else accumulate_reduced(t, i, n.grad, shape_of(n.grad));
    }
  });
  const Tensor &A = a.value(), &B = b.value();
  Tensor& Y = t.node(y.index()).value;
  if (same_shape(A, B)) {
    const real *pa = A.data(), *pb = B.data();
    real* py = Y.data();
    for (std::size_t k = 0, m = A.size(); k < m; ++k) py[k] = pa[k] + pb[k];
  } else {
    assign_in_place(Y, A + B);
  }
  return y;
}

Var sub(Var a, Var b) {
  Tape& t = a.tape();
  const Shape s = broadcast_shape("sub", a.value(), b.value());
  Var y = t.push("sub", s, {a, b}, [](Tape& t, const Node& n) {
    const real* g = n.grad.data();
    if (same_shape(t.node(n.in[0]).val(), n.grad)) accumulate_map(t, n.in[0], [g](std::size_t k) { return g[k]; });
    else accumulate_reduced(t, n.in[0], n.grad, shape_of(n.grad));  // ∂a = g
    if (same_shape(t.node(n.in[1]).val(), n.grad)) accumulate_map(t, n.in[1], [g](std::size_t k) { return -g[k]; });
    else accumulate_reduced(t, n.in[1], -n.grad, shape_of(n.grad));  // ∂b = −g
  });
  const Tensor &A = a.value(), &B = b.value();
  Tensor& Y = t.node(y.index()).value;
  if (same_shape(A, B)) {
    const real *pa = A.data(), *pb = B.data();
    real* py = Y.data();
    for (std::size_t k = 0, m = A.size(); k < m; ++k) py[k] = pa[k] - pb[k];
  } else {
    assign_in_place(Y, A - B);
  }
  return y;
}

Var mul(Var a, Var b) {
  Tape& t = a.tape();
  const Shape s = broadcast_shape("mul", a.value(), b.value());
  Var y = t.push("mul", s, {a, b}, [](Tape& t, const Node& n) {
    const Tensor &A = t.node(n.in[0]).val(), &B = t.node(n.in[1]).val();
    if (same_shape(A, B) && same_shape(A, n.grad)) {
      const real *g = n.grad.data(), *pa = A.data(), *pb = B.data();
      accumulate_map(t, n.in[0], [g, pb](std::size_t k) { return g[k] * pb[k]; });
      accumulate_map(t, n.in[1], [g, pa](std::size_t k) { return g[k] * pa[k]; });
      return;
    }
    accumulate_reduced(t, n.in[0], n.grad * B, shape_of(n.grad));  // ∂a = g ⊙ b
    accumulate_reduced(t, n.in[1], n.grad * A, shape_of(n.grad));  // ∂b = g ⊙ a
  });
  const Tensor &A = a.value(), &B = b.value();
  Tensor& Y = t.node(y.index()).value;
  if (same_shape(A, B)) {
    const real *pa = A.data(), *pb = B.data();
    real* py = Y.data();
    for (std::size_t k = 0, m = A.size(); k < m; ++k) py[k] = pa[k] * pb[k];
  } else {
    assign_in_place(Y, A * B);
  }
  return y;
}

Var div(Var a, Var b) {
  Tape& t = a.tape();
  const Shape s = broadcast_shape("div", a.value(), b.value());
  Var y = t.push("div", s, {a, b}, [](Tape& t, const Node& n) {
    const Tensor &B = t.node(n.in[1]).val();
    accumulate_reduced(t, n.in[0], n.grad / B, shape_of(n.grad));              // ∂a = g / b
    accumulate_reduced(t, n.in[1], -n.grad * n.value / B, shape_of(n.grad));   // ∂b = −g·a/b² = −g·y/b
  });
  assign_in_place(t.node(y.index()).value, a.value() / b.value());
  return y;
}

// ---- unary --------------------------------------------------------------------------------------

Var neg(Var a) {
  Tape& t = a.tape();
  Var y = t.push("neg", a.shape(), {a}, [](Tape& t, const Node& n) {
    const real* g = n.grad.data();
    accumulate_map(t, n.in[0], [g](std::size_t k) { return -g[k]; });
  });
  map_into(t.node(y.index()).value, a.value(), [](real v) { return -v; });
  return y;
}

Var scale(Var a, real s) {
  Tape& t = a.tape();
  Var y = t.push("scale", a.shape(), {a}, [](Tape& t, const Node& n) {
    const real c = n.k[0], *g = n.grad.data();
    accumulate_map(t, n.in[0], [c, g](std::size_t k) { return c * g[k]; });
  });
  t.node(y.index()).k[0] = s;
  map_into(t.node(y.index()).value, a.value(), [s](real v) { return s * v; });
  return y;
}

Var add_scalar(Var a, real s) {
  Tape& t = a.tape();
  Var y = t.push("add_scalar", a.shape(), {a}, [](Tape& t, const Node& n) {
    const real* g = n.grad.data();
    accumulate_map(t, n.in[0], [g](std::size_t k) { return g[k]; });
  });
  map_into(t.node(y.index()).value, a.value(), [s](real v) { return v + s; });
  return y;
}

Var exp(Var x) {
  Tape& t = x.tape();
  Var y = t.push("exp", x.shape(), {x}, [](Tape& t, const Node& n) { t.accumulate(n.in[0], n.grad * n.value); });
  assign_in_place(t.node(y.index()).value, xt::exp(x.value()));
  return y;
}

Var log(Var x) {
  Tape& t = x.tape();
  Var y = t.push("log", x.shape(), {x}, [](Tape& t, const Node& n) {
    const real *g = n.grad.data(), *X = t.node(n.in[0]).val().data();
    accumulate_map(t, n.in[0], [g, X](std::size_t k) { return g[k] / X[k]; });
  });
  map_into(t.node(y.index()).value, x.value(), [](real v) { return std::log(v); });
  return y;
}

Var sqrt(Var x) {
  Tape& t = x.tape();
  Var y = t.push("sqrt", x.shape(), {x}, [](Tape& t, const Node& n) {
    t.accumulate(n.in[0], n.grad / (real(2) * n.value));  // PyTorch: grad / (2·result)
  });
  assign_in_place(t.node(y.index()).value, xt::sqrt(x.value()));
  return y;
}

Var pow(Var x, real p) {
  Tape& t = x.tape();
  Var y = t.push("pow", x.shape(), {x}, [](Tape& t, const Node& n) {
    const real p = n.k[0];
    if (p == real(0)) return;  // d(x⁰)/dx = 0, as PyTorch
    const real *g = n.grad.data(), *X = t.node(n.in[0]).val().data();
    accumulate_map(t, n.in[0], [g, X, p](std::size_t k) { return g[k] * p * std::pow(X[k], p - real(1)); });
  });
  t.node(y.index()).k[0] = p;
  map_into(t.node(y.index()).value, x.value(), [p](real v) { return std::pow(v, p); });
  return y;
}

Var abs(Var x) {
  Tape& t = x.tape();
  Var y = t.push("abs", x.shape(), {x}, [](Tape& t, const Node& n) {
    // PyTorch's grad·sgn(x): sgn(0) = 0, and sgn(NaN) = 0 (xt::sign(NaN) is NaN).
    const real *g = n.grad.data(), *X = t.node(n.in[0]).val().data();
    accumulate_map(t, n.in[0],
                   [g, X](std::size_t k) { return g[k] * (real(X[k] > real(0)) - real(X[k] < real(0))); });
  });
  map_into(t.node(y.index()).value, x.value(), [](real v) { return std::abs(v); });
  return y;
}

Var clamp(Var x, real lo, real hi) {
  if (std::isnan(lo) || std::isnan(hi) || lo > hi)
    throw std::invalid_argument("clamp: bounds [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                "] are not an interval");
  Tape& t = x.tape();
  Var y = t.push("clamp", x.shape(), {x}, [](Tape& t, const Node& n) {
    const real lo = n.k[0], hi = n.k[1], *g = n.grad.data(), *X = t.node(n.in[0]).val().data();
    accumulate_map(t, n.in[0], [=](std::size_t k) { return X[k] >= lo && X[k] <= hi ? g[k] : real(0); });
  });
  Node& nd = t.node(y.index());
  nd.k[0] = lo;
  nd.k[1] = hi;
  // NaN stays NaN (as torch.clamp): each select keeps x unless x is beyond the bound.
  const real* in = x.value().data();
  real* out = nd.value.data();
  for (std::size_t k = 0, n = x.value().size(); k < n; ++k) out[k] = in[k] < lo ? lo : in[k] > hi ? hi : in[k];
  return y;
}

Var tanh(Var x) {
  Tape& t = x.tape();
  Var y = t.push("tanh", x.shape(), {x}, [](Tape& t, const Node& n) {
    const real *g = n.grad.data(), *Y = n.value.data();
    accumulate_map(t, n.in[0], [g, Y](std::size_t k) { return g[k] * (real(1) - Y[k] * Y[k]); });
  });
  map_into(t.node(y.index()).value, x.value(), [](real v) { return std::tanh(v); });
  return y;
}

Var sigmoid(Var x) {
  Tape& t = x.tape();
  Var y = t.push("sigmoid", x.shape(), {x}, [](Tape& t, const Node& n) {
    t.accumulate(n.in[0], n.grad * n.value * (real(1) - n.value));
  });
  assign_in_place(t.node(y.index()).value, real(1) / (real(1) + xt::exp(-x.value())));
  return y;
}

Var relu(Var x) {
  Tape& t = x.tape();
  Var y = t.push("relu", x.shape(), {x}, [](Tape& t, const Node& n) {
    // PyTorch's threshold_backward(g, y, 0): y <= 0 ? 0 : g. Where y is NaN, g passes.
    t.accumulate(n.in[0], xt::where(n.value <= real(0), real(0), n.grad));
  });
  // A plain loop (the expression's stepper cost ~5% of a small MLP's step). x <= 0 ? 0 : x, so that
  // relu(NaN) = NaN, as PyTorch's.
  const real* in = x.value().data();
  real* out = t.node(y.index()).value.data();
  for (std::size_t k = 0, n = x.value().size(); k < n; ++k) out[k] = in[k] <= real(0) ? real(0) : in[k];
  return y;
}

Var leaky_relu(Var x, real negative_slope) {
  Tape& t = x.tape();
  Var y = t.push("leaky_relu", x.shape(), {x}, [](Tape& t, const Node& n) {
    const Tensor& X = t.node(n.in[0]).val();
    t.accumulate(n.in[0], xt::where(X > real(0), n.grad, n.k[0] * n.grad));
  });
  Node& nd = t.node(y.index());
  nd.k[0] = negative_slope;
  assign_in_place(nd.value, xt::where(x.value() > real(0), x.value(), negative_slope * x.value()));
  return y;
}

Var softplus(Var x, real beta, real threshold) {
  if (!(beta > 0)) throw std::invalid_argument("softplus: beta must be > 0, got " + std::to_string(beta));
  Tape& t = x.tape();
  Var y = t.push("softplus", x.shape(), {x}, [](Tape& t, const Node& n) {
    const Tensor& X = t.node(n.in[0]).val();
    const real b = n.k[0], th = n.k[1];
    // PyTorch softplus_backward: z = e^{βx}; grad·z/(z+1), or grad where βx > threshold. (Not
    // 1 − e^{−βy}: that cancels to 0 for βx < −37 and loses digits well before.)
    t.accumulate(n.in[0], xt::where(X * b > th, n.grad, n.grad / (real(1) + xt::exp(-b * X))));
  });
  Node& nd = t.node(y.index());
  nd.k[0] = beta;
  nd.k[1] = threshold;
  const Tensor& X = x.value();
  assign_in_place(nd.value, xt::where(X * beta > threshold, X, xt::log1p(xt::exp(X * beta)) / beta));
  return y;
}

}  // namespace mtlgrad
