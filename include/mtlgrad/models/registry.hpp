#pragma once
/// @file registry.hpp
/// The models layer's registry: a config's "model" section names an entry here. The trainer's
/// layer (mtl/) knows only MultiTaskModel; which models exist, what data they train on and how
/// they are built is this layer's.
///
/// A program that links mtlgrad registers its own model before it runs anything:
///
///     mtlgrad::model_registry().add({"my_mlp", "a two-task MLP",
///                            {mtlgrad::option<std::size_t>("hidden", 32, "trunk width", mtlgrad::Range::at_least(1))},
///                            [](const nlohmann::json& o, const std::string&, mtlgrad::ModelContext& ctx)
///                                -> std::unique_ptr<mtlgrad::MultiTaskModel> { ... },
///                            mtlgrad::ModelInfo{true, ""}});
///
/// (docs/extending.md has the whole example, and mtlgrad/models/shared_trunk.hpp the short way to build one.)

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/registry.hpp"
#include "mtlgrad/core/rng.hpp"
#include "mtlgrad/data/dataset.hpp"
#include "mtlgrad/mtl/model.hpp"

namespace mtlgrad {

/// What a model factory gets besides its own "model" section.
struct ModelContext {
  Rng init_rng;                 ///< initialises the parameters
  Rng data_rng;                 ///< orders the mini-batches
  const DataSplit* data = nullptr;  ///< the config's "data" section, built; nullptr without one
  std::size_t batch_size = 32;  ///< the config's "batch_size"
};

/// The landscape drawn under the path of a model whose parameter is one point x ∈ R² (logged as
/// the metrics columns x_0, x_1): the run layer (run/plots.hpp) draws trajectory.png from it
/// without knowing which model it is.
struct PlaneLandscape {
  double lo = -10, hi = 10;  ///< the square [lo, hi]² drawn
  std::string value_label;   ///< what value() gives, in gnuplot's enhanced text ("f_1 + f_2")
  /// The shaded value at each row of an (n, 2) tensor of points, n numbers.
  std::function<std::vector<double>(const Tensor& points)> value;
  std::vector<std::array<double, 2>> pareto_set;  ///< a polyline drawn in red as "Pareto set" (may be empty)
};

/// Where a model's current parameters lie relative to its exactly known Pareto set (a model with
/// KnownFront; models/pareto_front.hpp has the geometry and the hypervolume).
struct ParetoMeasure {
  double distance = 0;             ///< Euclidean distance of the parameters to the Pareto set
  std::vector<double> nearest;     ///< the closest point of the Pareto set (the parameters' layout)
  std::vector<double> weights;     ///< its task weights w (Σ w = 1): that point minimises Σ w_i f_i
  std::vector<double> reference;   ///< the hypervolume reference point of the model's losses
};

/// A model whose Pareto set is known exactly: the run layer writes summary.json's "pareto" and the
/// sweep's front plot from it without knowing which model it is.
struct KnownFront {
  /// The measure at the model's current parameters (the model is the one the entry built).
  std::function<ParetoMeasure(MultiTaskModel& model)> measure;
  /// About n loss vectors spread over the true Pareto front, for plots.
  std::function<std::vector<std::vector<double>>(MultiTaskModel& model, std::size_t n)> front;
};

/// A model's own facts besides its options.
struct ModelInfo {
  bool needs_data = false;     ///< the config must have a "data" section (and must not without)
  std::string default_config;  ///< its default experiment config, relative to the source tree ("" if none)
  std::optional<PlaneLandscape> landscape;  ///< set for a model whose parameter is a point of the plane
  std::optional<KnownFront> pareto;         ///< set for a model whose Pareto set is known exactly
};
inline nlohmann::json extra_json(const ModelInfo& i) {
  return {{"needs_data", i.needs_data}, {"default_config", i.default_config}};
}

using ModelRegistry = Registry<MultiTaskModel, ModelInfo, ModelContext>;

/// Every registered model (toy2d, hps_mlp, lenet, then any a program adds).
ModelRegistry& model_registry();

/// Builds the model named by spec["name"]; an unknown name lists what exists. A model with data
/// without a "data" section (or the reverse) is a ConfigError.
std::unique_ptr<MultiTaskModel> make_model(const nlohmann::json& spec, const std::string& path, ModelContext& ctx);

}  // namespace mtlgrad
