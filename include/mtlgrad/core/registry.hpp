#pragma once
/// @file registry.hpp
/// A registry from name to factory, for optimizers, aggregators and models. A spec is a JSON object
/// {"name": "adam", "lr": 1e-3, ...}; create() finds the name (an unknown one is a ConfigError that
/// lists what exists) and hands the whole object to the factory, which reads its options with an
/// OptionReader (declaring "name") and rejects unknown keys.
///
/// Registries are filled explicitly by one function per layer (no static-initialisation tricks,
/// which static libraries silently drop).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/options.hpp"

namespace mtlgrad {

template <class Base>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Base>(const nlohmann::json& spec, const std::string& path)>;
  struct Entry {
    std::string name;
    std::string summary;            ///< one line: what it is and the paper
    nlohmann::json defaults;        ///< every option with its default (for `mtlgrad list`)
    Factory make;
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(Entry e) { entries_.push_back(std::move(e)); }

  const Entry& at(const std::string& name, const std::string& path) const {
    for (const auto& e : entries_)
      if (e.name == name) return e;
    throw ConfigError(path + ".name: unknown " + kind_ + " '" + name + "'" + did_you_mean(name, names()) +
                      "; available: " + join(names()));
  }

  /// Builds from {"name": ..., options...}; `path` names the spec in messages ("optimizer").
  std::unique_ptr<Base> create(const nlohmann::json& spec, const std::string& path) const {
    if (spec.is_string()) return create(nlohmann::json{{"name", spec}}, path);
    if (!spec.is_object()) throw ConfigError(path + ": expected an object {\"name\": ...}, got " + spec.dump());
    auto it = spec.find("name");
    if (it == spec.end()) throw ConfigError(path + ": missing required key 'name'; available: " + join(names()));
    if (!it->is_string()) throw ConfigError(path + ".name: expected a string, got " + it->dump());
    return at(it->template get<std::string>(), path).make(spec, path);
  }

  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& e : entries_) n.push_back(e.name);
    return n;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::vector<Entry> entries_;
};

}  // namespace mtlgrad
