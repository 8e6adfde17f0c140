#pragma once
// Readers for the fields of a stage's stored state (load_state) shared by the loss- and
// moment-based stages; every error names the stage and the field.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad::detail {

/// s must be an object; returns the non-negative integer s[key].
inline std::uint64_t state_count(const std::string& stage, const nlohmann::json& s, const char* key) {
  if (!s.is_object() || !s.contains(key) || !s[key].is_number_integer() || s[key].get<long long>() < 0)
    throw std::invalid_argument(stage + ": load_state: expected an object with \"" + key +
                                "\": a non-negative integer, got " + s.dump().substr(0, 80));
  return s[key].get<std::uint64_t>();
}

/// The list of n finite numbers s[key] ([] too when `may_be_empty`).
inline std::vector<real> state_list(const std::string& stage, const nlohmann::json& s, const char* key, std::size_t n,
                                    bool may_be_empty) {
  const std::string what = stage + ": load_state: '" + key + "'";
  if (!s.contains(key) || !s[key].is_array()) throw std::invalid_argument(what + " is missing or not an array");
  std::vector<real> v;
  for (const auto& x : s[key]) {
    if (!x.is_number()) throw std::invalid_argument(what + " holds " + x.dump() + ", expected numbers");
    v.push_back(x.get<real>());
    if (!std::isfinite(v.back())) throw std::invalid_argument(what + " holds a non-finite number");
  }
  if (v.size() != n && !(may_be_empty && v.empty()))
    throw std::invalid_argument(what + " has " + std::to_string(v.size()) + " values, expected " + std::to_string(n));
  return v;
}

}  // namespace mtlgrad::detail
