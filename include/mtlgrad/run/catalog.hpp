#pragma once
/// @file catalog.hpp
/// Everything a config can name, as data: every model, data set, spatial stage, temporal stage and
/// run extension with its options schema (each option's type, default, range and meaning). It is
/// `mtlgrad list --json`'s output and what `mtlgrad serve` hands its page to build the stage forms.

#include <nlohmann/json.hpp>

namespace mtlgrad {

/// {"models", "data_sets", "aggregators", "optimizers", "run_extensions"}: each a list of
/// {"name", "summary", "options"} in registry order.
nlohmann::json catalog_json();

}  // namespace mtlgrad
