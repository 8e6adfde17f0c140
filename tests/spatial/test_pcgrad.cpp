#include "test_util.hpp"
#include "spatial/spatial_util.hpp"
#include "spatial/test_pcgrad_reference.hpp"

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/pcgrad.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;

namespace {



real dot_rows(const Tensor& A, std::size_t i, const Tensor& B, std::size_t j) {
  real s = 0;
  for (std::size_t k = 0; k < A.shape(1); ++k) s += A(i, k) * B(j, k);
  return s;
}

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("pcgrad: TorchJD golden value on J = [[-4,1,1],[6,1,1]]") {
  // By hand: g1·g2 = -22, |g1|^2 = 18, |g2|^2 = 38; w = [1 + 22/18, 1 + 22/38].
  const Tensor J = matrix({{-4, 1, 1}, {6, 1, 1}});
  for (const char* order : {"random", "fixed"}) {
    const auto out = run({{"name", "pcgrad"}, {"order", order}}, J);
    CHECK_TENSOR_NEAR(out.direction, row({0.5848, 3.8012, 3.8012}), 1e-4);
    CHECK_TENSOR_NEAR(as_row(out.weights), row({2.2222, 1.5789}), 1e-4);
    CHECK_TENSOR_NEAR(as_row(out.weights), row({1 + 22.0 / 18, 1 + 22.0 / 38}), tolerance(1e-15, 1e-6));
    CHECK(out.pair_strength.size() == 0);
  }
}

TEST_CASE("pcgrad: without a conflict it is the sum, mean is sum / T") {
  Rng g(3);
  const Tensor J = g.uniform_tensor(4, 6, 0.1, 1.0);  // positive entries: no pair conflicts
  const auto pc = run({{"name", "pcgrad"}}, J);
  const auto sum = run({{"name", "sum"}}, J);
  CHECK_TENSOR_NEAR(pc.direction, sum.direction, 0);
  const Tensor Jc = g.normal_tensor(4, 6);
  const auto s = run({{"name", "pcgrad"}, {"reduction", "sum"}}, Jc, 9);
  const auto m = run({{"name", "pcgrad"}, {"reduction", "mean"}}, Jc, 9);
  const Tensor quarter = s.direction / real(4);
  CHECK_TENSOR_NEAR(m.direction, quarter, tolerance(1e-15, 1e-6));
  CHECK_TENSOR_NEAR(as_row(m.weights), as_row(s.weights) / real(4), tolerance(1e-15, 1e-6));
}

TEST_CASE("pcgrad: for T = 2 the projected rows no longer conflict, and d conflicts with neither") {
  Rng g(11);
  int conflicting = 0;
  for (int trial = 0; trial < 50; ++trial) {
    const Tensor J = g.normal_tensor(2, 5);
    if (dot_rows(J, 0, J, 1) >= 0) continue;
    ++conflicting;
    const auto out = run({{"name", "pcgrad"}}, J);
    // T = 2: g1' = g1 + (w2 - 1) g2 and g2' = (w1 - 1) g1 + g2.
    Tensor Gp = zeros(2, 5);
    for (std::size_t k = 0; k < 5; ++k) {
      Gp(0, k) = J(0, k) + (out.weights[1] - 1) * J(1, k);
      Gp(1, k) = (out.weights[0] - 1) * J(0, k) + J(1, k);
    }
    const real scale = dot_rows(J, 0, J, 0) + dot_rows(J, 1, J, 1);
    CHECK(std::abs(dot_rows(Gp, 0, J, 1)) <= tolerance(1e-12, 1e-5) * scale);
    CHECK(std::abs(dot_rows(Gp, 1, J, 0)) <= tolerance(1e-12, 1e-5) * scale);
    CHECK(dot_rows(out.direction, 0, J, 0) >= -tolerance(1e-12, 1e-5) * scale);
    CHECK(dot_rows(out.direction, 0, J, 1) >= -tolerance(1e-12, 1e-5) * scale);
  }
  CHECK(conflicting > 10);
}

TEST_CASE("pcgrad: order fixed matches the paper's pseudo-code on vectors, T = 3..5") {
  Rng g(2020);
  for (std::size_t T = 3; T <= 5; ++T)
    for (int trial = 0; trial < 20; ++trial) {
      const Tensor J = g.normal_tensor(T, 7);
      for (const char* red : {"sum", "mean"}) {
        const auto out = run({{"name", "pcgrad"}, {"order", "fixed"}, {"reduction", red}}, J);
        const Tensor ref = direct_pcgrad(rows_of(J), fixed_perms(T), {}, std::string(red) == "mean");
        CHECK_TENSOR_NEAR(out.direction, ref, tolerance(1e-12, 1e-4));
      }
    }
}

TEST_CASE("pcgrad: random order matches the pseudo-code fed the same permutations, seeds decide") {
  Rng g(7);
  int order_mattered = 0;
  for (std::size_t T = 3; T <= 5; ++T)
    for (int trial = 0; trial < 20; ++trial) {
      const Tensor J = g.normal_tensor(T, 4);
      const std::uint64_t seed = 100 + trial;
      Rng perm_source(seed);
      Perms perms;
      for (std::size_t i = 0; i < T; ++i) perms.push_back(perm_source.permutation(T));
      const auto out = run({{"name", "pcgrad"}}, J, seed);
      CHECK_TENSOR_NEAR(out.direction, direct_pcgrad(rows_of(J), perms), tolerance(1e-12, 1e-4));
      // Same seed, same output, bit for bit.
      const auto again = run({{"name", "pcgrad"}}, J, seed);
      CHECK(again.direction == out.direction);
      CHECK(again.weights == out.weights);
      const Tensor fixed = direct_pcgrad(rows_of(J), fixed_perms(T));
      if (max_rel_err(out.direction, fixed) > 1e-6) ++order_mattered;
    }
  CHECK(order_mattered > 5);  // the test above can tell the orders apart
}

TEST_CASE("pcgrad: T = 1, zero rows, P = 0") {
  const Tensor one = matrix({{1, -2, 3}});
  CHECK_TENSOR_NEAR(run({{"name", "pcgrad"}}, one).direction, one, 0);
  // A zero row never causes a projection (no epsilon needed) and others pass through.
  const Tensor J = matrix({{0, 0, 0}, {1, 2, 3}, {-1, 0, 0}});
  const auto out = run({{"name", "pcgrad"}, {"order", "fixed"}}, J);
  CHECK(all_finite(out.direction));
  CHECK_TENSOR_NEAR(out.direction, direct_pcgrad(rows_of(J), fixed_perms(3)), tolerance(1e-14, 1e-6));
  CHECK(out.weights[0] == 1);
  const Tensor Z = zeros(3, 4);
  CHECK_TENSOR_NEAR(run({{"name", "pcgrad"}}, Z).direction, zeros(1, 4), 0);
  CHECK(run({{"name", "pcgrad"}}, zeros(2, 0)).direction.shape(1) == 0);
}

TEST_CASE("pcgrad: bad input and bad options are named") {
  CHECK_THROWS_WITH_SUBSTR(run({{"name", "pcgrad"}}, zeros(0, 3)), "pcgrad: the Jacobian has no rows");
  Tensor J = matrix({{1, 2}, {3, 4}});
  J(1, 0) = std::numeric_limits<real>::quiet_NaN();
  CHECK_THROWS_WITH_SUBSTR(run({{"name", "pcgrad"}}, J), "pcgrad: non-finite gradient entry J[1][0]");
  const real huge = std::numeric_limits<real>::max() / 4;  // finite, but its square is not
  CHECK_THROWS_WITH_SUBSTR(run({{"name", "pcgrad"}}, matrix({{1, 0}, {huge, 1}})),
                           "gramian: |g_1|^2 overflows the range of real (row 1 of the Jacobian [2,2]");
  CHECK_THROWS_WITH_SUBSTR(run({{"name", "ada-pcgrad"}}, matrix({{1, 0}, {huge, 1}})), "gramian: |g_1|^2 overflows");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "pcgrad"}, {"order", "sorted"}}),
                           "aggregator.order: \"sorted\" is out of range (expected \"random\", \"fixed\" or \"shared\")");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "pcgrad"}, {"reduction", "max"}}),
                           "aggregator.reduction: \"max\" is out of range (expected \"sum\" or \"mean\")");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "pcgrad"}, {"ordre", "fixed"}}),
                           "aggregator.ordre: unknown key (did you mean 'order'?)");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "pcgard"}}), "unknown aggregator 'pcgard' (did you mean 'pcgrad'?)");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "pcgrad"}, {"order", 1}}),
                           "aggregator.order: expected a string, got number 1");
}

TEST_CASE("pcgrad: options() lists every option and rebuilds the same stage") {
  auto a = make_aggregator({{"name", "pcgrad"}, {"order", "fixed"}});
  CHECK(a->options() == json{{"name", "pcgrad"}, {"order", "fixed"}, {"reduction", "sum"},
                             {"self_projection", false}, {"eps", 0}, {"preset", "none"}});
  CHECK(make_aggregator(a->options())->options() == a->options());
  CHECK(a->state().is_null());
}

}  // TEST_SUITE
