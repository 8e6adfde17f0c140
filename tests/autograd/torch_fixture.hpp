#pragma once
// Reading tests/fixtures/autograd_torch.json (written by tools/gen_autograd_fixtures.py): tensors as
// nested 2-D lists, compared relatively with a chosen floor.
#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace mtlgrad::test {

/// A tensor from a 2-D JSON list [[...], ...].
inline Tensor nested(const nlohmann::json& j) {
  const std::size_t r = j.size(), c = r ? j[0].size() : 0;
  Tensor t = zeros(r, c);
  for (std::size_t i = 0; i < r; ++i) {
    REQUIRE(j[i].size() == c);
    for (std::size_t k = 0; k < c; ++k) t(i, k) = real(j[i][k].get<double>());
  }
  return t;
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
