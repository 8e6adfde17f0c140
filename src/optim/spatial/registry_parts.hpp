#pragma once
// What the spatial stages' registry entries share. Each stage defines
// `void detail::register_aggregator_<id>(Registry<Aggregator>&)` in its own source; registry.cpp
// calls them through the list cmake/stage_list.cmake generates (docs/extending.md).
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/pcgrad.hpp"

namespace mtlgrad::detail {

/// The options shared by the pcgrad family (pcgrad.hpp's SurgeryOptions).
inline OptionSchema surgery_schema(OptionSchema more = {}) {
  OptionSchema s = {
      option<std::string>("order", "random", "the order π_i of the projections: a fresh random one per step, or 1..T",
                          Range::one_of({"random", "fixed"})),
      option<std::string>("reduction", "sum", "d = Σ_i g_i' or its mean", Range::one_of({"sum", "mean"}))};
  s.insert(s.end(), more.begin(), more.end());
  return s;
}

/// A registry factory from `read`, which takes an OptionReader over the spec with every option
/// filled in (so it reads each with require()) and returns a maker; an option of the schema the
/// factory does not read is an error (finish()), and a range error thrown by the stage's
/// constructor is prefixed with the spec's path ("aggregator: rho = 2 is out of range").
template <class Read>
Registry<Aggregator>::Factory factory(Read read) {
  return [read](const nlohmann::json& spec, const std::string& path) -> std::unique_ptr<Aggregator> {
    OptionReader o(spec, path);
    o.declare("name");
    auto make = read(o);
    o.finish();
    try {
      return make();
    } catch (const ConfigError&) {
      throw;
    } catch (const std::invalid_argument& e) {
      throw ConfigError(path + ": " + e.what());
    }
  };
}

/// The factory of a stage without options.
template <class Stage>
Registry<Aggregator>::Factory no_options() {
  return factory([](OptionReader&) { return [] { return std::make_unique<Stage>(); }; });
}

/// The preference u of the stages that weigh towards one (aligned-mtl, upgrad, dualproj).
inline OptionSpec preference() {
  return option<std::vector<real>>("weights", {}, "the preference u, one per task ([] = 1/T each)");
}

}  // namespace mtlgrad::detail
