#pragma once
/// @file options.hpp
/// Reading typed options out of a JSON object, with errors that name the key path and what was
/// expected, and a "did you mean" for unknown keys. Every stage, model and config section reads
/// its options through an OptionReader:
///
///     OptionReader r(j, "optimizer");           // j must be an object
///     o.lr    = r.get<real>("lr", o.lr);        // absent: the default; wrong type: ConfigError
///     o.betas = r.get<std::array<real, 2>>("betas", o.betas);
///     r.finish();                               // any key not read: ConfigError with suggestions
///
/// ConfigError derives from std::invalid_argument; its message starts with the key path
/// ("optimizer.lr: ...").

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Levenshtein distance (for suggestions).
std::size_t edit_distance(const std::string& a, const std::string& b);
/// " (did you mean 'x'?)" for the closest candidate within a small distance (case ignored), else "".
std::string did_you_mean(const std::string& key, const std::vector<std::string>& candidates);
/// "a, b, c"
std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");
/// The JSON type name as a user would say it: "number", "string", "array", ...
std::string json_type(const nlohmann::json& j);

class OptionReader {
 public:
  /// `path` names the object in messages ("optimizer", "model.layers[2]").
  OptionReader(const nlohmann::json& j, std::string path);

  /// The value of `key`, or `fallback` when absent. A value of the wrong type throws ConfigError
  /// ("optimizer.lr: expected a number, got string \"fast\"").
  template <class T>
  T get(const std::string& key, const T& fallback) {
    declare(key);
    auto it = j_.find(key);
    if (it == j_.end()) return fallback;
    return convert<T>(*it, key);
  }
  /// The value of `key`; absent throws ConfigError ("model: missing required key 'start'").
  template <class T>
  T require(const std::string& key) {
    declare(key);
    auto it = j_.find(key);
    if (it == j_.end())
      throw ConfigError((path_.empty() ? std::string("config") : path_) + ": missing required key '" + key + "'");
    return convert<T>(*it, key);
  }
  bool has(const std::string& key) const { return j_.contains(key); }
  /// The raw JSON value of `key` (nullptr if absent); marks it as read.
  const nlohmann::json* raw(const std::string& key);
  /// Marks `key` as known without reading it (e.g. "name", read by the registry).
  void declare(const std::string& key);

  /// Throws ConfigError for the first condition that fails: "optimizer.lr: -1 is out of range
  /// (expected >= 0)".
  void check(bool ok, const std::string& key, const std::string& expected) const;

  /// Throws ConfigError naming every key that was not read, with suggestions and the allowed keys.
  void finish() const;

  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  template <class T>
  T convert(const nlohmann::json& v, const std::string& key) const;
  [[noreturn]] void type_error(const nlohmann::json& v, const std::string& key,
                               const std::string& expected) const;

  const nlohmann::json& j_;
  std::string path_;
  std::vector<std::string> known_;
};

/// Number-valued options accept JSON numbers only; booleans are not numbers.
template <class T>
T OptionReader::convert(const nlohmann::json& v, const std::string& key) const {
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) type_error(v, key, "true or false");
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    // Whole numbers within T's range only: never a silent wrap, never an out-of-range cast.
    using L = std::numeric_limits<T>;
    if (v.is_number_unsigned()) {
      if (v.get<std::uint64_t>() <= std::uint64_t(L::max())) return T(v.get<std::uint64_t>());
    } else if (v.is_number_integer()) {
      const std::int64_t i = v.get<std::int64_t>();
      if (i >= std::int64_t(L::min()) && (i < 0 || std::uint64_t(i) <= std::uint64_t(L::max()))) return T(i);
    } else if (v.is_number_float()) {
      const double d = v.get<double>(), bound = std::ldexp(1.0, L::digits);  // 2^digits: beyond T
      if (d == std::floor(d) && d < bound && d >= (L::is_signed ? -bound : 0.0)) return T(d);
    }
    type_error(v, key, std::is_unsigned_v<T> ? "a non-negative integer" : "an integer");
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) type_error(v, key, "a number");
    return T(v.get<double>());
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) type_error(v, key, "a string");
    return v.get<std::string>();
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return v;
  } else {
    // Arrays of numbers (std::vector<real>, std::array<real, N>, std::vector<std::string>).
    if (!v.is_array()) type_error(v, key, "an array");
    using E = typename T::value_type;
    T out{};
    if constexpr (!std::is_same_v<T, std::vector<E>>) {
      if (v.size() != out.size())
        type_error(v, key, "an array of " + std::to_string(out.size()) + " values");
    } else {
      out.resize(v.size());
    }
    for (std::size_t i = 0; i < v.size(); ++i)
      out[i] = convert<E>(v[i], key + "[" + std::to_string(i) + "]");
    return out;
  }
}

}  // namespace mtlgrad
