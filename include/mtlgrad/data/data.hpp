#pragma once
/// @file data.hpp
/// Building a data set from a config's "data" object, by name:
///
///     {"name": "mmoe", "n": 2000, "dim": 16, "p": 0.5, "seed": 0}          mmoe.hpp
///     {"name": "teacher", "n": 1000, "tasks": [{"kind": "regression"}]}   teacher.hpp
///     {"name": "multifashion", "n": 6000, "seed": 1}                        multifashion.hpp
///
/// Every generator is deterministic from its "seed" (default 0): a run that wants the data to
/// follow its own seed writes it into the spec. The result is checked (MultiTaskData::check)
/// before it is returned.

#include <string>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/registry.hpp"
#include "mtlgrad/data/dataset.hpp"

namespace mtlgrad {

/// The data sets by name, with their options and defaults (for `mtlgrad list`). A program that
/// links mtlgrad adds its own with data_sets().add(...) before it runs anything (docs/extending.md).
Registry<DataSplit>& data_sets();

/// The training set and the held-out test set described by `spec`; `path` names the spec in
/// messages ("data"). An unknown name or key throws ConfigError naming the key path.
DataSplit make_data(const nlohmann::json& spec, const std::string& path);

}  // namespace mtlgrad
