#pragma once
/// @file resize.hpp
/// Bilinear image resizing that matches PyTorch's
/// torch.nn.functional.interpolate(x, size=(out_h, out_w), mode="bilinear", align_corners=False,
/// antialias=False) — the default of torchvision-style pipelines — to rounding.
///
/// Along each axis (in → out pixels, ratio s = in / out computed in double), output pixel o
/// samples the input at
///
///     u = max(s·(o + ½) − ½, 0),   i0 = ⌊u⌋,   i1 = i0 + [i0 < in − 1],   λ1 = u − i0,   λ0 = 1 − λ1
///
/// (half-pixel centres, clamped at the first pixel and repeated at the last), and
///
///     out(y, x) = λ0(y)·[λ0(x)·in(i0y, i0x) + λ1(x)·in(i0y, i1x)]
///               + λ1(y)·[λ0(x)·in(i1y, i0x) + λ1(x)·in(i1y, i1x)].
///
/// Without antialiasing a downscale by s < 2 (MultiFashion: 36 → 28) reads each output from the
/// 2×2 nearest input pixels. The index and weight tables are computed once per size pair, so
/// resizing many images of one size allocates nothing. Tested against PyTorch in
/// tests/data/test_multifashion.cpp (fixture written by tools/gen_data_golden.py).

#include <cstddef>
#include <vector>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

class BilinearResize {
 public:
  /// All sizes must be >= 1 (std::invalid_argument otherwise).
  BilinearResize(std::size_t in_h, std::size_t in_w, std::size_t out_h, std::size_t out_w);

  /// Resizes one row-major in_h×in_w image into a row-major out_h×out_w buffer (no overlap).
  void apply(const real* in, real* out) const;
  /// The same on a Tensor holding one image as an in_h×in_w matrix; shape checked.
  Tensor operator()(const Tensor& image) const;

  std::size_t in_h() const { return in_h_; }
  std::size_t in_w() const { return in_w_; }
  std::size_t out_h() const { return rows_.size(); }
  std::size_t out_w() const { return cols_.size(); }

 private:
  struct Tap {
    std::size_t i0, i1;
    real l0, l1;
  };
  static std::vector<Tap> taps(std::size_t in, std::size_t out);

  std::size_t in_h_, in_w_;
  std::vector<Tap> rows_, cols_;
};

}  // namespace mtlgrad
