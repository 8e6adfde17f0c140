// The batched VJPs: each op's VJP of ops_*.cpp applied to every live block of a BatchedSweep,
// with the same arithmetic per element (so the two paths agree to the last bit outside BLAS).
// g++ -O2 vectorises only loops whose trip count needs no runtime checks ("very cheap" cost
// model); these loops over blocks need an alias check. Elementwise, so the results do not change.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "conv.hpp"
#include "mtlgrad/autograd/batched.hpp"
#include "mtlgrad/core/blas.hpp"

#include "tape_nodes.hpp"

namespace mtlgrad {
namespace {

/// d (+)= v over n elements: the first contribution is written, later ones added.
template <class F>
void emit(real* d, std::size_t n, bool first, F&& v) {
  if (first)
    for (std::size_t k = 0; k < n; ++k) d[k] = v(k);
  else
    for (std::size_t k = 0; k < n; ++k) d[k] += v(k);
}

/// keep ? v : +0, without a branch (signs are random: a branch mispredicts half the time). NaN in v
/// is kept where keep is true.
inline real keep_if(bool keep, real v) {
  using Bits = std::conditional_t<sizeof(real) == 8, std::uint64_t, std::uint32_t>;
  Bits b;
  std::memcpy(&b, &v, sizeof b);
  b &= Bits(0) - Bits(keep);
  std::memcpy(&v, &b, sizeof b);
  return v;
}

/// An elementwise op of one input: ∂x = g ⊙ f'(k), f' read from the node (value, input, constants).
template <class Deriv>
void elementwise(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self, Deriv&& deriv) {
  const std::size_t size = n.value.size();
  for (std::size_t t = 0; t < s.tasks(); ++t) {
    if (!s.live(self, t)) continue;
    bool first = false;
    real* d = s.target(n.in[0], t, first);
    if (!d) continue;
    const real* g = s.grad(self, t);
    emit(d, size, first, [&](std::size_t k) { return deriv(g[k], k); });
  }
  (void)tape;
}

/// Columns j..j+W−1 of column_sums, the W running sums in locals (registers).
template <std::size_t W>
inline void column_block(real* __restrict d, const real* __restrict g, std::size_t m, std::size_t cols, bool first) {
  real acc[W];
  std::size_t r = 0;
  const real* s = d;  // the running sums start from d, or from the first row
  if (first) {
    s = g;
    r = 1;
  }
#pragma GCC unroll 16
  for (std::size_t q = 0; q < W; ++q) acc[q] = s[q];
  for (; r < m; ++r) {
    const real* gr = g + r * cols;
#pragma GCC unroll 16
    for (std::size_t q = 0; q < W; ++q) acc[q] += gr[q];
  }
#pragma GCC unroll 16
  for (std::size_t q = 0; q < W; ++q) d[q] = acc[q];
}

/// d (+)= Σ_r g[r, :] over the m rows of g (m×cols), summed in row order. Sixteen columns at a
/// time in locals: summing row by row into d would store and reload d once per row, and fewer
/// columns leave the adder waiting on each sum's previous addition.
void column_sums(real* __restrict d, const real* __restrict g, std::size_t m, std::size_t cols, bool first) {
  if (first && m == 0) {
    std::fill_n(d, cols, real(0));
    return;
  }
  std::size_t j = 0;
  for (; j + 16 <= cols; j += 16) column_block<16>(d + j, g + j, m, cols, first);
  if (j + 8 <= cols) {
    column_block<8>(d + j, g + j, m, cols, first);
    j += 8;
  }
  for (; j < cols; ++j) column_block<1>(d + j, g + j, m, cols, first);
}

/// d (+)= g·bᵀ for g m×1 and b k×1 (an outer product: the GEMM below with inner size 1).
void outer(real* __restrict d, const real* __restrict g, const real* __restrict b, std::size_t m, std::size_t k,
           bool first) {
  for (std::size_t r = 0; r < m; ++r) {
    real* dr = d + r * k;
    const real gr = g[r];
    if (first)
      for (std::size_t j = 0; j < k; ++j) dr[j] = gr * b[j];
    else
      for (std::size_t j = 0; j < k; ++j) dr[j] += gr * b[j];
  }
}

// y = a·b (+ bias): ∂a = G·bᵀ (one GEMM over the consecutive live blocks), ∂b_t = aᵀ·G_t,
// ∂bias_t = Σ_rows G_t.
void product(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self, bool bias) {
  const Tensor &A = tape.value(n.in[0]), &B = tape.value(n.in[1]);
  const std::size_t m = A.shape(0), k = A.shape(1), cols = B.shape(1);
  const std::size_t T = s.tasks();
  bool first = false;
  if (tape.node(n.in[0]).requires_grad) {
    std::size_t a = 0, b = 0;
    real* d = s.live_range(self, a, b) ? s.target_range(n.in[0], a, b, first) : nullptr;
    // Small products (up to ~2^20 multiply-adds): G·bᵀ as G·(bᵀ) with bᵀ copied out, as OpenBLAS's
    // NN kernels run them ~1.2–1.5× faster than its NT path; from ~256³ on the two run alike and
    // the copy would only cost (mtlgrad_bench --case small_gemm). A single column (a head of one
    // output) is an outer product, done here.
    const real* bt = nullptr;
    if (cols > 1 && (d ? (b - a) * m : m) * k * cols <= (std::size_t(1) << 20)) {
      real* t = s.scratch(k * cols);
      const real* w = B.data();
      for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < cols; ++j) t[j * k + i] = w[i * cols + j];
      bt = t;
    }
    auto grad_a = [&](std::size_t rows, const real* g, real* d) {
      if (cols == 1) outer(d, g, B.data(), rows, k, first);
      else if (bt) blas::gemm(false, false, rows, k, cols, 1, g, cols, bt, k, first ? 0 : 1, d, k);
      else blas::gemm(false, true, rows, k, cols, 1, g, cols, B.data(), cols, first ? 0 : 1, d, k);
    };
    if (d) {
      grad_a((b - a) * m, s.grad(self, a), d);
    } else {
      for (std::size_t t = 0; t < T; ++t)
        if (s.live(self, t) && (d = s.target(n.in[0], t, first))) grad_a(m, s.grad(self, t), d);
    }
  }
  for (std::size_t t = 0; t < T; ++t) {
    if (!s.live(self, t)) continue;
    const real* g = s.grad(self, t);
    if (real* d = s.target(n.in[1], t, first))
      blas::gemm(true, false, k, cols, m, 1, A.data(), k, g, cols, first ? 0 : 1, d, cols);
    if (!bias) continue;
    if (real* d = s.target(n.in[2], t, first)) column_sums(d, g, m, cols, first);
  }
}

void affine_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self) { product(s, tape, n, self, true); }
void matmul_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self) { product(s, tape, n, self, false); }

// d (+)= y <= 0 ? +0 : g, as a select (vectorised; keep_if's integer masking is not): PyTorch's
// threshold_backward, as the per-task path, so a NaN y passes g on.
void relu_block(real* __restrict d, const real* __restrict g, const real* __restrict y, std::size_t n, bool first) {
  // g[k] is read unconditionally, so that g++ can if-convert the select.
  if (first)
    for (std::size_t k = 0; k < n; ++k) {
      const real gk = g[k];
      d[k] = y[k] <= real(0) ? real(0) : gk;
    }
  else
    for (std::size_t k = 0; k < n; ++k) {
      const real gk = g[k];
      d[k] += y[k] <= real(0) ? real(0) : gk;
    }
}

void relu_vjp(BatchedSweep& s, const Tape&, const Node& n, std::uint32_t self) {
  const real* y = n.value.data();
  const std::size_t size = n.value.size();
  for (std::size_t t = 0; t < s.tasks(); ++t) {
    if (!s.live(self, t)) continue;
    bool first = false;
    if (real* d = s.target(n.in[0], t, first)) relu_block(d, s.grad(self, t), y, size, first);
  }
}

void leaky_relu_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self) {
  const real* x = tape.value(n.in[0]).data();
  const real slope = n.k[0];
  elementwise(s, tape, n, self, [x, slope](real g, std::size_t k) {
    const bool pos = x[k] > real(0);
    return keep_if(pos, g) + keep_if(!pos, slope * g);  // one of the two is +0
  });
}

void tanh_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self) {
  const real* y = n.value.data();
  elementwise(s, tape, n, self, [y](real g, std::size_t k) { return g * (real(1) - y[k] * y[k]); });
}

void sigmoid_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self) {
  const real* y = n.value.data();
  elementwise(s, tape, n, self, [y](real g, std::size_t k) { return g * y[k] * (real(1) - y[k]); });
}

// ∂x = g − softmax ⊙ Σ_j g, row-wise (softmax = e^y).
void log_softmax_vjp(BatchedSweep& s, const Tape&, const Node& n, std::uint32_t self) {
  const std::size_t B = n.value.shape(0), C = n.value.shape(1);
  for (std::size_t t = 0; t < s.tasks(); ++t) {
    bool first = false;
    real* d = s.live(self, t) ? s.target(n.in[0], t, first) : nullptr;
    if (!d) continue;
    const real* g = s.grad(self, t);
    for (std::size_t i = 0; i < B; ++i) {
      const real* gi = g + i * C;
      const real* y = n.value.data() + i * C;
      real sum = 0;
      for (std::size_t j = 0; j < C; ++j) sum += gi[j];
      emit(d + i * C, C, first, [&](std::size_t j) { return gi[j] - std::exp(y[j]) * sum; });
    }
  }
}

// ∂x = g/B · (softmax − onehot(label)); saved = log_softmax(x), ints = labels.
void cross_entropy_vjp(BatchedSweep& s, const Tape&, const Node& n, std::uint32_t self) {
  const std::size_t B = n.saved.shape(0), C = n.saved.shape(1);
  for (std::size_t t = 0; t < s.tasks(); ++t) {
    bool first = false;
    real* d = s.live(self, t) ? s.target(n.in[0], t, first) : nullptr;
    if (!d) continue;
    const real c = s.grad(self, t)[0] / real(B);
    emit(d, B * C, first, [&](std::size_t k) { return c * std::exp(n.saved.data()[k]); });
    for (std::size_t i = 0; i < B; ++i) d[i * C + n.ints[i]] -= c;
  }
}

// ∂p = 2(p − q)/N · g, ∂q = −∂p.
void mse_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self) {
  const real *P = tape.value(n.in[0]).data(), *Q = tape.value(n.in[1]).data();
  const std::size_t N = tape.value(n.in[0]).size();
  for (std::size_t t = 0; t < s.tasks(); ++t) {
    if (!s.live(self, t)) continue;
    const real c = real(2) * s.grad(self, t)[0] / real(N);
    bool first = false;
    if (real* d = s.target(n.in[0], t, first)) emit(d, N, first, [&](std::size_t k) { return c * (P[k] - Q[k]); });
    if (real* d = s.target(n.in[1], t, first)) emit(d, N, first, [&](std::size_t k) { return c * (Q[k] - P[k]); });
  }
}

struct Entry {
  const char* op;
  BatchedVjp vjp;
};
constexpr Entry kTable[] = {
    {"affine", affine_vjp},   {"matmul", matmul_vjp},           {"relu", relu_vjp},
    {"leaky_relu", leaky_relu_vjp}, {"tanh", tanh_vjp},         {"sigmoid", sigmoid_vjp},
    {"log_softmax", log_softmax_vjp}, {"cross_entropy", cross_entropy_vjp}, {"mse", mse_vjp},
    {"conv2d", detail::conv2d_batched_vjp}, {"max_pool2d", detail::max_pool2d_batched_vjp},
};

}  // namespace

BatchedVjp batched_vjp(const char* op) {
  for (const Entry& e : kTable)
    if (std::strcmp(e.op, op) == 0) return e.vjp;
  return nullptr;
}

}  // namespace mtlgrad
