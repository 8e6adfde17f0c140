#include "test_util.hpp"

#include "mtlgrad/optim/aggregator.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;

namespace {

Aggregation run(const json& spec, const Tensor& J) {
  auto a = make_aggregator(spec);
  Rng rng(0);
  Aggregation out;
  a->aggregate(J, rng, out);
  return out;
}

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("sum, mean, weighted: by hand on a 3x2 Jacobian") {
  const Tensor J = matrix({{1, 2}, {-3, 4}, {5, -6}});
  auto s = run("sum", J);
  CHECK_TENSOR_NEAR(s.direction, row({3, 0}), 0);
  CHECK(s.weights == std::vector<real>{1, 1, 1});
  auto m = run("mean", J);
  CHECK_TENSOR_NEAR(m.direction, row({1, 0}), tolerance(1e-15, 4e-7));  // float: Σ w_i g_i with w = 1/3 is 1 ± 1 ulp (1.19e-7)
  CHECK(m.weights == std::vector<real>(3, real(1) / 3));
  // 0.5*(1,2) + 2*(-3,4) - 1*(5,-6) = (-10.5, 15)
  auto w = run({{"name", "weighted"}, {"weights", {0.5, 2, -1}}}, J);
  CHECK_TENSOR_NEAR(w.direction, row({-10.5, 15}), 0);
  CHECK(w.weights == std::vector<real>{0.5, 2, -1});
  CHECK(w.pair_strength.size() == 0);
}

TEST_CASE("sum, mean, weighted: P = 0 and options()") {
  CHECK(run("sum", zeros(2, 0)).direction.shape(1) == 0);
  auto a = make_aggregator({{"name", "weighted"}, {"weights", {1, 2}}});
  CHECK(a->options() == json{{"name", "weighted"}, {"weights", {1.0, 2.0}}});
  CHECK(make_aggregator("mean")->options() == json{{"name", "mean"}});
  CHECK(a->state().is_null());
}

TEST_CASE("weighted: the number of weights must equal T, errors are named") {
  CHECK_THROWS_WITH_SUBSTR(run({{"name", "weighted"}, {"weights", {1, 2}}}, zeros(3, 2)),
                           "weighted: 2 weights for a Jacobian of T = 3 tasks (shape [3,2])");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator("weighted"), "aggregator: missing required key 'weights'");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "weighted"}, {"weights", json::array()}}),
                           "aggregator.weights: [] is out of range (expected one weight per task");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "weighted"}, {"weights", {1, "a"}}}),
                           "aggregator.weights[1]: expected a number");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "sum"}, {"weights", {1}}}), "aggregator.weights: unknown key");
  CHECK_THROWS_WITH_SUBSTR(run("sum", zeros(0, 2)), "sum: the Jacobian has no rows");
}

}  // TEST_SUITE
