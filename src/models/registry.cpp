#include "mtlgrad/models/registry.hpp"

#include "mtlgrad/models/hps_mlp.hpp"
#include "mtlgrad/models/pareto_mtl.hpp"
#include "mtlgrad/models/quadratics.hpp"
#include "mtlgrad/models/lenet.hpp"
#include "mtlgrad/models/toy2d.hpp"

namespace mtlgrad {

ModelRegistry& model_registry() {
  static ModelRegistry r = [] {
    ModelRegistry reg("model");
    reg.add(models::toy2d_entry());
    reg.add(models::hps_mlp_entry());
    reg.add(models::pareto_mtl_entry());
    reg.add(models::quadratics_entry());
    reg.add(models::lenet_entry());
    return reg;
  }();
  return r;
}

std::unique_ptr<MultiTaskModel> make_model(const nlohmann::json& spec, const std::string& path, ModelContext& ctx) {
  if (!spec.is_object()) throw ConfigError(path + ": expected an object {\"name\": ...}, got " + spec.dump());
  auto it = spec.find("name");
  if (it == spec.end() || !it->is_string())
    throw ConfigError(path + ".name: missing or not a string; available: " + join(model_registry().names()));
  const std::string name = it->get<std::string>();
  const auto& e = model_registry().at(name, path);
  if (e.extra.needs_data && !ctx.data)
    throw ConfigError("data: the model '" + name + "' trains on data; the config needs a \"data\" section " +
                      "(e.g. {\"name\": \"teacher\"}); see mtlgrad list");
  if (!e.extra.needs_data && ctx.data)
    throw ConfigError("data: the model '" + name + "' takes no data; remove the \"data\" section");
  return model_registry().create(spec, path, ctx);
}

}  // namespace mtlgrad
