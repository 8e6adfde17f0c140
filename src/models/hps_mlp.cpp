#include "mtlgrad/models/hps_mlp.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/options.hpp"

namespace mtlgrad::models {

namespace {

// The trunk first, then the heads in task order: the init Rng's draws in that order.
SharedTrunkModel::Parts hps_parts(const HpsMlpOptions& o, const MultiTaskData& train, Rng& init_rng) {
  SharedTrunkModel::Parts p;
  std::vector<std::size_t> sizes = {train.input_dim()};
  sizes.insert(sizes.end(), o.trunk.begin(), o.trunk.end());
  p.trunk = mlp(sizes, o.activation, init_rng, /*activate_last=*/true);
  const std::size_t z = sizes.back();
  for (const TaskSpec& t : train.tasks) {
    std::vector<std::size_t> h = {z};
    h.insert(h.end(), o.head.begin(), o.head.end());
    h.push_back(t.size);  // classes, or regression outputs
    p.heads.push_back(mlp(h, o.activation, init_rng));
  }
  return p;
}

}  // namespace

HpsMlp::HpsMlp(const HpsMlpOptions& o, const DataSplit& data, std::size_t batch_size, Rng init_rng, Rng data_rng)
    : SharedTrunkModel("hps_mlp", hps_parts(o, data.train, init_rng), data, batch_size, data_rng) {}

ModelRegistry::Entry hps_mlp_entry() {
  const HpsMlpOptions d;
  return {"hps_mlp", "hard parameter sharing: a shared MLP trunk and one MLP head per task (needs \"data\")",
          {option("trunk", d.trunk, "hidden sizes of the shared trunk"),
           option("head", d.head, "hidden sizes of each head ([]: one Linear)"),
           option("activation", d.activation, "the activation after every hidden Linear",
                  Range::one_of({"relu", "tanh", "sigmoid", "leaky_relu"}))},
          [](const nlohmann::json& spec, const std::string& path, ModelContext& ctx) -> std::unique_ptr<MultiTaskModel> {
            OptionReader r(spec, path);
            r.declare("name");
            HpsMlpOptions o;
            o.trunk = r.require<std::vector<std::size_t>>("trunk");
            o.head = r.require<std::vector<std::size_t>>("head");
            o.activation = r.require<std::string>("activation");
            for (std::size_t s : o.trunk) r.check(s > 0, "trunk", "positive layer sizes");
            for (std::size_t s : o.head) r.check(s > 0, "head", "positive layer sizes");
            const std::vector<std::string> acts = {"relu", "tanh", "sigmoid", "leaky_relu"};
            if (std::find(acts.begin(), acts.end(), o.activation) == acts.end())
              throw ConfigError(r.key_path("activation") + ": unknown activation '" + o.activation + "'" +
                                did_you_mean(o.activation, acts) + "; allowed: " + join(acts));
            r.finish();
            return std::make_unique<HpsMlp>(o, *ctx.data, ctx.batch_size, ctx.init_rng, ctx.data_rng);
          },
          ModelInfo{true, "models/configs/hps_mlp.json", std::nullopt, std::nullopt}};
}

}  // namespace mtlgrad::models
