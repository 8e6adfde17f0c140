#pragma once
// Helpers shared by the tests: fixture paths, tensor comparison with a relative tolerance, and
// REQUIRE_THROWS_WITH_SUBSTR for checking that an error message names what was wrong.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad::test {

inline std::string fixture_path(const std::string& name) { return std::string(MTLGRAD_FIXTURE_DIR) + "/" + name; }

inline nlohmann::json load_fixture(const std::string& name) {
  std::ifstream in(fixture_path(name));
  REQUIRE_MESSAGE(in.good(), "missing fixture " << fixture_path(name));
  return nlohmann::json::parse(in);
}

/// A tensor from a JSON list of rows (fixtures): [[1, 2], [3, 4]].
inline Tensor from_rows(const nlohmann::json& rows) {
  Tensor t = zeros(rows.size(), rows[0].size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j) t(i, j) = rows[i][j].get<real>();
  return t;
}

/// max_k |a_k − b_k| / max(1, |b_k|) — relative error with an absolute floor near zero.
inline double max_rel_err(const Tensor& a, const Tensor& b) {
  REQUIRE_MESSAGE(a.shape() == b.shape(), "shapes " << shape_str(a) << " vs " << shape_str(b));
  double m = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double d = std::abs(double(a.data()[k]) - double(b.data()[k])) / std::max(1.0, std::abs(double(b.data()[k])));
    m = std::max(m, d);
  }
  return m;
}

/// CHECK that `a` matches `b` elementwise within relative tolerance `tol`.
#define CHECK_TENSOR_NEAR(a, b, tol)                                                   \
  do {                                                                                 \
    const double mtlgrad_err_ = ::mtlgrad::test::max_rel_err((a), (b));                \
    CHECK_MESSAGE(mtlgrad_err_ <= (tol), #a " vs " #b ": max rel err " << mtlgrad_err_); \
  } while (0)

/// CHECK that `expr` throws an exception whose what() contains `substr`.
#define CHECK_THROWS_WITH_SUBSTR(expr, substr)                                          \
  do {                                                                                  \
    std::string mtlgrad_msg_ = "<no exception>";                                        \
    try {                                                                               \
      (void)(expr);                                                                     \
    } catch (const std::exception& e) {                                                 \
      mtlgrad_msg_ = e.what();                                                          \
    }                                                                                   \
    CHECK_MESSAGE(mtlgrad_msg_.find(substr) != std::string::npos,                       \
                  "message '" << mtlgrad_msg_ << "' lacks '" << (substr) << "'");       \
  } while (0)

}  // namespace mtlgrad::test
