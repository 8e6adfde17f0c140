// hps_mlp's per-task gradients against torch.autograd.grad (tools/gen_hps_reference.py), and the
// model's config errors.
#include "test_util.hpp"

#include <xtensor/xview.hpp>

#include "models/hps_mlp.hpp"
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

}  // TEST_SUITE
