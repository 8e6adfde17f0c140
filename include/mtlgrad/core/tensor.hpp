#pragma once
/// @file tensor.hpp
/// The scalar type, the tensor type and shape checks. This is the only header that includes
/// xtensor's containers; every other header of mtlgrad includes this one.
///
/// `real` is double by default; configuring with -DMTLGRAD_REAL=float builds the whole library in
/// float. Every numeric type in mtlgrad is written in terms of `real`.
///
/// A Tensor is always rank 2: a scalar is 1×1, a vector is a 1×n row, a batch is B×n.

#include <cstddef>
#include <stdexcept>
#include <string>

#include <xtensor/xtensor.hpp>

#ifndef MTLGRAD_REAL
#define MTLGRAD_REAL double
#endif

namespace mtlgrad {

using real = MTLGRAD_REAL;
static_assert(std::is_same_v<real, double> || std::is_same_v<real, float>,
              "MTLGRAD_REAL must be double or float");

/// Dense row-major matrix of `real`. Scalars are 1×1 and vectors are 1×n rows.
using Tensor = xt::xtensor<real, 2>;
using Shape = std::array<std::size_t, 2>;

/// "[3,4]"
std::string shape_str(const Shape& s);

inline std::string shape_str(const Tensor& t) { return shape_str(Shape{t.shape(0), t.shape(1)}); }
inline Shape shape_of(const Tensor& t) { return Shape{t.shape(0), t.shape(1)}; }

/// A rows×cols tensor of zeros.
inline Tensor zeros(std::size_t rows, std::size_t cols) { return Tensor(Shape{rows, cols}, real(0)); }
inline Tensor zeros(const Shape& s) { return Tensor(s, real(0)); }
/// A 1×1 tensor holding v.
inline Tensor scalar(real v) { return Tensor(Shape{1, 1}, v); }
/// A 1×n row from a list: row({1, 2, 3}).
Tensor row(std::initializer_list<real> values);
/// A rows×cols tensor from nested lists: matrix({{1, 2}, {3, 4}}). Ragged rows throw.
Tensor matrix(std::initializer_list<std::initializer_list<real>> rows);

/// Throws std::invalid_argument("<what>: expected shape [r,c], got [r',c']") unless t has shape s.
void check_shape(const char* what, const Tensor& t, const Shape& s);

/// True when every element is finite (no NaN, no ±inf).
bool all_finite(const Tensor& t);

/// Machine epsilon of `real`, and a tolerance helper for code (and tests) that must hold in both
/// builds: tolerance(1e-12, 1e-5) is the first in the double build, the second in float.
constexpr real tolerance(double for_double, double for_float) {
  return std::is_same_v<real, double> ? real(for_double) : real(for_float);
}

}  // namespace mtlgrad
