#pragma once
// Small helpers of the stages that keep per-task state or need the step's losses: the losses'
// check, softmax, and the readers of a stored state's fields (load_state), each error naming the
// stage and the field. (The loss holder of db-mtl, stch and gls is optim/stage_losses.hpp.)
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad::detail {

/// Throws std::invalid_argument("<stage>: <what>: ...") for an empty list or a non-finite loss.
inline void check_losses(const std::string& stage, const char* what, const std::vector<real>& losses) {
  if (losses.empty()) throw std::invalid_argument(stage + ": " + what + ": empty list of losses");
  for (std::size_t i = 0; i < losses.size(); ++i)
    if (!std::isfinite(losses[i]))
      throw std::invalid_argument(stage + ": " + what + ": non-finite loss of task " + std::to_string(i) + " (" +
                                  std::to_string(losses[i]) + ")");
}

/// out = softmax(x) = exp(x − max x) / Σ exp(…).
inline void softmax(const std::vector<real>& x, std::vector<real>& out) {
  out.resize(x.size());
  if (x.empty()) return;
  const real top = *std::max_element(x.begin(), x.end());
  real sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += (out[i] = std::exp(x[i] - top));
  for (real& v : out) v /= sum;
}

/// "tasks" of a stored state: T (0 before the first step).
inline std::size_t state_tasks(const std::string& stage, const nlohmann::json& s) {
  if (!s.is_object() || !s.contains("tasks") || !s["tasks"].is_number_integer() || s["tasks"].get<long long>() < 0)
    throw std::invalid_argument(stage + ": load_state: expected an object with \"tasks\": T, got " +
                                s.dump().substr(0, 80));
  return s["tasks"].get<std::size_t>();
}

/// The list of n finite numbers s[key] (finite as `real`; [] too when `may_be_empty`).
inline std::vector<real> state_list(const std::string& stage, const nlohmann::json& s, const char* key, std::size_t n,
                                    bool may_be_empty = false) {
  const std::string what = stage + ": load_state: '" + key + "'";
  if (!s.is_object() || !s.contains(key) || !s[key].is_array())
    throw std::invalid_argument(what + " is missing or not an array");
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

/// A non-negative integer at s[key].
inline std::size_t state_count(const std::string& stage, const nlohmann::json& s, const char* key) {
  if (!s.is_object() || !s.contains(key) || !s[key].is_number_integer() || s[key].get<long long>() < 0)
    throw std::invalid_argument(stage + ": load_state: '" + key + "' is missing or not a non-negative integer");
  return s[key].get<std::size_t>();
}

/// A boolean at s[key].
inline bool state_flag(const std::string& stage, const nlohmann::json& s, const char* key) {
  if (!s.contains(key) || !s[key].is_boolean())
    throw std::invalid_argument(stage + ": load_state: '" + key + "' is missing or not a boolean");
  return s[key].get<bool>();
}

/// Throws "<stage>: <option> = <v> is out of range (expected <range>)" unless ok.
inline void check_option(bool ok, const std::string& stage, const char* option, real v, const char* range) {
  if (!ok)
    throw std::invalid_argument(stage + ": " + option + " = " + nlohmann::json(double(v)).dump() +
                                " is out of range (expected " + range + ")");
}

}  // namespace mtlgrad::detail
