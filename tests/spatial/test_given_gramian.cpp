// aggregate_with_gramian(): the trainer hands the stage the Gramian it computed for its metrics.
// The contract is bit-identity with aggregate() — same direction, weights, pair strengths, state
// and random draws — and the same errors, for every registered stage.
#include "test_util.hpp"

#include <cstring>
#include <limits>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/gramian.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;

namespace {

// Byte equality (memcmp is undefined for the null data() of an empty tensor or vector).
bool same_bits(const real* a, const real* b, std::size_t n) { return n == 0 || std::memcmp(a, b, n * sizeof(real)) == 0; }

bool same_bits(const Tensor& a, const Tensor& b) {
  return shape_of(a) == shape_of(b) && same_bits(a.data(), b.data(), a.size());
}

bool same_bits(const std::vector<real>& a, const std::vector<real>& b) {
  return a.size() == b.size() && same_bits(a.data(), b.data(), a.size());
}

json spec_for(const std::string& name, std::size_t T) {
  json spec{{"name", name}};
  if (name == "weighted") spec["weights"] = std::vector<real>(T, real(0.5));
  return spec;
}

bool loss_based(const std::string& name) {
  for (const char* n : {"dwa", "uw", "famo", "gradnorm", "imtl", "moco", "cr-mogm", "db-mtl", "stch", "gls"})
    if (name == n) return true;
  return false;
}

}  // namespace

TEST_SUITE("spatial") {

TEST_CASE("aggregate_with_gramian equals aggregate bit for bit, for every stage, over several steps") {
  for (const auto& e : aggregators().entries()) {
    for (std::size_t T : {1u, 2u, 3u, 5u}) {
      CAPTURE(e.name);
      CAPTURE(T);
      auto plain = make_aggregator(spec_for(e.name, T));
      auto given = make_aggregator(spec_for(e.name, T));
      Rng data(17 + T), rng_plain(5), rng_given(5);
      for (int step = 0; step < 4; ++step) {
        CAPTURE(step);
        // Rows with a common component and noise, so that some pairs conflict and some do not.
        const Tensor base = data.normal_tensor(1, 37);
        Tensor J = data.normal_tensor(T, 37, 0, real(1.5));
        for (std::size_t i = 0; i < T; ++i)
          for (std::size_t c = 0; c < 37; ++c) J(i, c) += base(0, c);
        Tensor G;
        gramian_unchecked(J, G);
        std::vector<real> losses(T);
        for (std::size_t i = 0; i < T; ++i) losses[i] = real(1) + real(i) / real(2 + step);
        if (loss_based(e.name)) {
          plain->observe_losses(losses);
          given->observe_losses(losses);
        }
        Aggregation a, b;
        plain->aggregate(J, rng_plain, a);
        given->aggregate_with_gramian(J, G, rng_given, b);
        if (plain->wants_losses_after_step()) {  // famo: the losses fell by a tenth
          for (real& l : losses) l *= real(0.9);
          plain->observe_losses_after_step(losses);
          given->observe_losses_after_step(losses);
        }
        CHECK(same_bits(a.direction, b.direction));
        CHECK(same_bits(a.weights, b.weights));
        CHECK(same_bits(a.pair_strength, b.pair_strength));
        CHECK(plain->state() == given->state());
        CHECK(rng_plain.state() == rng_given.state());
      }
      // Not a trivially equal pair: the direction is a real, nonzero vector.
      Aggregation out;
      if (loss_based(e.name)) plain->observe_losses(std::vector<real>(T, real(2)));
      plain->aggregate(data.normal_tensor(T, 37), rng_plain, out);
      real norm_sq = 0;
      for (std::size_t c = 0; c < out.direction.size(); ++c) norm_sq += out.direction.data()[c] * out.direction.data()[c];
      CHECK(norm_sq > 0);
    }
  }
}

TEST_CASE("aggregate_with_gramian reports bad input like aggregate") {
  const real huge = std::is_same_v<real, double> ? real(1e200) : real(1e30);
  Tensor nan = matrix({{1, 2, 3}, {4, 5, 6}});
  nan(1, 2) = std::numeric_limits<real>::quiet_NaN();
  Tensor inf = matrix({{1, 2, 3}, {4, 5, 6}});
  inf(0, 1) = -std::numeric_limits<real>::infinity();
  const Tensor over = matrix({{1, 2, 3}, {huge, 5, 6}});
  for (const std::string name : {"sum", "pcgrad", "adam-pcgrad", "mgda", "gradvac", "graddrop", "pcgrad-momentum"}) {
    CAPTURE(name);
    // sum and graddrop need no Gramian: an overflowing ‖g_i‖² is no error for them (pcgrad-momentum
    // rejects it through the Gramian of its momentum).
    const bool needs_gramian = name != "sum" && name != "graddrop";
    for (const Tensor* J : std::vector<const Tensor*>{&nan, &inf, &over}) {
      Tensor G;
      gramian_unchecked(*J, G);
      std::string plain_error, given_error;
      Rng r1(0), r2(0);
      Aggregation out;
      try {
        make_aggregator(name)->aggregate(*J, r1, out);
      } catch (const std::invalid_argument& e) {
        plain_error = e.what();
      }
      try {
        make_aggregator(name)->aggregate_with_gramian(*J, G, r2, out);
      } catch (const std::invalid_argument& e) {
        given_error = e.what();
      }
      CHECK(plain_error.empty() == (J == &over && !needs_gramian));
      CHECK(given_error == plain_error);
    }
  }
  // The messages themselves (written out here, not taken from aggregate()).
  Tensor G;
  gramian_unchecked(nan, G);
  Rng rng(0);
  Aggregation out;
  CHECK_THROWS_WITH_SUBSTR(make_aggregator("pcgrad")->aggregate_with_gramian(nan, G, rng, out),
                           "pcgrad: non-finite gradient entry J[1][2]");
  gramian_unchecked(over, G);
  CHECK_THROWS_WITH_SUBSTR(make_aggregator("mgda")->aggregate_with_gramian(over, G, rng, out),
                           "|g_1|^2 overflows the range of real");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator("pcgrad")->aggregate_with_gramian(over, zeros(3, 3), rng, out),
                           "pcgrad: the given Gramian has shape [3,3], the Jacobian [2,3] needs 2x2");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator("sum")->aggregate_with_gramian(zeros(0, 3), zeros(0, 0), rng, out),
                           "sum: the Jacobian has no rows (T = 0 tasks)");
}

TEST_CASE("a Gramian given to one step is not used by the next") {
  // After a failed aggregate_with_gramian (NaN in J), a plain aggregate() of another J must compute
  // that J's own Gramian: pcgrad on J2 = [[1, 0], [-1, 1]] projects g_1 off g_2 and g_2 off g_1.
  auto a = make_aggregator({{"name", "pcgrad"}, {"order", "fixed"}});
  Tensor bad = matrix({{1, 0}, {0, 1}});
  bad(0, 0) = std::numeric_limits<real>::quiet_NaN();
  Tensor G;
  gramian_unchecked(bad, G);
  Rng rng(0);
  Aggregation out;
  CHECK_THROWS(a->aggregate_with_gramian(bad, G, rng, out));
  a->aggregate(matrix({{1, 0}, {-1, 1}}), rng, out);
  // By hand: g1·g2 = −1, |g2|² = 2 → g1' = (1,0) + ½(−1,1) = (½, ½); |g1|² = 1 → g2' = (−1,1) + (1,0) = (0, 1).
  CHECK_TENSOR_NEAR(out.direction, matrix({{0.5, 1.5}}), 1e-15);
}

}  // TEST_SUITE
