#pragma once
/// @file ops.hpp
/// Differentiable operations on Vars. Each is a free function that computes its value, records a
/// node on the operands' tape, and carries its VJP beside its forward in src/autograd/ops_*.cpp.
///
/// Broadcasting (add, sub, mul, div): two shapes combine when, in each dimension, they are equal
/// or one of them is 1 — a 1×n row or a B×1 column over B×n, a 1×1 scalar over anything. The VJP
/// sums the gradient back over the broadcast dimensions to each operand's shape.
///
/// Kinks follow PyTorch (docs/algorithms.md, "The 2-D toy"): d|x|/dx = sign(x) with sign(0) = 0; relu passes the
/// gradient where x > 0; clamp passes it where lo ≤ x ≤ hi (inclusive); pow(x, 0) has gradient 0.
///
/// Every op checks its operands; a shape mismatch throws std::invalid_argument naming the op and
/// both shapes ("add: shapes [2,3] and [3,2] do not broadcast").

#include <limits>
#include <vector>

#include "mtlgrad/autograd/tape.hpp"

namespace mtlgrad {

// ---- elementwise, broadcasting (ops_elementwise.cpp) -------------------------------------------
Var add(Var a, Var b);   ///< a + b
Var sub(Var a, Var b);   ///< a − b
Var mul(Var a, Var b);   ///< a ⊙ b
Var div(Var a, Var b);   ///< a ⊘ b
Var neg(Var a);          ///< −a
Var scale(Var a, real s);       ///< s·a
Var add_scalar(Var a, real s);  ///< a + s

inline Var operator+(Var a, Var b) { return add(a, b); }
inline Var operator-(Var a, Var b) { return sub(a, b); }
inline Var operator*(Var a, Var b) { return mul(a, b); }
inline Var operator/(Var a, Var b) { return div(a, b); }
inline Var operator-(Var a) { return neg(a); }
inline Var operator*(Var a, real s) { return scale(a, s); }
inline Var operator*(real s, Var a) { return scale(a, s); }
inline Var operator+(Var a, real s) { return add_scalar(a, s); }
inline Var operator+(real s, Var a) { return add_scalar(a, s); }
inline Var operator-(Var a, real s) { return add_scalar(a, -s); }
inline Var operator-(real s, Var a) { return add_scalar(neg(a), s); }

// ---- elementwise, unary (ops_elementwise.cpp) --------------------------------------------------
Var exp(Var x);                ///< eˣ;            ∂ = eˣ
Var log(Var x);                ///< ln x;          ∂ = 1/x
Var sqrt(Var x);               ///< √x;            ∂ = 1/(2√x)
Var pow(Var x, real p);        ///< xᵖ;            ∂ = p·xᵖ⁻¹ (0 when p = 0)
Var abs(Var x);                ///< |x|;           ∂ = sign(x), sign(0) = 0
/// min(max(x, lo), hi); ∂ = 1 where lo ≤ x ≤ hi, else 0. Use ±infinity for a missing bound.
Var clamp(Var x, real lo, real hi);
inline Var clamp_min(Var x, real lo) { return clamp(x, lo, std::numeric_limits<real>::infinity()); }
inline Var clamp_max(Var x, real hi) { return clamp(x, -std::numeric_limits<real>::infinity(), hi); }
Var tanh(Var x);               ///< tanh x;        ∂ = 1 − tanh²x
Var sigmoid(Var x);            ///< σ(x) = 1/(1+e⁻ˣ); ∂ = σ(1−σ)
Var relu(Var x);               ///< max(x, 0);     ∂ = 1[x > 0]
Var leaky_relu(Var x, real negative_slope = real(0.01));  ///< x > 0 ? x : slope·x
/// (1/β)·ln(1 + e^{βx}), and x itself where βx > threshold (PyTorch's Softplus); ∂ = σ(βx).
Var softplus(Var x, real beta = 1, real threshold = 20);

// ---- linear algebra and shape (ops_linalg.cpp) -------------------------------------------------
/// A·B, [m,k]×[k,n] → [m,n] (BLAS gemm). ∂A = G·Bᵀ, ∂B = Aᵀ·G.
Var matmul(Var a, Var b);
/// x·W + b, [B,in]×[in,out] + [1,out] → [B,out], fused (one gemm). ∂x = G·Wᵀ, ∂W = xᵀ·G, ∂b = Σ_rows G.
Var affine(Var x, Var w, Var b);
Var transpose(Var x);                                   ///< xᵀ
Var slice_cols(Var x, std::size_t begin, std::size_t end);  ///< x[:, begin:end]
Var slice_rows(Var x, std::size_t begin, std::size_t end);  ///< x[begin:end, :]
Var concat_cols(const std::vector<Var>& xs);  ///< [x₁ x₂ …], equal row counts
Var concat_rows(const std::vector<Var>& xs);  ///< [x₁; x₂; …], equal column counts

// ---- images (ops_conv.cpp) ----------------------------------------------------------------------
/// The layout of an image batch: row b of a [B, C·H·W] tensor is image b in PyTorch's NCHW order
/// (channel, then row, then column), so a PyTorch batch's x.flatten(1) is the same memory and a
/// Linear after the convolutions needs no flatten op: its input already is [B, C·H·W].
struct ImageShape {
  std::size_t channels = 1, height = 0, width = 0;
  std::size_t size() const { return channels * height * width; }
};
/// The output shape of conv2d: Cout channels of (H + 2·padding − kernel)/stride + 1 rows (columns
/// alike). Throws std::invalid_argument when the kernel does not fit or stride is 0.
ImageShape conv2d_shape(const ImageShape& in, std::size_t out_channels, std::size_t kernel, std::size_t stride = 1,
                        std::size_t padding = 0);
/// 2-D convolution (cross-correlation, PyTorch's conv2d) of each image with Cout kernels of k×k:
/// x [B, C·H·W] laid out as `in`, w [Cout, C·k·k] (PyTorch's weight [Cout, C, k, k], flattened), b
/// [1, Cout] → [B, Cout·Ho·Wo] (conv2d_shape), zero padding. im2col + GEMM, a chunk of images per GEMM:
/// cols_b [C·k·k, Ho·Wo], y_b = w·cols_b + b. ∂w = Σ_b G_b·cols_bᵀ, ∂b = Σ_b Σ_pixels G_b,
/// ∂x_b = col2im(wᵀ·G_b) (the columns are recomputed in the backward rather than kept).
Var conv2d(Var x, Var w, Var b, const ImageShape& in, std::size_t kernel, std::size_t stride = 1,
           std::size_t padding = 0);
/// The output shape of max_pool2d: C channels of (H − kernel)/stride + 1 rows (floor; columns alike).
ImageShape max_pool2d_shape(const ImageShape& in, std::size_t kernel, std::size_t stride = 0);
/// Max over kernel×kernel windows every `stride` pixels (0: stride = kernel), no padding, floor mode
/// (PyTorch's max_pool2d): [B, C·H·W] → [B, C·Ho·Wo]. The gradient goes to the window's first
/// maximum in row-major order; a NaN counts as the maximum and propagates, as in PyTorch.
Var max_pool2d(Var x, const ImageShape& in, std::size_t kernel, std::size_t stride = 0);

// ---- reductions (ops_reduce.cpp) ---------------------------------------------------------------
Var sum(Var x);        ///< Σ all → 1×1
Var sum_rows(Var x);   ///< Σ over rows → 1×n (PyTorch x.sum(0, keepdim=True))
Var sum_cols(Var x);   ///< Σ over columns → B×1 (PyTorch x.sum(1, keepdim=True))
Var mean(Var x);       ///< mean of all → 1×1
Var mean_rows(Var x);  ///< mean over rows → 1×n
Var mean_cols(Var x);  ///< mean over columns → B×1
/// Row-wise log-softmax: yᵢⱼ = xᵢⱼ − max_k xᵢₖ − ln Σ_k e^{xᵢₖ − max}. ∂x = G − softmax ⊙ Σ_j G.
Var log_softmax(Var x);

// ---- losses (ops_loss.cpp); each returns the batch mean as 1×1 ---------------------------------
/// mean((pred − target)²) over all elements (PyTorch MSELoss).
Var mse(Var pred, Var target);
Var mse(Var pred, const Tensor& target);
/// −mean_i log_softmax(logits)[i, labels[i]] (PyTorch CrossEntropyLoss), stable for any logits.
/// labels.size() must equal the rows; each label must be < the columns.
Var cross_entropy(Var logits, const std::vector<std::size_t>& labels);
/// mean(max(x,0) − x·t + ln(1 + e^{−|x|})) (PyTorch BCEWithLogitsLoss); targets in [0, 1], same shape.
Var binary_cross_entropy_with_logits(Var logits, const Tensor& targets);

}  // namespace mtlgrad
