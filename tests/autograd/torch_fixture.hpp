#pragma once
// Reading tests/fixtures/autograd_torch.json (written by tools/gen_autograd_fixtures.py): tensors as
// nested 2-D lists, compared relatively with a chosen floor.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace mtlgrad::test {

/// A number of a fixture: a JSON number, or "nan", "inf", "-inf" (JSON has no such numbers).
inline real fixture_number(const nlohmann::json& v) {
  if (v.is_number()) return real(v.get<double>());
  const std::string s = v.get<std::string>();
  if (s == "nan") return std::numeric_limits<real>::quiet_NaN();
  if (s == "inf") return std::numeric_limits<real>::infinity();
  REQUIRE(s == "-inf");
  return -std::numeric_limits<real>::infinity();
}

/// A tensor from a 2-D JSON list [[...], ...].
inline Tensor nested(const nlohmann::json& j) {
  const std::size_t r = j.size(), c = r ? j[0].size() : 0;
  Tensor t = zeros(r, c);
  for (std::size_t i = 0; i < r; ++i) {
    REQUIRE(j[i].size() == c);
    for (std::size_t k = 0; k < c; ++k) t(i, k) = fixture_number(j[i][k]);
  }
  return t;
}

/// The first entry where a and b differ as non-finite values (NaN against not NaN, or not the
/// same infinity), as "[i, k]: got x, want y"; empty when they agree everywhere.
inline std::string nonfinite_mismatch(const Tensor& a, const Tensor& b) {
  REQUIRE_MESSAGE(a.shape() == b.shape(), "shapes " << shape_str(a) << " vs " << shape_str(b));
  for (std::size_t k = 0; k < a.size(); ++k) {
    const real x = a.data()[k], y = b.data()[k];
    const bool same = std::isnan(y) ? std::isnan(x) : std::isinf(y) ? x == y : std::isfinite(x);
    if (!same)
      return "[" + std::to_string(k / b.shape(1)) + ", " + std::to_string(k % b.shape(1)) + "]: got " +
             std::to_string(x) + ", want " + std::to_string(y);
  }
  return "";
}

/// max_rel_err_floor over the entries where b is finite (nonfinite_mismatch checks the others).
inline double max_rel_err_finite(const Tensor& a, const Tensor& b, double floor) {
  double m = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double ref = double(b.data()[k]);
    if (!std::isfinite(ref)) continue;
    const double d = std::abs(double(a.data()[k]) - ref) / std::max(floor, std::abs(ref));
    m = std::max(m, std::isnan(d) ? 1e300 : d);
  }
  return m;
}

/// max_k |a_k − b_k| / max(floor, |b_k|): relative, absolute below `floor`.
inline double max_rel_err_floor(const Tensor& a, const Tensor& b, double floor) {
  REQUIRE_MESSAGE(a.shape() == b.shape(), "shapes " << shape_str(a) << " vs " << shape_str(b));
  double m = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double ref = double(b.data()[k]);
    const double d = std::abs(double(a.data()[k]) - ref) / std::max(floor, std::abs(ref));
    m = std::max(m, std::isnan(d) ? 1e300 : d);
  }
  return m;
}

/// Relative tolerance against the torch float64 golden values: 1e-10 in double, 1e-4 in float.
inline const double kTorchTol = double(tolerance(1e-10, 1e-4));

}  // namespace mtlgrad::test
