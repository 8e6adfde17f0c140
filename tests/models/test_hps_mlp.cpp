// hps_mlp's per-task gradients against torch.autograd.grad (tools/gen_hps_reference.py), and the
// model's config errors.
#include "test_util.hpp"

#include <xtensor/xview.hpp>

#include "mtlgrad/models/hps_mlp.hpp"
#include "mtlgrad/models/shared_trunk.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/mtl/task_gradients.hpp"

using namespace mtlgrad;
using nlohmann::json;
using mtlgrad::test::from_rows;

namespace {

/// The fixture's batch as a data set of exactly one batch.
DataSplit fixture_data(const json& ref) {
  DataSplit d;
  d.train.inputs = from_rows(ref["inputs"]);
  const std::size_t B = d.train.inputs.shape(0);
  Tensor labels = zeros(B, 1);
  for (std::size_t r = 0; r < B; ++r) labels(r, 0) = ref["labels"][r].get<real>();
  d.train.targets = {labels, from_rows(ref["y1"]), from_rows(ref["y2"])};
  d.train.tasks = {TaskSpec::classification("class", 3), TaskSpec::regression("y1", 1), TaskSpec::regression("y2", 2)};
  d.test = d.train;
  return d;
}

}  // namespace

TEST_SUITE("hps_mlp") {

TEST_CASE("per-task gradients (T = 3, cross-entropy and mse heads) match torch.autograd.grad") {
  const json ref = test::load_fixture("hps_reference.json");
  const DataSplit data = fixture_data(ref);
  models::HpsMlpOptions o;
  o.trunk = {6, 4};
  o.activation = "tanh";
  // One batch of all 7 rows: the sampler's order permutes rows, which a mean loss does not see.
  models::HpsMlp model(o, data, 7, Rng(0), Rng(0));
  for (auto& p : model.all_parameters()) {
    INFO(p.name);
    REQUIRE(ref["params"].contains(p.name));
    const Tensor v = from_rows(ref["params"][p.name]);
    REQUIRE(shape_of(v) == shape_of(p.param->value));
    p.param->value = v;
  }
  Tape tape;
  std::vector<Var> losses;
  model.forward(tape, losses);
  const ParameterLayout layout(model);
  const std::vector<real> w = ref["task_weights"].get<std::vector<real>>();
  TaskGradients g;
  collect_task_gradients(tape, losses, w, layout, GradientScope::shared, g);

  const double tol = tolerance(1e-10, 1e-4);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("task " << i);
    CHECK(g.losses[i] == doctest::Approx(ref["losses"][i].get<double>()).epsilon(tol));
    const json& want = ref["grads"][i];
    std::size_t off = 0;
    for (const auto& p : layout.shared) {
      const Tensor expect = from_rows(want[p.name]);
      Tensor got = zeros(shape_of(expect));
      unflatten(xt::view(g.J, xt::range(i, i + 1), xt::all()), off, got);
      off += got.size();
      INFO(p.name);
      CHECK_TENSOR_NEAR(got, expect, tol);
    }
    CHECK(off == g.J.shape(1));
    for (std::size_t k = 0; k < layout.heads[i].size(); ++k) {
      INFO(layout.heads[i][k].name);
      CHECK_TENSOR_NEAR(g.heads[i][k], from_rows(want[layout.heads[i][k].name]), tol);
    }
  }

  SUBCASE("scope all: shared columns as before, own head's gradient, zeros for other heads") {
    TaskGradients a;
    collect_task_gradients(tape, losses, w, layout, GradientScope::all, a);
    REQUIRE(a.J.shape(1) == layout.total_size);
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t c = 0; c < layout.shared_size; ++c) CHECK(a.J(i, c) == g.J(i, c));
      std::size_t off = layout.shared_size;
      for (std::size_t h = 0; h < 3; ++h)
        for (const auto& p : layout.heads[h]) {
          for (std::size_t e = 0; e < p.param->value.size(); ++e)
            CHECK(a.J(i, off + e) == (h == i ? g.heads[i][&p - &layout.heads[h][0]].data()[e] : real(0)));
          off += p.param->value.size();
        }
    }
  }
}

TEST_CASE("hps_mlp config errors name the key") {
  const json base = json::parse(read_file(std::string(MTLGRAD_SOURCE_DIR) + "/models/configs/hps_mlp.json"));
  auto err = [&](const std::string& set) {
    json c = base;
    apply_override(c, set);
    std::string msg = "<none>";
    try {
      resolve_config(c);
    } catch (const std::exception& e) {
      msg = e.what();
    }
    return msg;
  };
  CHECK(err("model.activation=\"relux\"").find("model.activation: unknown activation 'relux' (did you mean 'relu'?)") != std::string::npos);
  CHECK(err("model.trunk=[32,0]").find("model.trunk") != std::string::npos);
  CHECK(err("model.depth=3").find("model.depth: unknown key") != std::string::npos);
  CHECK(err("data=null").find("needs a \"data\" section") != std::string::npos);
  CHECK(err("task_weights=[1,2]").find("task_weights: 2 values, but the model has 3 tasks") != std::string::npos);
  CHECK(err("batch_size=0").find("batch_size: 0 is out of range") != std::string::npos);
}

TEST_CASE("SharedTrunkModel: a trunk, heads, data and losses of one's own, by hand") {
  // z = 2x (trunk Linear 1→1, w = 2, b = 0); head 0: y = z (mse against t); head 1: y = 3z + 1 with
  // a loss of one's own, Σ y. x = (1, 2), t = (1, 5): y_0 = (2, 4), mse = ((2−1)² + (4−5)²)/2 = 1;
  // y_1 = (7, 13), Σ = 20. ∂L_0/∂w_trunk = mean(2(2x − t)·x) = (2·1·1 + 2·(−1)·2)/2 = −1.
  DataSplit data;
  data.train.inputs = matrix({{1}, {2}});
  data.train.targets = {matrix({{1}, {5}}), matrix({{0}, {0}})};
  data.train.tasks = {TaskSpec::regression("fit"), TaskSpec::regression("own")};
  data.test = data.train;
  Rng rng(0);
  const auto linear = [&rng](real w, real b) {
    auto l = std::make_unique<Linear>(1, 1, rng);
    l->weight.value = matrix({{w}});
    l->bias.value = matrix({{b}});
    return l;
  };
  std::vector<std::unique_ptr<Module>> heads;
  heads.push_back(linear(1, 0));
  heads.push_back(linear(3, 1));
  const TaskLoss sum_of_outputs = [](Tape&, Var y, const Tensor&) { return sum(y); };
  SharedTrunkModel model("mine", linear(2, 0), std::move(heads), data, 2, Rng(1), {mse_loss(), sum_of_outputs});
  CHECK(model.task_names() == std::vector<std::string>{"fit", "own"});
  CHECK(model.describe() == "mine: trunk Linear(1, 1), head0 Linear(1, 1), head1 Linear(1, 1)");
  CHECK(model.shared_parameters()[0].name == "trunk.weight");
  CHECK(model.head_parameters(1)[1].name == "head1.bias");
  Tape tape;
  std::vector<Var> losses;
  model.forward(tape, losses);
  CHECK(losses[0].item() == 1);
  CHECK(losses[1].item() == 20);
  const auto g = tape.grad(losses[0], {tape.param(*model.shared_parameters()[0].param)});
  CHECK(g[0](0, 0) == -1);
  CHECK(model.evaluate()["loss"] == json{1.0, 20.0});

  std::vector<std::unique_ptr<Module>> one;
  one.push_back(linear(1, 0));
  CHECK_THROWS_WITH_SUBSTR(SharedTrunkModel("mine", linear(2, 0), std::move(one), data, 2, Rng(1)),
                           "mine: 1 heads for 2 tasks of the data");
  std::vector<std::unique_ptr<Module>> two;
  two.push_back(linear(1, 0));
  two.push_back(linear(1, 0));
  CHECK_THROWS_WITH_SUBSTR(SharedTrunkModel("mine", linear(2, 0), std::move(two), data, 2, Rng(1), {mse_loss()}),
                           "mine: 1 losses for 2 tasks");
}

}  // TEST_SUITE
