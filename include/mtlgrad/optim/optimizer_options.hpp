#pragma once
/// @file optimizer_options.hpp
/// Typed optimizer options: range checks with messages that name the optimizer, the option, its
/// value and the valid range, and one generic reader/writer for every options struct.
///
/// An options struct lists its fields once, in a static `fields` function, each with its doc and
/// valid range, and the JSON reader, the JSON writer, the registry's schema (hence `mtlgrad list`
/// and the docs' option tables) all go through it:
///
///     struct AdamOptions {
///       real lr = 1e-3;
///       ...
///       void validate(const std::string& who = "adam") const;
///       template <class Self, class F> static void fields(Self& o, F&& f) {
///         f("lr", o.lr, "learning rate η", Range::at_least(0)); ...
///       }
///     };
///
/// optimizer_entry<Adam, AdamOptions>(name, summary) is then the whole registry entry.
///
/// The names, defaults and checks are torch.optim 1.13's (torch/optim/*.py), so that a config
/// written for PyTorch reads the same here.

#include <string>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/registry.hpp"
#include "mtlgrad/optim/optimizer.hpp"
#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

/// The shortest text that reads back to `v` as a `real` ("1", "0.999", "1e-08", "-0.5").
std::string format_real(real v);

/// Throws std::invalid_argument("<who>: <option> = <value> is out of range (expected <expected>)")
/// unless `ok`; e.g. "adam: betas[0] = 1 is out of range (expected 0 <= beta < 1)".
void check_option(bool ok, const std::string& who, const std::string& option, real value,
                  const std::string& expected);

/// check_option(v >= 0 and finite, who, option, v, ">= 0").
void check_nonnegative(const std::string& who, const std::string& option, real v);
/// check_option(0 <= v < 1, who, option, v, "0 <= <what> < 1"), e.g. what = "beta".
void check_below_one(const std::string& who, const std::string& option, real v, const std::string& what);

/// Reads every field of `Options` from the reader (absent keys keep the struct's default; a value
/// of the wrong type is a ConfigError naming the key path).
template <class Options>
Options read_options(OptionReader& r) {
  Options o;
  Options::fields(o, [&r](const char* key, auto& field, auto&&...) { field = r.get(key, field); });
  return o;
}

/// {"name": name, field: value, ...} for every field of `Options`.
template <class Options>
nlohmann::json options_json(const std::string& name, const Options& o) {
  nlohmann::json j = {{"name", name}};
  Options::fields(o, [&j](const char* key, const auto& field, auto&&...) { j[key] = field; });
  return j;
}

/// The registry schema of `Options`: every field with its default (the struct's), doc and range.
template <class Options>
OptionSchema schema_of() {
  OptionSchema s;
  Options o;
  Options::fields(o, [&s](const char* key, const auto& field, const char* doc, const Range& range) {
    s.push_back(option(key, field, doc, range));
  });
  return s;
}

/// The registry entry of an optimizer `Opt` built from `Options` (constructor Opt(Options), which
/// validates): reads the options, and turns a range error into a ConfigError naming the path
/// ("optimizer: adam: betas[0] = 1 is out of range (expected 0 <= beta < 1)").
template <class Opt, class Options>
Registry<Optimizer>::Entry optimizer_entry(const std::string& name, const std::string& summary) {
  return {name, summary, schema_of<Options>(),
          [](const nlohmann::json& spec, const std::string& path) -> std::unique_ptr<Optimizer> {
            OptionReader r(spec, path);
            r.declare("name");
            const Options o = read_options<Options>(r);
            r.finish();
            try {
              return std::make_unique<Opt>(o);
            } catch (const std::invalid_argument& e) {
              throw ConfigError(path + ": " + e.what());
            }
          }};
}

}  // namespace mtlgrad
