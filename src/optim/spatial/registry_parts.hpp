#pragma once
// Each family of spatial stages registers itself in its own function, called by registry.cpp in
// this order (the order of `mtlgrad list`).
#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad::detail {

/// A registry factory from `read`, which takes an OptionReader (with "name" declared), reads the
/// options and returns a maker; unknown keys are then an error, and a range error thrown by the
/// stage's constructor is prefixed with the spec's path ("aggregator: rho = 2 is out of range").
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

void register_basic_aggregators(Registry<Aggregator>& r);   // sum, mean, weighted, pcgrad
void register_memory_aggregators(Registry<Aggregator>& r);  // ada-, rmsprop-, adam-pcgrad, pcgrad-momentum
void register_family_aggregators(Registry<Aggregator>& r);  // mgda, cagrad, gradvac, ... (ALGORITHMS §2)
}  // namespace mtlgrad::detail
