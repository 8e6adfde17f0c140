#include "mtlgrad/core/options.hpp"
#include "mtlgrad/mtl/model.hpp"
#include "models/hps_mlp.hpp"
#include "models/toy2d.hpp"

namespace mtlgrad {

const std::vector<ModelEntry>& model_registry() {
  static const std::vector<ModelEntry> r = {models::toy2d_entry(), models::hps_mlp_entry()};
  return r;
}

std::unique_ptr<MultiTaskModel> make_model(const nlohmann::json& spec, const std::string& path, ModelContext& ctx) {
  if (!spec.is_object()) throw ConfigError(path + ": expected an object {\"name\": ...}, got " + spec.dump());
  std::vector<std::string> names;
  for (const auto& e : model_registry()) names.push_back(e.name);
  auto it = spec.find("name");
  if (it == spec.end() || !it->is_string())
    throw ConfigError(path + ".name: missing or not a string; available: " + join(names));
  const std::string name = it->get<std::string>();
  for (const auto& e : model_registry())
    if (e.name == name) {
      if (e.needs_data && !ctx.data)
        throw ConfigError("data: the model '" + name + "' trains on data; the config needs a \"data\" section " +
                          "(e.g. {\"name\": \"teacher\"}); see mtlgrad list");
      if (!e.needs_data && ctx.data)
        throw ConfigError("data: the model '" + name + "' takes no data; remove the \"data\" section");
      return e.make(spec, path, ctx);
    }
  throw ConfigError(path + ".name: unknown model '" + name + "'" + did_you_mean(name, names) +
                    "; available: " + join(names));
}

}  // namespace mtlgrad
