#include "mtlgrad/core/tensor.hpp"

#include <cmath>

namespace mtlgrad {

std::string shape_str(const Shape& s) {
  return "[" + std::to_string(s[0]) + "," + std::to_string(s[1]) + "]";
}

Tensor row(std::initializer_list<real> values) {
  Tensor t = zeros(1, values.size());
  std::size_t j = 0;
  for (real v : values) t(0, j++) = v;
  return t;
}

Tensor matrix(std::initializer_list<std::initializer_list<real>> rows) {
  const std::size_t r = rows.size();
  const std::size_t c = r == 0 ? 0 : rows.begin()->size();
  Tensor t = zeros(r, c);
  std::size_t i = 0;
  for (const auto& rw : rows) {
    if (rw.size() != c)
      throw std::invalid_argument("matrix: row " + std::to_string(i) + " has " +
                                  std::to_string(rw.size()) + " values, row 0 has " +
                                  std::to_string(c));
    std::size_t j = 0;
    for (real v : rw) t(i, j++) = v;
    ++i;
  }
  return t;
}

void check_shape(const char* what, const Tensor& t, const Shape& s) {
  if (t.shape(0) != s[0] || t.shape(1) != s[1])
    throw std::invalid_argument(std::string(what) + ": expected shape " + shape_str(s) + ", got " +
                                shape_str(t));
}

bool all_finite(const Tensor& t) {
  for (real v : t)
    if (!std::isfinite(v)) return false;
  return true;
}

}  // namespace mtlgrad
