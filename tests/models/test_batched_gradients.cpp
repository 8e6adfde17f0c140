// The batched per-task gradients (one BatchedSweep for all tasks) against the per-task reference
// (one Tape::grad sweep per task) and against torch.autograd.grad (tools/gen_hps_reference.py).
#include "test_util.hpp"

#include <xtensor/xview.hpp>

#include "mtlgrad/models/hps_mlp.hpp"
#include "mtlgrad/models/toy2d.hpp"
#include "mtlgrad/mtl/task_gradients.hpp"
#include "mtlgrad/mtl/trainer.hpp"

using namespace mtlgrad;
using nlohmann::json;
using mtlgrad::test::from_rows;

namespace {

// Random data: inputs U(-1, 1), one classification task of 4 classes, then regression tasks
// alternating 1 and 2 outputs.
DataSplit mixed_data(std::size_t n, std::size_t dim, std::size_t tasks, Rng& rng) {
  DataSplit d;
  d.train.inputs = rng.uniform_tensor(n, dim, -1, 1);
  for (std::size_t t = 0; t < tasks; ++t) {
    if (t == 0) {
      d.train.tasks.push_back(TaskSpec::classification("c", 4));
      Tensor y = zeros(n, 1);
      for (std::size_t r = 0; r < n; ++r) y(r, 0) = real(rng.below(4));
      d.train.targets.push_back(y);
    } else {
      const std::size_t k = 1 + t % 2;
      d.train.tasks.push_back(TaskSpec::regression("r" + std::to_string(t), k));
      d.train.targets.push_back(rng.uniform_tensor(n, k, -1, 1));
    }
  }
  d.test = d.train;
  return d;
}

void check_paths_agree(models::HpsMlp& model, const std::vector<real>& w, GradientScope scope) {
  Tape tape;
  std::vector<Var> losses;
  model.forward(tape, losses);
  const ParameterLayout layout(model);
  TaskGradients ref, fast;
  collect_task_gradients(tape, losses, w, layout, scope, ref, TaskGradientPath::per_task);
  collect_task_gradients(tape, losses, w, layout, scope, fast);
  CHECK_FALSE(ref.batched);
  REQUIRE(fast.batched);
  CHECK(fast.losses == ref.losses);
  CHECK_TENSOR_NEAR(fast.J, ref.J, tolerance(1e-12, 1e-5));
  REQUIRE(fast.heads.size() == ref.heads.size());
  for (std::size_t i = 0; i < ref.heads.size(); ++i) {
    REQUIRE(fast.heads[i].size() == ref.heads[i].size());
    for (std::size_t k = 0; k < ref.heads[i].size(); ++k) CHECK_TENSOR_NEAR(fast.heads[i][k], ref.heads[i][k], tolerance(1e-12, 1e-5));
  }
}

}  // namespace

TEST_SUITE("batched task gradients") {

TEST_CASE("both paths match torch.autograd.grad on the hps_mlp fixture") {
  const json ref = test::load_fixture("hps_reference.json");
  DataSplit data;
  data.train.inputs = from_rows(ref["inputs"]);
  Tensor labels = zeros(data.train.inputs.shape(0), 1);
  for (std::size_t r = 0; r < labels.shape(0); ++r) labels(r, 0) = ref["labels"][r].get<real>();
  data.train.targets = {labels, from_rows(ref["y1"]), from_rows(ref["y2"])};
  data.train.tasks = {TaskSpec::classification("class", 3), TaskSpec::regression("y1", 1), TaskSpec::regression("y2", 2)};
  data.test = data.train;
  models::HpsMlpOptions o;
  o.trunk = {6, 4};
  o.activation = "tanh";
  models::HpsMlp model(o, data, 7, Rng(0), Rng(0));
  for (auto& p : model.all_parameters()) p.param->value = from_rows(ref["params"][p.name]);
  Tape tape;
  std::vector<Var> losses;
  model.forward(tape, losses);
  const ParameterLayout layout(model);
  const std::vector<real> w = ref["task_weights"].get<std::vector<real>>();
  for (TaskGradientPath path : {TaskGradientPath::per_task, TaskGradientPath::automatic}) {
    TaskGradients g;
    collect_task_gradients(tape, losses, w, layout, GradientScope::shared, g, path);
    CHECK(g.batched == (path == TaskGradientPath::automatic));
    for (std::size_t i = 0; i < 3; ++i) {
      INFO("task " << i << (g.batched ? " (batched)" : " (per task)"));
      std::size_t off = 0;
      for (const auto& p : layout.shared) {
        const Tensor expect = from_rows(ref["grads"][i][p.name]);
        Tensor got = zeros(shape_of(expect));
        unflatten(xt::view(g.J, xt::range(i, i + 1), xt::all()), off, got);
        off += got.size();
        CHECK_TENSOR_NEAR(got, expect, tolerance(1e-10, 1e-4));
      }
      for (std::size_t k = 0; k < layout.heads[i].size(); ++k)
        CHECK_TENSOR_NEAR(g.heads[i][k], from_rows(ref["grads"][i][layout.heads[i][k].name]), tolerance(1e-10, 1e-4));
    }
  }
}

TEST_CASE("batched equals per task for every activation, hidden head layers, both scopes and task weights") {
  for (const char* act : {"relu", "tanh", "sigmoid", "leaky_relu"}) {
    INFO(act);
    Rng rng(21);
    const DataSplit data = mixed_data(9, 5, 4, rng);
    models::HpsMlpOptions o;
    o.trunk = {7, 6};
    o.head = {3};
    o.activation = act;
    models::HpsMlp model(o, data, 9, Rng(1), Rng(2));
    check_paths_agree(model, {real(1), real(0.25), real(2), real(-0.5)}, GradientScope::shared);
    check_paths_agree(model, {real(1), real(1), real(1), real(1)}, GradientScope::all);
  }
}

TEST_CASE("the trainer takes the batched sweep for hps_mlp and the per-task sweeps for the toy") {
  Rng rng(3);
  const DataSplit data = mixed_data(8, 3, 2, rng);
  models::HpsMlpOptions o;
  o.trunk = {4};
  models::HpsMlp model(o, data, 8, Rng(1), Rng(2));
  Trainer t(model, make_aggregator({{"name", "pcgrad"}}), make_optimizer({{"name", "sgd"}, {"lr", 0.1}}), {}, Rng(0));
  t.step();
  CHECK(t.task_gradients().batched);
  models::Toy2d toy({real(-8.5), real(7.5)});
  Trainer u(toy, make_aggregator({{"name", "pcgrad"}}), make_optimizer({{"name", "sgd"}, {"lr", 0.1}}), {}, Rng(0));
  u.step();
  CHECK_FALSE(u.task_gradients().batched);  // abs, clamp, log, ... have no batched VJP
}

}
