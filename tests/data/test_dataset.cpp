#include "test_util.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "mtlgrad/data/dataset.hpp"
#include "mtlgrad/data/sampler.hpp"

using namespace mtlgrad;
using nlohmann::json;

namespace {

// n rows; input row i = (i, 10i); regression target 100i; class label i mod 3.
MultiTaskData indexed_data(std::size_t n) {
  MultiTaskData d;
  d.inputs = zeros(n, 2);
  d.targets = {zeros(n, 1), zeros(n, 1)};
  d.tasks = {TaskSpec::regression("reg"), TaskSpec::classification("cls", 3)};
  for (std::size_t i = 0; i < n; ++i) {
    d.inputs(i, 0) = real(i);
    d.inputs(i, 1) = real(10 * i);
    d.targets[0](i, 0) = real(100 * i);
    d.targets[1](i, 0) = real(i % 3);
  }
  return d;
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("MultiTaskData::check accepts consistent data and names each inconsistency") {
  MultiTaskData d = indexed_data(5);
  CHECK_NOTHROW(d.check());
  CHECK(d.size() == 5);
  CHECK(d.input_dim() == 2);

  MultiTaskData bad = d;
  bad.targets[1](2, 0) = 3;
  CHECK_THROWS_WITH_SUBSTR(bad.check("train"), "train: task 1 'cls': label 3.000000 at row 2 is not a class in [0, 3)");
  bad.targets[1](2, 0) = real(0.5);
  CHECK_THROWS_WITH_SUBSTR(bad.check(), "label 0.500000 at row 2");
  bad.targets[1](2, 0) = -1;
  CHECK_THROWS_WITH_SUBSTR(bad.check(), "is not a class in [0, 3)");

  bad = d;
  bad.targets[0] = zeros(4, 1);
  CHECK_THROWS_WITH_SUBSTR(bad.check(), "task 0 'reg': expected shape [5,1], got [4,1]");
  bad = d;
  bad.targets.pop_back();
  CHECK_THROWS_WITH_SUBSTR(bad.check(), "1 target matrices for 2 tasks");
  bad = d;
  bad.inputs(1, 1) = std::numeric_limits<real>::quiet_NaN();
  CHECK_THROWS_WITH_SUBSTR(bad.check(), "inputs contain NaN");
  bad = d;
  bad.targets[0](0, 0) = std::numeric_limits<real>::infinity();
  CHECK_THROWS_WITH_SUBSTR(bad.check(), "'reg': targets contain NaN or infinity");
  bad = d;
  bad.tasks[0].size = 0;
  CHECK_THROWS_WITH_SUBSTR(bad.check(), "regression task with size 0");
}

TEST_CASE("gather copies the chosen rows and reuses the batch's buffers") {
  const MultiTaskData d = indexed_data(7);
  Batch b;
  gather(d, {4, 0, 6}, b);
  CHECK(b.size() == 3);
  CHECK_TENSOR_NEAR(b.inputs, matrix({{4, 40}, {0, 0}, {6, 60}}), 0);
  CHECK_TENSOR_NEAR(b.targets[0], matrix({{400}, {0}, {600}}), 0);
  CHECK_TENSOR_NEAR(b.targets[1], matrix({{1}, {0}, {0}}), 0);
  const real* in = b.inputs.data();
  const real* t1 = b.targets[1].data();
  gather(d, {1, 2, 3}, b);
  CHECK(b.inputs.data() == in);  // same size: no reallocation
  CHECK(b.targets[1].data() == t1);
  CHECK_TENSOR_NEAR(b.inputs, matrix({{1, 10}, {2, 20}, {3, 30}}), 0);
  CHECK_THROWS_WITH_SUBSTR(gather(d, {1, 7}, b), "gather: index 7 out of range for 7 rows");
  CHECK_THROWS_WITH_SUBSTR(take_rows(d, {9}), "index 9 out of range for 7 rows");
}

TEST_CASE("split_train_test: disjoint and complete and ordered and deterministic") {
  const MultiTaskData d = indexed_data(20);
  Rng r1(5), r2(5);
  const DataSplit s = split_train_test(d, 6, r1);
  const DataSplit s2 = split_train_test(d, 6, r2);
  CHECK(s.train.size() == 14);
  CHECK(s.test.size() == 6);
  CHECK(s.train.tasks.size() == 2);
  CHECK(s.test.tasks[1].name == "cls");
  std::vector<int> seen(20, 0);
  for (const auto* part : {&s.train, &s.test})
    for (std::size_t i = 0; i < part->size(); ++i) {
      const auto row = std::size_t(part->inputs(i, 0));
      seen[row]++;
      CHECK(part->targets[0](i, 0) == real(100 * row));  // rows stay aligned with their targets
      if (i > 0) CHECK(part->inputs(i - 1, 0) < part->inputs(i, 0));
    }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  CHECK(s.test.inputs == s2.test.inputs);
  Rng r3(6);
  CHECK(split_train_test(d, 6, r3).test.inputs != s.test.inputs);
  CHECK_THROWS_WITH_SUBSTR(split_train_test(d, 21, r1), "n_test = 21 exceeds the 20 rows");
}

TEST_CASE("BatchSampler: each epoch is a permutation cut into batches") {
  BatchSampler s(10, 3, Rng(1));
  CHECK(s.batches_per_epoch() == 4);
  std::vector<std::vector<std::size_t>> orders;
  for (int e = 0; e < 3; ++e) {
    std::vector<std::size_t> seen;
    for (std::size_t k = 0; k < 4; ++k) {
      const auto& b = s.next();
      CHECK(b.size() == (k < 3 ? 3u : 1u));
      CHECK(s.epoch() == std::size_t(e));
      seen.insert(seen.end(), b.begin(), b.end());
    }
    CHECK(seen == s.order());
    orders.push_back(seen);
    std::sort(seen.begin(), seen.end());
    for (std::size_t i = 0; i < 10; ++i) CHECK(seen[i] == i);
  }
  CHECK(orders[0] != orders[1]);  // a new permutation each epoch
  CHECK(orders[1] != orders[2]);

  BatchSampler same(10, 3, Rng(1));
  std::vector<std::size_t> first;
  for (int k = 0; k < 4; ++k) {
    const auto& b = same.next();
    first.insert(first.end(), b.begin(), b.end());
  }
  CHECK(first == orders[0]);
}

TEST_CASE("BatchSampler: drop_last and no shuffle and bad arguments") {
  BatchSampler d(10, 3, Rng(2), /*drop_last=*/true);
  CHECK(d.batches_per_epoch() == 3);
  for (int k = 0; k < 3; ++k) {
    CHECK(d.next().size() == 3);
    CHECK(d.epoch() == 0);
  }
  CHECK(d.next().size() == 3);
  CHECK(d.epoch() == 1);

  BatchSampler plain(5, 2, Rng(3), false, /*shuffle=*/false);
  CHECK(plain.next() == std::vector<std::size_t>{0, 1});
  CHECK(plain.next() == std::vector<std::size_t>{2, 3});
  CHECK(plain.next() == std::vector<std::size_t>{4});
  CHECK(plain.next() == std::vector<std::size_t>{0, 1});

  CHECK_THROWS_WITH_SUBSTR(BatchSampler(0, 2, Rng(0)), "empty (n = 0)");
  CHECK_THROWS_WITH_SUBSTR(BatchSampler(4, 0, Rng(0)), "batch_size = 0");
  CHECK_THROWS_WITH_SUBSTR(BatchSampler(4, 5, Rng(0), true), "batch_size = 5 exceeds the 4 rows");
}

TEST_CASE("BatchSampler: a saved position resumes bit-identically through JSON text") {
  for (std::size_t stop : {0u, 3u, 4u, 7u, 9u}) {
    CAPTURE(stop);
    BatchSampler a(10, 3, Rng(11));
    for (std::size_t k = 0; k < stop; ++k) a.next();
    const std::string saved = a.state().dump();
    BatchSampler b(10, 3, Rng(999));
    b.load_state(json::parse(saved));
    CHECK(b.epoch() == a.epoch());
    CHECK(b.offset() == a.offset());
    for (int k = 0; k < 12; ++k) CHECK(a.next() == b.next());
  }
  BatchSampler a(10, 3, Rng(11));
  json st = a.state();
  BatchSampler other(10, 4, Rng(0));
  CHECK_THROWS_WITH_SUBSTR(other.load_state(st), "the state is for batch_size = 3, this sampler has 4");
  BatchSampler ten(10, 3, Rng(0));
  st.erase("rng");
  CHECK_THROWS_WITH_SUBSTR(ten.load_state(st), "sampler.rng: missing");
  st = a.state();
  st["offset"] = 11;
  CHECK_THROWS_WITH_SUBSTR(ten.load_state(st), "sampler.offset: 11 exceeds n = 10");
  st = a.state();
  st["epoch"] = -5;
  CHECK_THROWS_WITH_SUBSTR(ten.load_state(st), "sampler.epoch: expected a non-negative integer, got -5");
}

}  // TEST_SUITE
