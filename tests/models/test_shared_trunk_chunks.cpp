// SharedTrunkModel's full-set evaluation in chunks: its losses and accuracies against one forward
// pass over the whole set (losses_of on one tape: cross_entropy's and mse's own means, the argmax
// counted here), bit for bit for the default losses at every chunk size; the chunks it forwards are
// never larger than eval_chunk_rows(), so its memory is bounded by a chunk and not by the set.
#include "test_util.hpp"

#include <cmath>

#include "mtlgrad/models/lenet.hpp"
#include "mtlgrad/models/shared_trunk.hpp"

using namespace mtlgrad;

namespace {

// n rows of `in` inputs: a 4-class task and a 2-output regression task, random targets.
DataSplit mixed(std::size_t n, std::size_t in, Rng& rng) {
  DataSplit d;
  d.train.inputs = rng.uniform_tensor(n, in, -1, 1);
  d.train.tasks = {TaskSpec::classification("class", 4), TaskSpec::regression("y", 2)};
  Tensor labels = zeros(n, 1);
  for (std::size_t r = 0; r < n; ++r) labels(r, 0) = real(rng.below(4));
  d.train.targets = {labels, rng.uniform_tensor(n, 2, -1, 1)};
  d.test = d.train;
  return d;
}

SharedTrunkModel::Parts mlp_parts(Rng& rng) {
  SharedTrunkModel::Parts p;
  p.trunk = mlp({6, 16, 8}, "relu", rng, /*activate_last=*/true);
  p.heads.push_back(mlp({8, 4}, "relu", rng));
  p.heads.push_back(mlp({8, 2}, "relu", rng));
  return p;
}

struct OnePass {
  std::vector<real> loss;
  std::vector<double> accuracy;  // NaN for a regression task
};

// The reference: every row of the test set on one tape, the losses as the ops compute them.
OnePass one_pass(SharedTrunkModel& model, const MultiTaskData& data) {
  Batch all;
  std::vector<std::size_t> idx(data.size());
  for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
  gather(data, idx, all);
  Tape tape;
  std::vector<Var> l, out;
  model.losses_of(tape, all, l, &out);
  OnePass r;
  for (std::size_t i = 0; i < l.size(); ++i) {
    r.loss.push_back(l[i].item());
    if (data.tasks[i].kind != TaskSpec::Kind::classification) {
      r.accuracy.push_back(std::nan(""));
      continue;
    }
    const Tensor& y = out[i].value();
    std::size_t right = 0;
    for (std::size_t row = 0; row < y.shape(0); ++row) {
      std::size_t best = 0;
      for (std::size_t c = 1; c < y.shape(1); ++c)
        if (y(row, c) > y(row, best)) best = c;
      right += best == std::size_t(all.targets[i](row, 0));
    }
    r.accuracy.push_back(double(right) / double(y.shape(0)));
  }
  return r;
}

void check_equal(SharedTrunkModel& model, const MultiTaskData& data, const OnePass& ref) {
  const nlohmann::json e = model.evaluate();
  std::vector<real> train;
  REQUIRE(model.training_losses(train));
  REQUIRE(e["loss"].size() == ref.loss.size());
  for (std::size_t i = 0; i < ref.loss.size(); ++i) {
    INFO("task " << i << ", chunk " << model.eval_chunk_rows());
    // Bit for bit in double. In float OpenBLAS's one-row sgemm takes another kernel than a
    // many-row one, so a 1-row chunk's outputs differ in their last bits: equal to rounding there.
    const double tol = double(tolerance(0, 1e-6)) * std::abs(double(ref.loss[i]));
    CHECK(std::abs(e["loss"][i].get<double>() - double(ref.loss[i])) <= tol);
    CHECK(std::abs(double(train[i]) - double(ref.loss[i])) <= tol);  // train == test set here
    if (std::isnan(ref.accuracy[i]))
      CHECK(e["accuracy"][i].is_null());
    else
      CHECK(e["accuracy"][i].get<double>() == ref.accuracy[i]);
  }
  CHECK(e["n"].get<std::size_t>() == data.size());
}

}  // namespace

TEST_SUITE("shared_trunk") {

TEST_CASE("shared_trunk: chunked full-set losses and accuracy equal one pass's bit for bit (MLP, CE + mse)") {
  Rng rng(7);
  const DataSplit data = mixed(23, 6, rng);
  SharedTrunkModel model("chunks", mlp_parts(rng), data, 5, rng.split());
  CHECK(model.eval_chunk_rows() == 1024);
  const OnePass ref = one_pass(model, data.test);
  // The set is not a multiple of most chunk sizes: a short last chunk, one row chunks, one chunk.
  for (std::size_t chunk : {std::size_t(1), std::size_t(4), std::size_t(7), std::size_t(23), std::size_t(1024)}) {
    model.set_eval_chunk_rows(chunk);
    check_equal(model, data.test, ref);
  }
  // A loss is not trivially equal everywhere: the test would see a wrong row or a lost chunk.
  CHECK(ref.loss[0] > real(0.5));
  CHECK(ref.loss[1] > real(0.05));
}

TEST_CASE("shared_trunk: chunked LeNet evaluation equals one pass bit for bit") {
  Rng rng(3);
  DataSplit data;
  const std::size_t n = 7;
  data.train.inputs = rng.uniform_tensor(n, 36 * 36, 0, 1);
  for (const char* name : {"left", "right"}) {
    data.train.tasks.push_back(TaskSpec::classification(name, 10));
    Tensor y = zeros(n, 1);
    for (std::size_t r = 0; r < n; ++r) y(r, 0) = real(rng.below(10));
    data.train.targets.push_back(y);
  }
  data.test = data.train;
  models::LeNet model(models::LeNetOptions{}, data, 4, Rng(1), Rng(2));
  const OnePass ref = one_pass(model, data.test);
  for (std::size_t chunk : {std::size_t(1), std::size_t(3), std::size_t(7)}) {
    model.set_eval_chunk_rows(chunk);
    check_equal(model, data.test, ref);
  }
}

TEST_CASE("shared_trunk: the evaluation never forwards more than eval_chunk_rows rows at once") {
  Rng rng(11);
  const DataSplit data = mixed(10, 6, rng);
  std::vector<std::size_t> seen;  // the rows of every chunk a loss was asked for
  const TaskLoss ce = cross_entropy_loss(), sq = mse_loss();
  std::vector<TaskLoss> losses = {
      [&](Tape& t, Var y, const Tensor& target) {
        seen.push_back(target.shape(0));
        return ce(t, y, target);
      },
      [&](Tape& t, Var y, const Tensor& target) { return sq(t, y, target); }};
  SharedTrunkModel model("recorded", mlp_parts(rng), data, 10, rng.split(), losses);
  const OnePass ref = one_pass(model, data.test);
  model.set_eval_chunk_rows(4);
  seen.clear();
  const nlohmann::json e = model.evaluate();
  CHECK(seen == std::vector<std::size_t>{4, 4, 2});
  // A custom loss is a mean per chunk: Σ rows·mean / n equals the one-pass mean up to rounding.
  for (std::size_t i = 0; i < 2; ++i)
    CHECK(e["loss"][i].get<double>() == doctest::Approx(double(ref.loss[i])).epsilon(sizeof(real) == 8 ? 1e-12 : 1e-5));
  seen.clear();
  std::vector<real> train;
  model.training_losses(train);
  CHECK(seen == std::vector<std::size_t>{4, 4, 2});
  CHECK_THROWS_WITH_AS(model.set_eval_chunk_rows(0), "recorded: eval_chunk_rows must be at least 1",
                       std::invalid_argument);
}

}  // TEST_SUITE
