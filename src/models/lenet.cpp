#include "mtlgrad/models/lenet.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/nn/conv.hpp"

namespace mtlgrad::models {

namespace {

// The side S of the data's square images (inputs of S·S columns).
std::size_t image_side(const MultiTaskData& d) {
  const std::size_t n = d.input_dim();
  auto s = std::size_t(std::lround(std::sqrt(double(n))));
  if (s * s != n)
    throw std::invalid_argument("lenet: the data's inputs have " + std::to_string(n) +
                                " columns, not a square one-channel image (S·S pixels)");
  // conv 9 → pool 2 → conv 5 → pool 2 needs ((S − 8)/2 − 4)/2 ≥ 1.
  if (s < 22)
    throw std::invalid_argument("lenet: images of " + std::to_string(s) + "×" + std::to_string(s) +
                                " are too small for the trunk (at least 22×22)");
  return s;
}

SharedTrunkModel::Parts lenet_parts(const LeNetOptions& o, const MultiTaskData& train, Rng& init_rng) {
  const std::size_t side = image_side(train);
  for (const TaskSpec& t : train.tasks)
    if (t.kind != TaskSpec::Kind::classification)
      throw std::invalid_argument("lenet: task '" + t.name + "' is not a classification task; LeNet's heads are classifiers");
  SharedTrunkModel::Parts p;
  auto trunk = std::make_unique<Sequential>();
  const Conv2d& c1 = trunk->add<Conv2d>(ImageShape{1, side, side}, 10, 9, init_rng);
  const MaxPool2d& p1 = trunk->add<MaxPool2d>(c1.output(), 2);
  trunk->add<ReLU>();
  const Conv2d& c2 = trunk->add<Conv2d>(p1.output(), 20, 5, init_rng);
  const MaxPool2d& p2 = trunk->add<MaxPool2d>(c2.output(), 2);
  trunk->add<ReLU>();
  trunk->add<Linear>(p2.output().size(), o.hidden, init_rng);
  trunk->add<ReLU>();
  p.trunk = std::move(trunk);
  for (const TaskSpec& t : train.tasks) {
    auto head = std::make_unique<Sequential>();
    head->add<Linear>(o.hidden, t.size, init_rng);
    p.heads.push_back(std::move(head));
  }
  return p;
}

}  // namespace

LeNet::LeNet(const LeNetOptions& o, const DataSplit& data, std::size_t batch_size, Rng init_rng, Rng data_rng)
    : SharedTrunkModel("lenet", lenet_parts(o, data.train, init_rng), data, batch_size, data_rng) {}

ModelRegistry::Entry lenet_entry() {
  const LeNetOptions d;
  return {"lenet",
          "LeNet of Sener & Koltun 2018 / Lin et al. 2019: shared conv trunk, one Linear head per task (needs "
          "image \"data\", e.g. multifashion with canvas)",
          {option("hidden", d.hidden, "width of the shared representation (the trunk's last Linear)",
                  Range::at_least(1))},
          [](const nlohmann::json& spec, const std::string& path, ModelContext& ctx) -> std::unique_ptr<MultiTaskModel> {
            OptionReader r(spec, path);
            r.declare("name");
            LeNetOptions o;
            o.hidden = r.require<std::size_t>("hidden");
            r.check(o.hidden > 0, "hidden", "a positive width");
            r.finish();
            try {
              return std::make_unique<LeNet>(o, *ctx.data, ctx.batch_size, ctx.init_rng, ctx.data_rng);
            } catch (const std::invalid_argument& e) {
              throw ConfigError(path + ": " + e.what());
            }
          },
          ModelInfo{true, "models/configs/lenet.json", std::nullopt, std::nullopt}};
}

}  // namespace mtlgrad::models
