// A data set and a model of one's own. "sines": x ~ U(−π, π)^dim; task "sin" regresses sin(Σx),
// task "cos_sign" classifies cos(Σx) > 0. "two_head_mlp": a shared MLP trunk and one Linear head
// per task, built by SharedTrunkModel (the losses follow the data: mse, cross-entropy).
#include <cmath>

#include "extensions.hpp"
#include "mtlgrad/data/data.hpp"
#include "mtlgrad/models/registry.hpp"
#include "mtlgrad/models/shared_trunk.hpp"

using namespace mtlgrad;

void register_my_model() {
  data_sets().add({"sines", "x ~ U(-pi, pi)^dim; task 0: sin(sum x), task 1: cos(sum x) > 0 (2 classes)",
                   {option<std::size_t>("n", 256, "rows, a quarter of them held out", Range::at_least(8)),
                    option<std::size_t>("dim", 2, "input dimension", Range::at_least(1)),
                    option<std::uint64_t>("seed", 0, "seeds the draw")},
                   [](const nlohmann::json& o, const std::string&) {
                     const auto n = o["n"].get<std::size_t>(), dim = o["dim"].get<std::size_t>();
                     Rng rng(o["seed"].get<std::uint64_t>());
                     const real pi = real(3.14159265358979323846);
                     MultiTaskData d;
                     d.inputs = zeros(n, dim);
                     d.targets = {zeros(n, 1), zeros(n, 1)};
                     d.tasks = {TaskSpec::regression("sin"), TaskSpec::classification("cos_sign", 2)};
                     for (std::size_t r = 0; r < n; ++r) {
                       real s = 0;
                       for (std::size_t c = 0; c < dim; ++c) s += d.inputs(r, c) = rng.uniform(-pi, pi);
                       d.targets[0](r, 0) = std::sin(s);
                       d.targets[1](r, 0) = std::cos(s) > 0 ? 1 : 0;
                     }
                     return std::make_unique<DataSplit>(split_train_test(d, n / 4, rng));
                   }});

  model_registry().add(
      {"two_head_mlp", "a shared MLP trunk and one Linear head per task (needs \"data\")",
       {option<std::size_t>("hidden", 32, "width of the trunk's two layers", Range::at_least(1))},
       [](const nlohmann::json& o, const std::string&, ModelContext& ctx) -> std::unique_ptr<MultiTaskModel> {
         const auto h = o["hidden"].get<std::size_t>();
         const MultiTaskData& train = ctx.data->train;
         auto trunk = mlp({train.input_dim(), h, h}, "relu", ctx.init_rng, /*activate_last=*/true);
         std::vector<std::unique_ptr<Module>> heads;
         for (const TaskSpec& t : train.tasks) heads.push_back(std::make_unique<Linear>(h, t.size, ctx.init_rng));
         return std::make_unique<SharedTrunkModel>("two_head_mlp", std::move(trunk), std::move(heads), *ctx.data,
                                                   ctx.batch_size, ctx.data_rng);
       },
       ModelInfo{/*needs_data=*/true, /*default_config=*/""}});
}
