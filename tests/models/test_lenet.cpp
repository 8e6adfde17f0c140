// The LeNet model against torch (tests/fixtures/conv_torch.json's "lenet", written by
// tools/gen_conv_fixtures.py): losses and every per-task gradient, by the batched sweep and by one
// sweep per task; its shapes, registry entry and errors.
#include "test_util.hpp"

#include <cmath>

#include <xtensor/xview.hpp>

#include "mtlgrad/models/lenet.hpp"
#include "mtlgrad/mtl/task_gradients.hpp"
#include "mtlgrad/nn/conv.hpp"

using namespace mtlgrad;
using nlohmann::json;
using mtlgrad::test::from_rows;

namespace {

// n random 36×36 images (side × side) and two 10-class tasks with random labels.
DataSplit images(std::size_t n, std::size_t side, Rng& rng) {
  DataSplit d;
  d.train.inputs = rng.uniform_tensor(n, side * side, 0, 1);
  for (const char* name : {"left", "right"}) {
    d.train.tasks.push_back(TaskSpec::classification(name, 10));
    Tensor y = zeros(n, 1);
    for (std::size_t r = 0; r < n; ++r) y(r, 0) = real(rng.below(10));
    d.train.targets.push_back(y);
  }
  d.test = d.train;
  return d;
}

}  // namespace

TEST_SUITE("lenet") {

TEST_CASE("lenet: losses and per-task gradients equal torch's, by both gradient paths") {
  const json fx = test::load_fixture("conv_torch.json")["lenet"];
  DataSplit data;
  data.train.inputs = from_rows(fx["x"]);
  const std::size_t n = data.train.inputs.shape(0);
  for (std::size_t t = 0; t < 2; ++t) {
    data.train.tasks.push_back(TaskSpec::classification(t ? "right" : "left", 10));
    Tensor y = zeros(n, 1);
    for (std::size_t r = 0; r < n; ++r) y(r, 0) = real(fx["labels"][t][r].get<int>());
    data.train.targets.push_back(y);
  }
  data.test = data.train;
  models::LeNetOptions o;
  o.hidden = fx["hidden"];
  models::LeNet model(o, data, n, Rng(1), Rng(2));  // one batch: the whole set (the losses are means)
  const std::vector<NamedParameter> all = model.all_parameters();
  REQUIRE(all.size() == fx["params"].size());
  for (const NamedParameter& p : all) {
    INFO(p.name);
    REQUIRE(fx["params"].contains(p.name));
    const Tensor v = from_rows(fx["params"][p.name]);
    REQUIRE(v.shape() == p.param->value.shape());
    p.param->value = v;
  }
  const ParameterLayout layout(model);
  const double tol = tolerance(1e-10, 2e-4);
  for (TaskGradientPath path : {TaskGradientPath::automatic, TaskGradientPath::per_task}) {
    INFO("path " << (path == TaskGradientPath::automatic ? "batched" : "per task"));
    Tape tape;
    std::vector<Var> losses;
    model.forward(tape, losses);
    TaskGradients g;
    collect_task_gradients(tape, losses, {real(1), real(1)}, layout, GradientScope::shared, g, path);
    CHECK(g.batched == (path == TaskGradientPath::automatic));
    for (std::size_t t = 0; t < 2; ++t) {
      INFO("task " << t);
      CHECK(std::abs(double(g.losses[t]) - fx["losses"][t].get<double>()) <= tol);
      const Tensor row_t = xt::view(g.J, xt::range(t, t + 1), xt::all());
      std::size_t off = 0;
      for (const NamedParameter& p : layout.shared) {
        INFO(p.name);
        Tensor got = zeros(shape_of(p.param->value));
        unflatten(row_t, off, got);
        off += got.size();
        CHECK_TENSOR_NEAR(got, from_rows(fx["grads"][t][p.name]), tol);
      }
      for (std::size_t k = 0; k < layout.heads[t].size(); ++k) {
        INFO(layout.heads[t][k].name);
        CHECK_TENSOR_NEAR(g.heads[t][k], from_rows(fx["grads"][t][layout.heads[t][k].name]), tol);
      }
    }
  }
}

TEST_CASE("lenet: the papers' shapes on the 36×36 canvas, and on 28×28 images") {
  Rng rng(3);
  const DataSplit d36 = images(4, 36, rng), d28 = images(4, 28, rng);
  models::LeNet a({}, d36, 4, Rng(1), Rng(2)), b({}, d28, 4, Rng(1), Rng(2));
  CHECK(a.describe() ==
        "lenet: trunk Sequential(Conv2d(1, 10, kernel_size=9), MaxPool2d(2), ReLU(), Conv2d(10, 20, kernel_size=5), "
        "MaxPool2d(2), ReLU(), Linear(500, 50), ReLU()), head0 Sequential(Linear(50, 10)), head1 Sequential(Linear(50, 10))");
  const auto shared = a.shared_parameters();
  REQUIRE(shared.size() == 6);
  CHECK(shared[0].name == "trunk.0.weight");
  CHECK(shape_of(shared[0].param->value) == Shape{10, 81});
  CHECK(shared[2].name == "trunk.3.weight");
  CHECK(shape_of(shared[2].param->value) == Shape{20, 250});
  CHECK(shape_of(shared[4].param->value) == Shape{500, 50});
  CHECK(shape_of(b.shared_parameters()[4].param->value) == Shape{180, 50});  // 20·3·3
  // PyTorch's default initialisation bound 1/√fan_in, per layer.
  CHECK(xt::amax(xt::abs(shared[0].param->value))() <= real(1) / 9);
  CHECK(xt::amax(xt::abs(shared[2].param->value))() <= real(1) / std::sqrt(real(250)));
  CHECK(xt::amax(xt::abs(shared[0].param->value))() > real(0.9) / 9);
}

TEST_CASE("lenet: the registry builds it from a config, and bad data and options are one-line errors") {
  Rng rng(4);
  DataSplit d = images(4, 36, rng);
  ModelContext ctx{Rng(1), Rng(2), &d, 4};
  auto m = make_model(json{{"name", "lenet"}, {"hidden", 8}}, "model", ctx);
  CHECK(m->num_tasks() == 2);
  CHECK(m->head_parameters(0)[0].param->value.shape(0) == 8);
  CHECK_THROWS_WITH_SUBSTR(make_model(json{{"name", "lenet"}, {"hidden", 0}}, "model", ctx), "model.hidden");
  CHECK_THROWS_WITH_SUBSTR(make_model(json{{"name", "lenet"}, {"width", 8}}, "model", ctx), "model.width: unknown key");
  DataSplit odd = images(4, 36, rng);
  odd.train.inputs = zeros(4, 1000);
  ctx.data = &odd;
  CHECK_THROWS_WITH_SUBSTR(make_model(json{{"name", "lenet"}}, "model", ctx),
                           "model: lenet: the data's inputs have 1000 columns, not a square one-channel image");
  DataSplit small = images(4, 20, rng);
  ctx.data = &small;
  CHECK_THROWS_WITH_SUBSTR(make_model(json{{"name", "lenet"}}, "model", ctx), "images of 20×20 are too small");
  DataSplit reg = images(4, 36, rng);
  reg.train.tasks[1] = TaskSpec::regression("r");
  reg.train.targets[1] = zeros(4, 1);
  ctx.data = &reg;
  CHECK_THROWS_WITH_SUBSTR(make_model(json{{"name", "lenet"}}, "model", ctx), "task 'r' is not a classification task");
}

}  // TEST_SUITE
