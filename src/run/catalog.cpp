#include "mtlgrad/run/catalog.hpp"

#include "mtlgrad/data/data.hpp"
#include "mtlgrad/models/registry.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/optimizer.hpp"
#include "mtlgrad/run/observer.hpp"

namespace mtlgrad {

nlohmann::json catalog_json() {
  nlohmann::json extensions = nlohmann::json::array();
  for (const auto& o : run_observers())
    extensions.push_back({{"name", o.key}, {"summary", o.summary}, {"options", o.defaults}});
  return {{"models", model_registry().to_json()},
          {"data_sets", data_sets().to_json()},
          {"aggregators", aggregators().to_json()},
          {"optimizers", optimizers().to_json()},
          {"run_extensions", extensions}};
}

}  // namespace mtlgrad
