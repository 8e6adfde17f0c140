#include "mtlgrad/data/resize.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mtlgrad {

BilinearResize::BilinearResize(std::size_t in_h, std::size_t in_w, std::size_t out_h, std::size_t out_w)
    : in_h_(in_h), in_w_(in_w) {
  if (!in_h || !in_w || !out_h || !out_w)
    throw std::invalid_argument("BilinearResize: sizes must be >= 1, got " + std::to_string(in_h) + "×" +
                                std::to_string(in_w) + " -> " + std::to_string(out_h) + "×" + std::to_string(out_w));
  rows_ = taps(in_h, out_h);
  cols_ = taps(in_w, out_w);
}

std::vector<BilinearResize::Tap> BilinearResize::taps(std::size_t in, std::size_t out) {
  const double s = double(in) / double(out);
  std::vector<Tap> t(out);
  for (std::size_t o = 0; o < out; ++o) {
    const double u = std::max(s * (double(o) + 0.5) - 0.5, 0.0);
    const std::size_t i0 = std::size_t(u);
    const double l1 = std::min(u - double(i0), 1.0);
    t[o] = {i0, i0 + (i0 + 1 < in ? 1 : 0), real(1.0 - l1), real(l1)};
  }
  return t;
}

void BilinearResize::apply(const real* in, real* out) const {
  for (const Tap& r : rows_) {
    const real* a = in + r.i0 * in_w_;
    const real* b = in + r.i1 * in_w_;
    for (const Tap& c : cols_)
      *out++ = r.l0 * (c.l0 * a[c.i0] + c.l1 * a[c.i1]) + r.l1 * (c.l0 * b[c.i0] + c.l1 * b[c.i1]);
  }
}

Tensor BilinearResize::operator()(const Tensor& image) const {
  check_shape("BilinearResize", image, Shape{in_h_, in_w_});
  Tensor out = zeros(out_h(), out_w());
  apply(image.data(), out.data());
  return out;
}

}  // namespace mtlgrad
