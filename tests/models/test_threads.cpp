// mtlgrad's own threads (core/parallel.hpp): the trainer's Gramian, combine and Adam split over a
// fixed partition, so a run gives bit-identical parameters with 1, 2 or 3 threads. OpenBLAS stays
// at one thread here (its sums depend on its count; docs/performance.md).
#include "test_util.hpp"

#include <cstring>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/parallel.hpp"
#include "mtlgrad/models/hps_mlp.hpp"
#include "mtlgrad/mtl/trainer.hpp"

using namespace mtlgrad;

namespace {

// Restores the thread counts a test changes.
struct Threads {
  int before = parallel::threads(), blas_before = blas::threads();
  Threads() { blas::set_threads(1); }
  ~Threads() {
    parallel::set_threads(before);
    blas::set_threads(blas_before);
  }
};

DataSplit classes_data(std::size_t n, std::size_t dim, std::size_t tasks) {
  Rng rng(11);
  DataSplit d;
  d.train.inputs = rng.uniform_tensor(n, dim, 0, 1);
  for (std::size_t t = 0; t < tasks; ++t) {
    d.train.tasks.push_back(TaskSpec::classification("c" + std::to_string(t), 5));
    Tensor y = zeros(n, 1);
    for (std::size_t r = 0; r < n; ++r) y(r, 0) = real(rng.below(5));
    d.train.targets.push_back(y);
  }
  d.test = d.train;
  return d;
}

// Every parameter after `steps` steps of `aggregator` + `optimizer` with `threads` threads. The
// sizes are large enough to split: J's 55 040 columns make 27 blocks, which the Gramian spreads
// over 3 threads; the first weight's 38 400 values go to 2 (16 384 at least per thread). combine's
// split (16 blocks at least per thread at T = 8) is tested on a larger J in test_gramian_kernels.cpp.
std::vector<Tensor> train(int threads, std::size_t tasks, const char* aggregator, const char* optimizer, int steps) {
  parallel::set_threads(threads);
  const DataSplit data = classes_data(32, 300, tasks);
  models::HpsMlpOptions o;
  o.trunk = {128, 128};
  models::HpsMlp model(o, data, 32, Rng(2), Rng(3));
  Trainer trainer(model, make_aggregator({{"name", aggregator}}), make_optimizer({{"name", optimizer}, {"lr", 1e-3}}),
                  TrainerOptions{}, Rng(4));
  for (int s = 0; s < steps; ++s) trainer.step();
  std::vector<Tensor> out;
  for (const auto& p : model.shared_parameters()) out.push_back(p.param->value);
  for (std::size_t t = 0; t < tasks; ++t)
    for (const auto& p : model.head_parameters(t)) out.push_back(p.param->value);
  return out;
}

bool bit_identical(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (a[k].size() != b[k].size() || std::memcmp(a[k].data(), b[k].data(), a[k].size() * sizeof(real)) != 0)
      return false;
  return true;
}

}  // namespace

TEST_SUITE("threads") {
  TEST_CASE("a run gives bit-identical parameters with 1, 2 and 3 threads (dots Gramian, T = 8)") {
    Threads restore;
    for (const char* opt : {"adam", "adamw", "sgd", "nag", "rmsprop", "adagrad", "adadelta", "nadam"}) {
      CAPTURE(opt);
      const auto one = train(1, 8, "pcgrad", opt, 3);
      const auto two = train(2, 8, "pcgrad", opt, 3);
      const auto three = train(3, 8, "pcgrad", opt, 3);
      CHECK(bit_identical(one, two));
      CHECK(bit_identical(one, three));
      // and the run moved: the parameters are not the initial ones
      const DataSplit data = classes_data(32, 300, 8);
      models::HpsMlpOptions o;
      o.trunk = {128, 128};
      models::HpsMlp fresh(o, data, 32, Rng(2), Rng(3));
      CHECK_FALSE(bit_identical({fresh.shared_parameters()[0].param->value}, {one[0]}));
    }
  }

  TEST_CASE("a run gives bit-identical parameters with 1, 2 and 3 threads (syrk Gramian, T = 16, mgda)") {
    Threads restore;
    const auto one = train(1, 16, "mgda", "adam", 2);
    CHECK(bit_identical(one, train(2, 16, "mgda", "adam", 2)));
    CHECK(bit_identical(one, train(3, 16, "mgda", "adam", 2)));
  }

  TEST_CASE("parallel::for_items covers every item once, for any thread count and size") {
    Threads restore;
    for (int th : {1, 2, 3, 5})
      for (std::size_t n : {0, 1, 2, 7, 100, 1001}) {
        parallel::set_threads(th);
        std::vector<int> hits(n, 0);
        parallel::for_items(n, 1, [&](std::size_t b, std::size_t e) {
          for (std::size_t i = b; i < e; ++i) ++hits[i];
        });
        for (std::size_t i = 0; i < n; ++i) CHECK(hits[i] == 1);
      }
    parallel::set_threads(0);
    CHECK(parallel::threads() == 1);  // clamped to 1..256
    parallel::set_threads(1000);
    CHECK(parallel::threads() == 256);
  }
}
