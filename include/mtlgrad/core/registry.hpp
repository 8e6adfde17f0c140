#pragma once
/// @file registry.hpp
/// One registry design for the four kinds of things a config names: models, data sets, spatial
/// stages (aggregators) and temporal stages (optimizers). An entry is
///
///     name      "cagrad"
///     summary   one line: what it is and the paper
///     options   the schema: per option its name, type, default, valid range and a one-line doc
///     make      the factory
///
/// and from the schema alone come: the defaults of a spec, the type check of every option (with
/// the key path in the message), the unknown-key error with "did you mean", the range check, and
/// `mtlgrad list` / `list --json` / `list --markdown` (the README's and docs' option tables are
/// generated from it and a test compares them).
///
/// A spec is a JSON object {"name": "cagrad", "c": 0.4} (or just the name). create() finds the
/// entry (an unknown name is a ConfigError listing what exists), reads every option of the schema
/// out of the spec (absent: the default), rejects unknown keys, and hands the factory the spec
/// with every defaulted option filled in; after the factory, each value is checked against its
/// declared range (a stage's own checks run first, so its messages win).
///
/// Registries are filled by one function per layer at first use (no static-initialisation
/// tricks, which static libraries silently drop); a program that links mtlgrad adds its own
/// entries with add() before it runs anything (docs/extending.md).

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/options.hpp"

namespace mtlgrad {

/// The valid values of an option: a numeric interval (each element, for an array option) or a
/// list of choices. Empty: anything of the option's type.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;
  std::vector<nlohmann::json> choices;

  static Range at_least(double v) { Range r; r.lo = v; return r; }
  static Range above(double v) { Range r; r.lo = v; r.lo_open = true; return r; }
  static Range at_most(double v) { Range r; r.hi = v; return r; }
  /// [lo, hi]
  static Range closed(double lo, double hi) { Range r; r.lo = lo; r.hi = hi; return r; }
  /// [lo, hi)
  static Range half_open(double lo, double hi) { Range r = closed(lo, hi); r.hi_open = true; return r; }
  static Range one_of(std::vector<nlohmann::json> c) { Range r; r.choices = std::move(c); return r; }

  bool empty() const { return choices.empty() && std::isinf(lo) && std::isinf(hi); }
  /// "≥ 0", "> 0", "∈ [0, 1)", "\"random\" | \"fixed\"", "" (any).
  std::string text() const;
  /// Whether `v` (a number, or an array of numbers: every element) lies in the range.
  bool contains(const nlohmann::json& v) const;
};

/// One option of an entry. Make them with option<T>() / required_option<T>() / free_option().
struct OptionSpec {
  std::string name;
  std::string type;               ///< "number", "integer", "boolean", "string", "number[2]", "number[]", "json"
  nlohmann::json default_value;   ///< what an absent option becomes (null for required and free options)
  bool required = false;          ///< the spec must give it
  bool filled = true;             ///< false: absent stays absent (an option whose default depends on others)
  Range range;
  std::string doc;                ///< one line
  /// Reads the option out of `r` (type-checked, ConfigError naming the key path) into out[name].
  std::function<void(OptionReader& r, nlohmann::json& out)> read;
};
using OptionSchema = std::vector<OptionSpec>;

/// The JSON-schema-like type name of T ("number", "integer", "number[2]", ...).
template <class T>
std::string option_type() {
  if constexpr (std::is_same_v<T, bool>) return "boolean";
  else if constexpr (std::is_integral_v<T>) return "integer";
  else if constexpr (std::is_floating_point_v<T>) return "number";
  else if constexpr (std::is_same_v<T, std::string>) return "string";
  else if constexpr (std::is_same_v<T, nlohmann::json>) return "json";
  else if constexpr (std::is_same_v<T, std::vector<typename T::value_type>>)
    return option_type<typename T::value_type>() + "[]";
  else return option_type<typename T::value_type>() + "[" + std::to_string(std::tuple_size<T>::value) + "]";
}

/// An option with a default: absent → `default_value`; present → read as T.
template <class T>
OptionSpec option(std::string name, T default_value, std::string doc, Range range = {}) {
  OptionSpec s{name, option_type<T>(), nlohmann::json(default_value), false, true, std::move(range), std::move(doc), {}};
  s.read = [name, default_value](OptionReader& r, nlohmann::json& out) { out[name] = r.get<T>(name, default_value); };
  return s;
}
/// An option the spec must give ("model: missing required key 'weights'").
template <class T>
OptionSpec required_option(std::string name, std::string doc, Range range = {}) {
  OptionSpec s{name, option_type<T>(), nullptr, true, true, std::move(range), std::move(doc), {}};
  s.read = [name](OptionReader& r, nlohmann::json& out) { out[name] = r.require<T>(name); };
  return s;
}
/// An option the factory reads itself (several types, or a default that depends on other
/// options, described in `doc`); absent stays absent.
OptionSpec free_option(std::string name, std::string doc);

/// {"name": name, option: default, ...} for every option with a default.
nlohmann::json schema_defaults(const std::string& name, const OptionSchema& schema);
/// The schema as JSON (for `mtlgrad list --json`): [{"name", "type", "default", "required",
/// "range", "doc"}, ...].
nlohmann::json schema_json(const OptionSchema& schema);
/// Reads every option of `schema` out of `spec` (an object; "name" allowed): the spec with every
/// defaulted option filled in. Wrong type, missing required or unknown key: ConfigError naming
/// the key path.
nlohmann::json read_schema(const OptionSchema& schema, const nlohmann::json& spec, const std::string& path);
/// Throws ConfigError ("aggregator.c: -1 is out of range (expected ≥ 0)") for the first option
/// of `options` outside its declared range.
void check_ranges(const OptionSchema& schema, const nlohmann::json& options, const std::string& path);

/// An option's value as the docs show it: numbers as the shortest text that reads back as `real`
/// (so that the double and the float build print the same), strings quoted, arrays [a, b].
std::string format_option_value(const nlohmann::json& v);
/// The one-cell summary of a schema, as the README's stage tables show it:
/// "`lr` (1e-3) ≥ 0, `amsgrad` (false)"; "`weights` (required)"; "—" for none.
std::string options_cell(const OptionSchema& schema);

/// No kind-specific facts.
struct NoExtra {};
inline nlohmann::json extra_json(const NoExtra&) { return nlohmann::json::object(); }

/// A registry of `Base` by name. `Extra` carries the kind's own facts per entry (a model's default
/// config, whether it needs data, ...; shown by `mtlgrad list` through extra_json()); `Context`
/// is what the factory gets besides its options (a model: Rngs and data).
template <class Base, class Extra = NoExtra, class... Context>
class Registry {
 public:
  /// Gets the spec with every defaulted option filled in, its key path for messages, the context.
  using Factory = std::function<std::unique_ptr<Base>(const nlohmann::json& options, const std::string& path,
                                                      Context&... ctx)>;
  struct Entry {
    Entry(std::string name_, std::string summary_, OptionSchema options_, Factory make_, Extra extra_ = {})
        : name(std::move(name_)), summary(std::move(summary_)), options(std::move(options_)),
          make(std::move(make_)), extra(std::move(extra_)) {}
    std::string name;
    std::string summary;      ///< one line: what it is and the paper
    OptionSchema options;     ///< every option: type, default, range, doc
    Factory make;
    Extra extra{};
    nlohmann::json defaults;  ///< set by add(): schema_defaults(name, options)
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  /// Adds an entry. A name already taken, or a default outside its own range, throws
  /// std::invalid_argument (a programming error of the one registering).
  void add(Entry e) {
    if (e.name.empty() || !e.make) throw std::invalid_argument(kind_ + ": an entry needs a name and a factory");
    for (const auto& x : entries_)
      if (x.name == e.name) throw std::invalid_argument(kind_ + " '" + e.name + "' is already registered");
    for (const auto& o : e.options)
      if (o.filled && !o.required && !o.range.contains(o.default_value))
        throw std::invalid_argument(kind_ + " '" + e.name + "': the default of '" + o.name + "', " +
                                    o.default_value.dump() + ", is outside its range " + o.range.text());
    e.defaults = schema_defaults(e.name, e.options);
    entries_.push_back(std::move(e));
  }

  const Entry* find(const std::string& name) const {
    for (const auto& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }
  const Entry& at(const std::string& name, const std::string& path) const {
    if (const Entry* e = find(name)) return *e;
    throw ConfigError(path + ".name: unknown " + kind_ + " '" + name + "'" + did_you_mean(name, names()) +
                      "; available: " + join(names()));
  }

  /// The entry named by spec["name"] (a bare string is the name).
  const Entry& entry_of(const nlohmann::json& spec, const std::string& path) const {
    if (spec.is_string()) return at(spec.template get<std::string>(), path);
    if (!spec.is_object()) throw ConfigError(path + ": expected an object {\"name\": ...}, got " + spec.dump());
    auto it = spec.find("name");
    if (it == spec.end()) throw ConfigError(path + ": missing required key 'name'; available: " + join(names()));
    if (!it->is_string()) throw ConfigError(path + ".name: expected a string, got " + it->dump());
    return at(it->template get<std::string>(), path);
  }

  /// Builds from {"name": ..., options...}; `path` names the spec in messages ("optimizer").
  std::unique_ptr<Base> create(const nlohmann::json& spec, const std::string& path, Context&... ctx) const {
    const Entry& e = entry_of(spec, path);
    const nlohmann::json object = spec.is_string() ? nlohmann::json{{"name", spec}} : spec;
    const nlohmann::json filled = read_schema(e.options, object, path);
    auto made = e.make(filled, path, ctx...);
    check_ranges(e.options, filled, path);
    return made;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& e : entries_) n.push_back(e.name);
    return n;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::string& kind() const { return kind_; }

  /// {"name", "summary", "options" (the defaults), "schema", extra...} per entry, for `list --json`.
  nlohmann::json to_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : entries_) {
      nlohmann::json j = {{"name", e.name}, {"summary", e.summary}, {"options", e.defaults},
                          {"schema", schema_json(e.options)}};
      j.update(extra_json(e.extra));
      out.push_back(std::move(j));
    }
    return out;
  }

 private:
  std::string kind_;
  std::vector<Entry> entries_;
};

}  // namespace mtlgrad
