#pragma once
// Each family of spatial stages registers itself in its own function, called by registry.cpp in
// this order (the order of `mtlgrad list`).
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

void register_basic_aggregators(Registry<Aggregator>& r);   // sum, mean, weighted, pcgrad
void register_memory_aggregators(Registry<Aggregator>& r);  // ada-, rmsprop-, adam-pcgrad, pcgrad-momentum
void register_family_aggregators(Registry<Aggregator>& r);  // mgda, cagrad, gradvac, ...
void register_aggregator_famo(Registry<Aggregator>& r);
void register_aggregator_gradnorm(Registry<Aggregator>& r);
void register_aggregator_sdmgrad(Registry<Aggregator>& r);
void register_aggregator_imtl(Registry<Aggregator>& r);
void register_aggregator_moco(Registry<Aggregator>& r);
void register_aggregator_cr_mogm(Registry<Aggregator>& r);
}  // namespace mtlgrad::detail
