// Image ops on [B, C·H·W] batches (NCHW per row): conv2d by im2col + GEMM, max_pool2d. Each op's
// per-output VJP (Tape) and its batched VJP (BatchedSweep) share one kernel per chunk of images,
// so the two paths do the same arithmetic.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "conv.hpp"
#include "mtlgrad/autograd/ops.hpp"
#include "mtlgrad/core/blas.hpp"

#include "tape_nodes.hpp"

namespace mtlgrad {
namespace {

std::string image_str(const ImageShape& s) {
  return std::to_string(s.channels) + "×" + std::to_string(s.height) + "×" + std::to_string(s.width);
}

// A convolution's sizes, kept in the node's ints in this order.
struct Conv {
  std::size_t C, H, W, k, s, p, Cout, Ho, Wo;
  std::size_t K() const { return C * k * k; }    // rows of the columns matrix
  std::size_t P() const { return Ho * Wo; }      // output pixels per channel
  std::size_t in_size() const { return C * H * W; }
  std::size_t out_size() const { return Cout * Ho * Wo; }
};
Conv conv_of(const Node& n) {
  const auto& i = n.ints;
  return {i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8]};
}

// The output columns [lo, hi) of kernel column j whose input column ow·s + j − p lies inside the
// image; the others read the zero padding.
void valid_columns(const Conv& g, std::size_t j, std::size_t& lo, std::size_t& hi) {
  const std::ptrdiff_t off = std::ptrdiff_t(j) - std::ptrdiff_t(g.p);  // input column = ow·s + off
  const std::ptrdiff_t s = std::ptrdiff_t(g.s), W = std::ptrdiff_t(g.W);
  lo = off < 0 ? std::size_t((-off + s - 1) / s) : 0;
  hi = W - 1 - off < 0 ? 0 : std::size_t((W - 1 - off) / s + 1);
  hi = std::min(hi, g.Wo);
  lo = std::min(lo, hi);
}

// The columns of one image x [C·H·W], P of them in rows `ld` apart: cols[(c, i, j), (oh, ow)] =
// x[c, oh·s + i − p, ow·s + j − p], 0 outside the image.
void im2col(const Conv& g, const real* x, real* cols, std::size_t ld) {
  for (std::size_t c = 0; c < g.C; ++c)
    for (std::size_t i = 0; i < g.k; ++i)
      for (std::size_t j = 0; j < g.k; ++j) {
        real* row = cols + ((c * g.k + i) * g.k + j) * ld;
        std::size_t lo, hi;
        valid_columns(g, j, lo, hi);
        for (std::size_t oh = 0; oh < g.Ho; ++oh) {
          real* out = row + oh * g.Wo;
          const std::ptrdiff_t ih = std::ptrdiff_t(oh * g.s + i) - std::ptrdiff_t(g.p);
          if (ih < 0 || ih >= std::ptrdiff_t(g.H)) {
            std::fill_n(out, g.Wo, real(0));
            continue;
          }
          std::fill_n(out, lo, real(0));
          std::fill(out + hi, out + g.Wo, real(0));
          if (lo == hi) continue;
          // Input column of output column ow: ow·s + j − p, non-negative for ow ≥ lo.
          const real* src = x + (c * g.H + std::size_t(ih)) * g.W + (lo * g.s + j - g.p);
          if (g.s == 1) std::copy_n(src, hi - lo, out + lo);
          else
            for (std::size_t ow = lo; ow < hi; ++ow) out[ow] = src[(ow - lo) * g.s];
        }
      }
}

// dx [C·H·W] += col2im(dcols) (rows `ld` apart): the transpose of im2col (padding positions are
// dropped).
void col2im_add(const Conv& g, const real* dcols, std::size_t ld, real* dx) {
  for (std::size_t c = 0; c < g.C; ++c)
    for (std::size_t i = 0; i < g.k; ++i)
      for (std::size_t j = 0; j < g.k; ++j) {
        const real* row = dcols + ((c * g.k + i) * g.k + j) * ld;
        std::size_t lo, hi;
        valid_columns(g, j, lo, hi);
        for (std::size_t oh = 0; oh < g.Ho; ++oh) {
          const std::ptrdiff_t ih = std::ptrdiff_t(oh * g.s + i) - std::ptrdiff_t(g.p);
          if (ih < 0 || ih >= std::ptrdiff_t(g.H) || lo == hi) continue;
          const real* in = row + oh * g.Wo;
          real* dst = dx + (c * g.H + std::size_t(ih)) * g.W + (lo * g.s + j - g.p);
          if (g.s == 1)  // contiguous: a loop the compiler vectorises
            for (std::size_t ow = lo; ow < hi; ++ow) dst[ow - lo] += in[ow];
          else
            for (std::size_t ow = lo; ow < hi; ++ow) dst[(ow - lo) * g.s] += in[ow];
        }
      }
}

// The images of one GEMM: a chunk's columns [K, n·P] (the n images side by side) take about
// 512 KiB, so that the GEMMs are not tiny (a 36×36 image's 9×9 convolution has only Cout = 10 output
// rows) and a chunk's columns stay in the L2 cache from im2col to the GEMM's packing (measured on
// LeNet in double: 2^16 values beat 2^17 and 2^18 by 4–8 %; docs/performance.md).
std::size_t chunk_images(const Conv& g, std::size_t B) {
  const std::size_t values = (std::size_t(1) << 19) / sizeof(real);
  return std::max<std::size_t>(1, std::min(B, values / std::max<std::size_t>(1, g.K() * g.P())));
}

// The columns of images b0..b0+n−1 of X, side by side: [K, n·P].
void im2col_chunk(const Conv& g, const real* X, std::size_t b0, std::size_t n, real* cols) {
  for (std::size_t j = 0; j < n; ++j) im2col(g, X + (b0 + j) * g.in_size(), cols + j * g.P(), n * g.P());
}

// The gradients of R outputs (R = 1 on the tape; the live tasks in the batched sweep), their
// contributions of images b0..b0+n−1. gc holds the chunk's R gradients gathered as [Cout, R, n·P]:
// seen as [Cout·R, n·P] (row co·R + r) it is every output's Gc at once, seen as [Cout, R·n·P] it is
// the R outputs side by side. So one GEMM gives every output's ∂W, dw [Cout·R, K] = beta·dw +
// Gc·colsᵀ (cols = im2col_chunk; row co·R + r is output r's row co), and one GEMM every output's
// ∂cols = wᵀ·Gc, R times fatter than one GEMM per output (these have only Cout = 10 or 20 rows or
// an inner size of Cout, and their packing of the columns is then shared). Each element is the same
// sum as in separate GEMMs. Then db[r] [Cout] += the row sums of output r's Gc (when set), and
// dx[r] [B, C·H·W] += col2im(output r's ∂cols) (when set; an image of it zeroed first where
// dx_first[r], in cache just before its sums). G[r] is output r's whole [B, Cout·P] gradient;
// dcols: scratch of K·R·n·P, or null when no output takes ∂x.
void conv_backward_chunk(const Conv& g, std::size_t b0, std::size_t n, std::size_t R, const real* const* G,
                         const real* w, const real* cols, real* dw, real beta, real* const* db, real* const* dx,
                         const char* dx_first, real* gc, real* dcols) {
  const std::size_t K = g.K(), P = g.P(), ld = n * P, wide = R * ld;
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t co = 0; co < g.Cout; ++co)
        std::copy_n(G[r] + (b0 + j) * g.out_size() + co * P, P, gc + co * wide + r * ld + j * P);
  if (dw) blas::gemm(false, true, g.Cout * R, K, ld, 1, gc, ld, cols, ld, beta, dw, K);  // [Cout·R,nP]×[nP,K]
  for (std::size_t r = 0; r < R; ++r)
    if (db[r])
      for (std::size_t co = 0; co < g.Cout; ++co) {
        const real* row = gc + co * wide + r * ld;
        real sum = 0;
        for (std::size_t q = 0; q < ld; ++q) sum += row[q];
        db[r][co] += sum;
      }
  if (dcols) {
    blas::gemm(true, false, K, wide, g.Cout, 1, w, K, gc, wide, 0, dcols, wide);  // [K,Cout]×[Cout,R·nP]
    for (std::size_t r = 0; r < R; ++r)
      if (dx[r])
        for (std::size_t j = 0; j < n; ++j) {
          real* dxj = dx[r] + (b0 + j) * g.in_size();
          if (dx_first[r]) std::fill_n(dxj, g.in_size(), real(0));
          col2im_add(g, dcols + r * ld + j * P, wide, dxj);
        }
  }
}

// Scratch for one chunk of R outputs — the columns, their R gradients and the R gathered
// [Cout, n·P] — kept across calls, so a training loop allocates it once. Per thread: tapes on
// different threads do not share it.
real* conv_scratch(std::size_t n) {
  thread_local std::vector<real> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}
std::size_t scratch_size(const Conv& g, std::size_t nb, std::size_t R) {
  return (g.K() + R * (g.K() + g.Cout)) * nb * g.P();
}

void conv2d_backward(Tape& t, const Node& n) {
  const Conv g = conv_of(n);
  const Tensor &X = t.value(n.in[0]), &Wt = t.value(n.in[1]);
  Tensor* dX = t.grad_buffer(n.in[0]);
  Tensor* dW = t.grad_buffer(n.in[1]);
  Tensor* db = t.grad_buffer(n.in[2]);
  const std::size_t B = X.shape(0), nb = chunk_images(g, B);
  real* cols = conv_scratch(scratch_size(g, nb, 1));
  real* dcols = cols + g.K() * nb * g.P();
  real* gc = dcols + g.K() * nb * g.P();
  const real* G = n.grad.data();
  real* dbp = db ? db->data() : nullptr;
  real* dxp = dX ? dX->data() : nullptr;
  for (std::size_t b0 = 0; b0 < B; b0 += nb) {
    const std::size_t m = std::min(nb, B - b0);
    if (dW) im2col_chunk(g, X.data(), b0, m, cols);
    const char accumulate = 0;
    conv_backward_chunk(g, b0, m, 1, &G, Wt.data(), cols, dW ? dW->data() : nullptr, 1, &dbp, &dxp, &accumulate, gc,
                        dX ? dcols : nullptr);
  }
}

// Max-pool sizes in the node's ints: C, H, W, k, s, Ho, Wo, then the argmax of every output
// (its offset in the input image).
constexpr std::size_t kPoolHeader = 7;

void max_pool2d_backward(Tape& t, const Node& n) {
  Tensor* dX = t.grad_buffer(n.in[0]);
  if (!dX) return;
  const std::size_t in = dX->shape(1), out = n.grad.shape(1);
  const std::size_t* arg = n.ints.data() + kPoolHeader;
  for (std::size_t b = 0; b < n.grad.shape(0); ++b) {
    const real* g = n.grad.data() + b * out;
    real* d = dX->data() + b * in;
    for (std::size_t q = 0; q < out; ++q) d[arg[b * out + q]] += g[q];
  }
}

}  // namespace

ImageShape conv2d_shape(const ImageShape& in, std::size_t out_channels, std::size_t kernel, std::size_t stride,
                        std::size_t padding) {
  if (kernel == 0 || stride == 0)
    throw std::invalid_argument("conv2d: kernel (" + std::to_string(kernel) + ") and stride (" +
                                std::to_string(stride) + ") must be positive");
  if (kernel > in.height + 2 * padding || kernel > in.width + 2 * padding)
    throw std::invalid_argument("conv2d: a " + std::to_string(kernel) + "×" + std::to_string(kernel) +
                                " kernel does not fit an image of " + image_str(in) + " with padding " +
                                std::to_string(padding));
  return {out_channels, (in.height + 2 * padding - kernel) / stride + 1, (in.width + 2 * padding - kernel) / stride + 1};
}

Var conv2d(Var x, Var w, Var b, const ImageShape& in, std::size_t kernel, std::size_t stride, std::size_t padding) {
  const Tensor &X = x.value(), &Wt = w.value(), &Bs = b.value();
  const std::size_t Cout = Wt.shape(0);
  const ImageShape out = conv2d_shape(in, Cout, kernel, stride, padding);
  if (X.shape(1) != in.size() || in.size() == 0)
    throw std::invalid_argument("conv2d: input " + shape_str(X) + " is not a batch of " + image_str(in) +
                                " images (expected [B," + std::to_string(in.size()) + "])");
  if (Cout == 0 || Wt.shape(1) != in.channels * kernel * kernel || Bs.shape(0) != 1 || Bs.shape(1) != Cout)
    throw std::invalid_argument("conv2d: weight " + shape_str(Wt) + " and bias " + shape_str(Bs) + " do not fit " +
                                std::to_string(kernel) + "×" + std::to_string(kernel) + " kernels over " +
                                std::to_string(in.channels) + " channels (expected [Cout," +
                                std::to_string(in.channels * kernel * kernel) + "] and [1,Cout], Cout ≥ 1)");
  Tape& t = x.tape();
  Var y = t.push("conv2d", {X.shape(0), out.size()}, {x, w, b}, conv2d_backward);
  Node& nd = t.node(y.index());
  nd.ints = {in.channels, in.height, in.width, kernel, stride, padding, Cout, out.height, out.width};
  const Conv g = conv_of(nd);
  const std::size_t B = X.shape(0), nb = chunk_images(g, B), P = g.P();
  real* cols = conv_scratch(scratch_size(g, nb, 1));
  real* rows = cols + 2 * g.K() * nb * P;  // the GEMM's [Cout, m·P]
  for (std::size_t b0 = 0; b0 < B; b0 += nb) {
    const std::size_t m = std::min(nb, B - b0), ld = m * P;
    im2col_chunk(g, X.data(), b0, m, cols);
    blas::gemm(false, false, Cout, ld, g.K(), 1, Wt.data(), g.K(), cols, ld, 0, rows, ld);  // [Cout,K]×[K,mP]
    for (std::size_t j = 0; j < m; ++j)  // image b0 + j's [Cout, P] block, plus the bias
      for (std::size_t co = 0; co < Cout; ++co) {
        real* Y = nd.value.data() + (b0 + j) * g.out_size() + co * P;
        const real* o = rows + co * ld + j * P;
        const real bias = Bs.data()[co];
        for (std::size_t q = 0; q < P; ++q) Y[q] = o[q] + bias;
      }
  }
  return y;
}

ImageShape max_pool2d_shape(const ImageShape& in, std::size_t kernel, std::size_t stride) {
  if (stride == 0) stride = kernel;
  if (kernel == 0 || kernel > in.height || kernel > in.width)
    throw std::invalid_argument("max_pool2d: a " + std::to_string(kernel) + "×" + std::to_string(kernel) +
                                " window does not fit an image of " + image_str(in));
  return {in.channels, (in.height - kernel) / stride + 1, (in.width - kernel) / stride + 1};
}

Var max_pool2d(Var x, const ImageShape& in, std::size_t kernel, std::size_t stride) {
  const Tensor& X = x.value();
  if (stride == 0) stride = kernel;
  const ImageShape out = max_pool2d_shape(in, kernel, stride);
  if (X.shape(1) != in.size() || in.size() == 0)
    throw std::invalid_argument("max_pool2d: input " + shape_str(X) + " is not a batch of " + image_str(in) +
                                " images (expected [B," + std::to_string(in.size()) + "])");
  Tape& t = x.tape();
  const std::size_t B = X.shape(0);
  Var y = t.push("max_pool2d", {B, out.size()}, {x}, max_pool2d_backward);
  Node& nd = t.node(y.index());
  nd.ints.assign(kPoolHeader + B * out.size(), 0);
  const std::size_t header[kPoolHeader] = {in.channels, in.height, in.width, kernel, stride, out.height, out.width};
  std::copy_n(header, kPoolHeader, nd.ints.data());
  std::size_t* arg = nd.ints.data() + kPoolHeader;
  const std::size_t H = in.height, W = in.width;
  for (std::size_t b = 0; b < B; ++b) {
    const real* xb = X.data() + b * in.size();
    real* yb = nd.value.data() + b * out.size();
    std::size_t q = 0;
    for (std::size_t c = 0; c < in.channels; ++c)
      for (std::size_t oh = 0; oh < out.height; ++oh)
        for (std::size_t ow = 0; ow < out.width; ++ow, ++q) {
          // PyTorch's loop: start at −inf with the window's first index; a NaN always takes over.
          // Selects rather than branches: on real data the comparison is a coin flip.
          std::size_t best_at = c * H * W + oh * stride * W + ow * stride;
          real best = -std::numeric_limits<real>::infinity();
          for (std::size_t i = 0; i < kernel; ++i)
            for (std::size_t j = 0; j < kernel; ++j) {
              const std::size_t at = c * H * W + (oh * stride + i) * W + ow * stride + j;
              const real v = xb[at];
              const bool take = (v > best) | std::isnan(v);  // both evaluated: no branch
              best = take ? v : best;
              best_at = take ? at : best_at;
            }
          arg[b * out.size() + q] = best_at;
          yb[q] = xb[best_at];
        }
  }
  return y;
}

namespace detail {

void conv2d_batched_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self) {
  const Conv g = conv_of(n);
  const Tensor &X = tape.value(n.in[0]), &Wt = tape.value(n.in[1]);
  const std::size_t T = s.tasks(), B = X.shape(0), KW = g.Cout * g.K();
  // The live outputs, stacked in every GEMM of the chunk (conv_backward_chunk), and their
  // destinations: ∂b zeroed when nothing was written there yet, and ∂x image by image in the
  // chunk's kernel, so that the per-image contributions accumulate; ∂W accumulates over the chunks
  // in the stacked dw below and is added (or copied, when first) to each output's block at the end.
  thread_local std::vector<const real*> grads;
  thread_local std::vector<real*> dxs, dbs, dws;
  thread_local std::vector<char> dw_first, dx_first;
  grads.clear(), dxs.clear(), dbs.clear(), dws.clear(), dw_first.clear(), dx_first.clear();
  bool need_dw = false, need_dx = false;
  for (std::size_t t = 0; t < T; ++t) {
    if (!s.live(self, t)) continue;
    bool first = false;
    real* dx = s.target(n.in[0], t, first);
    dx_first.push_back(first);
    real* db = s.target(n.in[2], t, first);
    if (db && first) std::fill_n(db, g.Cout, real(0));
    real* dw = s.target(n.in[1], t, first);
    grads.push_back(s.grad(self, t));
    dxs.push_back(dx), dbs.push_back(db), dws.push_back(dw), dw_first.push_back(first);
    need_dw = need_dw || dw;
    need_dx = need_dx || dx;
  }
  const std::size_t R = grads.size();
  if (R == 0) return;
  const std::size_t nb = chunk_images(g, B);
  real* cols = s.scratch(scratch_size(g, nb, R) + R * KW);
  real* dcols = cols + g.K() * nb * g.P();
  real* gc = dcols + R * g.K() * nb * g.P();
  real* dw = gc + R * g.Cout * nb * g.P();
  for (std::size_t b0 = 0; b0 < B; b0 += nb) {
    const std::size_t m = std::min(nb, B - b0);
    if (need_dw) im2col_chunk(g, X.data(), b0, m, cols);
    conv_backward_chunk(g, b0, m, R, grads.data(), Wt.data(), cols, need_dw ? dw : nullptr, b0 ? 1 : 0, dbs.data(),
                        dxs.data(), dx_first.data(), gc, need_dx ? dcols : nullptr);
  }
  for (std::size_t r = 0; r < R; ++r) {
    if (!dws[r]) continue;
    for (std::size_t co = 0; co < g.Cout; ++co) {
      const real* from = dw + (co * R + r) * g.K();
      real* to = dws[r] + co * g.K();
      if (dw_first[r]) std::copy_n(from, g.K(), to);
      else
        for (std::size_t k = 0; k < g.K(); ++k) to[k] += from[k];
    }
  }
}

void max_pool2d_batched_vjp(BatchedSweep& s, const Tape& tape, const Node& n, std::uint32_t self) {
  const std::size_t in = tape.value(n.in[0]).shape(1), B = n.value.shape(0), out = n.value.shape(1);
  const std::size_t* arg = n.ints.data() + kPoolHeader;
  for (std::size_t t = 0; t < s.tasks(); ++t) {
    if (!s.live(self, t)) continue;
    bool first = false;
    real* d = s.target(n.in[0], t, first);
    if (!d) continue;
    const real* g = s.grad(self, t);
    for (std::size_t b = 0; b < B; ++b) {
      // Zeroed image by image, so the scatter below finds the image in cache.
      if (first) std::fill_n(d + b * in, in, real(0));
      for (std::size_t q = 0; q < out; ++q) d[b * in + arg[b * out + q]] += g[b * out + q];
    }
  }
}

}  // namespace detail
}  // namespace mtlgrad
