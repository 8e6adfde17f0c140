#include "test_util.hpp"

#include <cmath>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/data/data.hpp"
#include "mtlgrad/data/mmoe.hpp"
#include "mtlgrad/data/teacher.hpp"

using namespace mtlgrad;
using nlohmann::json;

namespace {

double dot_rows(const Tensor& W, std::size_t s, std::size_t t) {
  double acc = 0;
  for (std::size_t k = 0; k < W.shape(1); ++k) acc += double(W(s, k)) * double(W(t, k));
  return acc;
}

double cosine(const Tensor& W, std::size_t s, std::size_t t) {
  return dot_rows(W, s, t) / std::sqrt(dot_rows(W, s, s) * dot_rows(W, t, t));
}

double pearson(const Tensor& a, const Tensor& b) {
  const std::size_t n = a.shape(0);
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ma += double(a(i, 0)) / double(n);
    mb += double(b(i, 0)) / double(n);
  }
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = double(a(i, 0)) - ma, y = double(b(i, 0)) - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / std::sqrt(saa * sbb);
}

}  // namespace

TEST_SUITE("data") {

TEST_CASE("MMoE: the constructed weight vectors have cosine p and norm c (two tasks as in the paper)") {
  for (double p : {-0.9, -0.3, 0.0, 0.5, 0.99, 1.0}) {
    CAPTURE(p);
    const MmoeOptions o = read_mmoe_options(json{{"p", p}, {"dim", 12}, {"c", 2.5}, {"seed", 3}}, "data");
    Rng rng(o.seed);
    const MmoeTeacher t = make_mmoe_teacher(o, rng);
    REQUIRE(t.weights.shape(0) == 2);
    CHECK(std::abs(cosine(t.weights, 0, 1) - p) <= tolerance(1e-12, 1e-6));
    for (std::size_t s = 0; s < 2; ++s)
      CHECK(std::abs(std::sqrt(dot_rows(t.weights, s, s)) - 2.5) <= tolerance(1e-12, 1e-6));
  }
}

TEST_CASE("MMoE: T tasks from a matrix or planted groups and the Cholesky factor reproduces P") {
  const Tensor P = matrix({{1, 0.9, 0.5}, {0.9, 1, 0.1}, {0.5, 0.1, 1}});
  const MmoeOptions o = read_mmoe_options(
      json{{"p", {{1, 0.9, 0.5}, {0.9, 1, 0.1}, {0.5, 0.1, 1}}}, {"dim", 6}, {"n", 20000}, {"seed", 1}}, "data");
  CHECK(o.relatedness == P);
  Rng rng(1);
  const MmoeTeacher t = make_mmoe_teacher(o, rng);
  for (std::size_t s = 0; s < 3; ++s)
    for (std::size_t u = 0; u < 3; ++u) CHECK(std::abs(cosine(t.weights, s, u) - double(P(s, u))) <= tolerance(1e-12, 1e-6));

  // The labels' correlation orders the pairs as P does: (0,1) 0.9 > (0,2) 0.5 > (1,2) 0.1.
  const DataSplit d = make_mmoe(o);
  CHECK(d.train.size() == 20000);
  CHECK(d.test.size() == 500);
  CHECK_NOTHROW(d.train.check());
  const double c01 = pearson(d.train.targets[0], d.train.targets[1]);
  const double c02 = pearson(d.train.targets[0], d.train.targets[2]);
  const double c12 = pearson(d.train.targets[1], d.train.targets[2]);
  MESSAGE("label correlations " << c01 << " " << c02 << " " << c12);
  CHECK(c01 > c02);
  CHECK(c02 > c12);

  // Planted groups: {0, 1} and {2, 3}, cosine 0.8 inside and 0.2 across.
  const MmoeOptions g =
      read_mmoe_options(json{{"groups", {0, 0, 1, 1}}, {"p_in", 0.8}, {"p_out", 0.2}, {"dim", 5}}, "data");
  CHECK(g.relatedness == matrix({{1, 0.8, 0.2, 0.2}, {0.8, 1, 0.2, 0.2}, {0.2, 0.2, 1, 0.8}, {0.2, 0.2, 0.8, 1}}));
  Rng rg(0);
  const MmoeTeacher tg = make_mmoe_teacher(g, rg);
  CHECK(std::abs(cosine(tg.weights, 2, 3) - 0.8) <= tolerance(1e-12, 1e-6));
  CHECK(std::abs(cosine(tg.weights, 1, 2) - 0.2) <= tolerance(1e-12, 1e-6));

  // A singular P (p = 1 between tasks 0 and 1): L·Lᵀ = P with a zero pivot.
  const Tensor S = matrix({{1, 1, 0.3}, {1, 1, 0.3}, {0.3, 0.3, 1}});
  const Tensor L = relatedness_factor(S, "p");
  for (std::size_t s = 0; s < 3; ++s)
    for (std::size_t u = 0; u < 3; ++u) {
      double acc = 0;
      for (std::size_t k = 0; k < 3; ++k) acc += double(L(s, k)) * double(L(u, k));
      CHECK(std::abs(acc - double(S(s, u))) <= tolerance(1e-12, 1e-6));
    }
}

TEST_CASE("MMoE: the targets follow the paper's formula and noise_std scales only the noise") {
  const json spec = {{"p", 0.3}, {"dim", 4}, {"m", 3}, {"n", 400}, {"n_test", 10}, {"seed", 9}};
  json quiet = spec, loud = spec;
  quiet["noise_std"] = 0.0;
  loud["noise_std"] = {2.0, 0.5};
  const MmoeOptions oq = read_mmoe_options(quiet, "data");
  Rng rng(9);
  const MmoeTeacher t = make_mmoe_teacher(oq, rng);
  const DataSplit q = make_mmoe(oq), l = make_mmoe(read_mmoe_options(loud, "data"));
  CHECK(q.train.inputs == l.train.inputs);
  // Noise-free: y_t = w_tᵀx + Σ_k sin(α_k w_tᵀx + β_k), evaluated here term by term.
  for (std::size_t i : {0u, 123u, 399u})
    for (std::size_t k = 0; k < 2; ++k) {
      double z = 0;
      for (std::size_t j = 0; j < 4; ++j) z += double(t.weights(k, j)) * double(q.train.inputs(i, j));
      double y = z;
      for (std::size_t j = 0; j < 3; ++j) y += std::sin(double(t.alpha(0, j)) * z + double(t.beta(0, j)));
      CHECK(std::abs(double(q.train.targets[k](i, 0)) - y) <= tolerance(1e-12, 1e-4));
    }
  // The same normal draws scaled: the noise is exactly (loud − quiet), with std 2 and 0.5.
  for (std::size_t k = 0; k < 2; ++k) {
    double ss = 0;
    for (std::size_t i = 0; i < 400; ++i) {
      const double e = double(l.train.targets[k](i, 0)) - double(q.train.targets[k](i, 0));
      ss += e * e / 400;
    }
    CHECK(std::sqrt(ss) == doctest::Approx(k == 0 ? 2.0 : 0.5).epsilon(0.1));
  }
  const DataSplit again = make_mmoe(oq);
  CHECK(again.train.targets[1] == q.train.targets[1]);
  json other = quiet;
  other["seed"] = 10;
  CHECK(make_mmoe(read_mmoe_options(other, "data")).train.inputs != q.train.inputs);
}

TEST_CASE("MMoE options: every bad value names its key") {
  const auto bad = [](const json& j) { return read_mmoe_options(j, "data"); };
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"noise_sd", 0.1}}), "data.noise_sd: unknown key (did you mean 'noise_std'?)");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"p", 0.5}, {"groups", {0, 1}}}), "data.groups: give either 'p' or 'groups'");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"p", {{1, 0.5}, {0.5, 1}}}, {"tasks", 3}}), "data.tasks: 3 disagrees with the 2 tasks");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"p", {{1, 0.5}, {0.4, 1}}}}), "data.p: entries [1][0] = 0.400000 and [0][1] = 0.500000 must be equal");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"p", {{1, 0.5}, {0.5, 2}}}}), "data.p: diagonal entry [1][1] = 2.000000");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"p", {{1, 0.9, -0.9}, {0.9, 1, 0.9}, {-0.9, 0.9, 1}}}}),
                           "data.p: the relatedness matrix is not positive semidefinite");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"p", {{1, 0.5}, {0.5}}}}), "data.p: expected a number or a square array");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"p", 1.5}}), "data.p: entries [1][0] = 1.500000");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"groups", {0, 0, 0}}, {"p_in", 0.5}, {"p_out", 0.9}, {"dim", 2}}),
                           "data.dim: 2 is out of range (expected >= the number of tasks (3)");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"noise_std", {0.1, 0.2, 0.3}}}), "data.noise_std: [0.1,0.2,0.3] is out of range (expected a number or 2 numbers");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"noise_std", -1}}), "data.noise_std: -1 is out of range (expected >= 0)");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"p_out", 0.1}}), "data.p_out: only used with 'groups'");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"c", 0}}), "data.c: 0 is out of range (expected > 0)");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"n", "many"}}), "data.n: expected a non-negative integer");
}

TEST_CASE("Teacher data: shapes and labels in range and every class used and deterministic") {
  const TeacherOptions o = read_teacher_options(
      json{{"n", 600}, {"n_test", 50}, {"dim", 5}, {"seed", 2},
           {"tasks", {{{"kind", "regression"}, {"outputs", 2}, {"name", "r"}}, {{"kind", "classification"}, {"classes", 4}}}}},
      "data");
  const DataSplit d = make_teacher_data(o);
  CHECK_NOTHROW(d.train.check());
  CHECK_NOTHROW(d.test.check());
  CHECK(d.train.inputs.shape() == Shape{600, 5});
  CHECK(d.test.size() == 50);
  CHECK(d.train.targets[0].shape() == Shape{600, 2});
  CHECK(d.train.tasks[0].name == "r");
  CHECK(d.train.tasks[1].name == "task1");
  std::vector<int> counts(4, 0);
  for (std::size_t i = 0; i < 600; ++i) counts[std::size_t(d.train.targets[1](i, 0))]++;
  for (int c : counts) CHECK(c > 30);  // a random linear teacher uses every class
  double var = 0;
  for (std::size_t i = 0; i < 600; ++i) var += double(d.train.targets[0](i, 0) * d.train.targets[0](i, 0)) / 600;
  CHECK(var > 0.01);
  CHECK(var < 10);
  const DataSplit e = make_teacher_data(o);
  CHECK(e.train.targets[0] == d.train.targets[0]);
  CHECK(e.test.targets[1] == d.test.targets[1]);
}

TEST_CASE("Teacher options: every bad value names its key") {
  const auto bad = [](const json& j) { return read_teacher_options(j, "data"); };
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"tasks", {{{"kind", "regresion"}}}}}),
                           "data.tasks[0].kind: unknown kind 'regresion' (did you mean 'regression'?)");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"tasks", {{{"kind", "classification"}}}}}), "data.tasks[0]: missing required key 'classes'");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"tasks", {{{"kind", "classification"}, {"classes", 1}}}}}), "data.tasks[0].classes: 1 is out of range");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"tasks", {{{"kind", "regression"}, {"output", 2}}}}}), "data.tasks[0].output: unknown key (did you mean 'outputs'?)");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"tasks", json::array()}}), "data.tasks: expected a non-empty array");
  CHECK_THROWS_WITH_SUBSTR(bad(json{{"hidden", 0}}), "data.hidden: 0 is out of range (expected >= 1)");
}

TEST_CASE("make_data builds by name and checks the result") {
  const DataSplit m = make_data(json{{"name", "mmoe"}, {"n", 30}, {"n_test", 7}, {"dim", 4}}, "data");
  CHECK(m.train.size() == 30);
  CHECK(m.test.size() == 7);
  CHECK(m.train.num_tasks() == 2);
  const DataSplit t = make_data(json{{"name", "teacher"}, {"n", 20}}, "data");
  CHECK(t.train.tasks[1].kind == TaskSpec::Kind::classification);
  CHECK(data_sets().names() == std::vector<std::string>{"mmoe", "teacher", "multifashion"});
  for (const auto& e : data_sets().entries()) CHECK_FALSE(e.defaults.empty());
  // Every documented default is a valid option of its generator.
  CHECK_NOTHROW(read_mmoe_options(data_sets().at("mmoe", "data").defaults, "data"));
  CHECK_NOTHROW(read_teacher_options(data_sets().at("teacher", "data").defaults, "data"));
  CHECK_THROWS_WITH_SUBSTR(make_data(json{{"name", "mmoee"}}, "data"),
                           "data.name: unknown data set 'mmoee' (did you mean 'mmoe'?); available: mmoe, teacher, multifashion");
  CHECK_THROWS_WITH_SUBSTR(make_data(json{{"name", "teacher"}, {"nn", 3}}, "data"), "data.nn: unknown key (did you mean 'n'?)");
  CHECK_THROWS_WITH_SUBSTR(make_data(json{{"name", "multifashion"}, {"dir", "/nonexistent"}}, "data"),
                           "/nonexistent/train-images-idx3-ubyte.gz: cannot open");
}

}  // TEST_SUITE
