#include "mtlgrad/core/options.hpp"

#include <algorithm>
#include <cctype>

namespace mtlgrad {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string did_you_mean(const std::string& key, const std::vector<std::string>& candidates) {
  // Case does not count: "Adam" and "PCGRAD" are a case away from 'adam' and 'pcgrad'.
  const auto lower = [](std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  const std::string k = lower(key);
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, key.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(k, lower(c));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string json_type(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "number";
    default: return "value";
  }
}

OptionReader::OptionReader(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {
  if (!j_.is_object())
    throw ConfigError((path_.empty() ? std::string("config") : path_) + ": expected an object, got " +
                      json_type(j_) + " " + j_.dump());
}

const nlohmann::json* OptionReader::raw(const std::string& key) {
  declare(key);
  auto it = j_.find(key);
  return it == j_.end() ? nullptr : &*it;
}

void OptionReader::declare(const std::string& key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
}

void OptionReader::check(bool ok, const std::string& key, const std::string& expected) const {
  if (ok) return;
  auto it = j_.find(key);
  const std::string shown = it == j_.end() ? std::string("the default") : it->dump();
  throw ConfigError(key_path(key) + ": " + shown + " is out of range (expected " + expected + ")");
}

void OptionReader::finish() const {
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (std::find(known_.begin(), known_.end(), it.key()) != known_.end()) continue;
    throw ConfigError(key_path(it.key()) + ": unknown key" + did_you_mean(it.key(), known_) +
                      "; allowed: " + join(known_));
  }
}

void OptionReader::type_error(const nlohmann::json& v, const std::string& key,
                              const std::string& expected) const {
  std::string shown = v.dump();
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  throw ConfigError(key_path(key) + ": expected " + expected + ", got " + json_type(v) + " " + shown);
}

}  // namespace mtlgrad
