// pcgrad's options by which the public implementations differ (order "shared", self_projection,
// eps) and its presets, against tools/gen_pcgrad_variants.py: each implementation's code written
// out in numpy (tests/fixtures/pcgrad_variants.json).
#include "test_util.hpp"
#include "spatial/spatial_util.hpp"

#include <cmath>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/pcgrad.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;

namespace {

const char* const kImplementations[] = {"paper", "seed-blog", "libmtl", "official-tf", "pytorch-pcgrad"};

Tensor row_of(const nlohmann::json& v) {
  Tensor t = zeros(1, v.size());
  for (std::size_t k = 0; k < v.size(); ++k) t(0, k) = v[k].get<real>();
  return t;
}

/// ‖a − b‖ / ‖b‖: the golden vectors of the eps case are ~1e-4, where an absolute floor hides eps.
double rel_err(const Tensor& a, const Tensor& b) {
  double num = 0, den = 0;
  for (std::size_t k = 0; k < b.size(); ++k) {
    num += std::pow(double(a.data()[k]) - double(b.data()[k]), 2);
    den += std::pow(double(b.data()[k]), 2);
  }
  return std::sqrt(num / den);
}

/// The implementation's settings as explicit options, with order "fixed" (the numpy reference
/// visits 0..T−1 for every task).
nlohmann::json fixed_order_spec(const nlohmann::json& settings) {
  nlohmann::json s = settings;
  s["name"] = "pcgrad";
  s["order"] = "fixed";
  return s;
}

}  // namespace

TEST_CASE("pcgrad variants: each implementation's settings with order 0..T-1 match its code, T = 2..5") {
  const auto fx = load_fixture("pcgrad_variants.json");
  for (const auto& c : fx["cases"]) {
    const Tensor J = from_rows(c["J"]);
    for (const char* impl : kImplementations) {
      INFO(c["name"].get<std::string>() << ", " << impl);
      const auto out = run(fixed_order_spec(fx["settings"][impl]), J);
      CHECK(rel_err(out.direction, row_of(c["fixed_order"][impl])) <= tolerance(1e-12, 1e-5));
    }
  }
}

TEST_CASE("pcgrad variants: the options matter where the codes differ (the fixture's differences are real)") {
  const auto fx = load_fixture("pcgrad_variants.json");
  const auto& cases = fx["cases"];
  // Visiting j = i changes d on the smallest self-projection case: paper [-0.1, -0.1], the
  // self-projecting codes 0 (up to their eps) in the first coordinate.
  const Tensor Js = from_rows(cases[2]["J"]);
  const auto paper = run({{"name", "pcgrad"}, {"order", "fixed"}}, Js);
  const auto self = run({{"name", "pcgrad"}, {"order", "fixed"}, {"self_projection", true}}, Js);
  CHECK(paper.direction(0, 0) == doctest::Approx(-0.1).epsilon(tolerance(1e-12, 1e-5)));
  CHECK(std::abs(double(self.direction(0, 0))) <= tolerance(1e-15, 1e-6));
  CHECK(self.direction(0, 1) == doctest::Approx(-0.1).epsilon(tolerance(1e-12, 1e-5)));
  // eps 1e-8 moves d by 5% when ‖g_j‖² is ~4e-8 (LibMTL's constant on small gradients).
  const Tensor Jt = from_rows(cases[1]["J"]);
  const auto no_eps = run({{"name", "pcgrad"}}, Jt);
  const auto eps = run({{"name", "pcgrad"}, {"eps", 1e-8}}, Jt);
  CHECK(rel_err(eps.direction, no_eps.direction) > 0.05);
}

TEST_CASE("pcgrad variants: every preset, random order and all, matches its code where the order cannot matter (T = 2)") {
  const auto fx = load_fixture("pcgrad_variants.json");
  for (const auto& c : fx["cases"]) {
    if (!c["order_free"].get<bool>()) continue;
    const Tensor J = from_rows(c["J"]);
    for (const char* impl : kImplementations)
      for (std::uint64_t seed : {1, 2, 3}) {
        INFO(c["name"].get<std::string>() << ", preset " << impl << ", seed " << seed);
        const auto out = run({{"name", "pcgrad"}, {"preset", impl}}, J, seed);
        CHECK(rel_err(out.direction, row_of(c["fixed_order"][impl])) <= tolerance(1e-12, 1e-5));
      }
  }
}

TEST_CASE("pcgrad variants: order \"shared\" uses the step's one permutation for every task") {
  const auto fx = load_fixture("pcgrad_variants.json");
  const auto& c = fx["cases"][3];
  const Tensor J = from_rows(c["J"]);
  int distinct = 0;
  Tensor first;
  for (std::uint64_t seed = 0; seed < 12; ++seed) {
    std::vector<std::size_t> perm = Rng(seed).permutation(J.shape(0));  // what the stage draws first
    const nlohmann::json p = perm;
    const nlohmann::json* expected = nullptr;
    for (const auto& cand : c["shared_order"])
      if (cand["perm"] == p) expected = &cand["d"];
    REQUIRE(expected != nullptr);
    const auto out = run({{"name", "pcgrad"}, {"preset", "seed-blog"}}, J, seed);
    INFO("seed " << seed);
    CHECK(rel_err(out.direction, row_of(*expected)) <= tolerance(1e-12, 1e-5));
    if (seed == 0) first = out.direction;
    else if (rel_err(out.direction, first) > 1e-6) ++distinct;
  }
  CHECK(distinct > 0);  // the permutation is drawn, not fixed
}

TEST_CASE("pcgrad variants: a preset is its settings and options() writes them out") {
  struct Expect {
    const char* preset;
    nlohmann::json options;
  };
  // From each code, read by hand (docs/pcgrad-implementations.md).
  const auto opts = [](const char* order, const char* reduction, bool self, real eps) {
    return nlohmann::json{{"name", "pcgrad"}, {"order", order}, {"reduction", reduction},
                          {"self_projection", self}, {"eps", eps}, {"preset", "none"}};
  };
  const std::vector<Expect> expect = {{"paper", opts("random", "sum", false, 0)},
                                      {"seed-blog", opts("shared", "sum", true, real(1e-12))},
                                      {"libmtl", opts("random", "sum", true, real(1e-8))},
                                      {"official-tf", opts("fixed", "sum", true, 0)},
                                      {"pytorch-pcgrad", opts("random", "mean", true, 0)}};
  for (const auto& e : expect) {
    INFO(e.preset);
    const auto a = make_aggregator({{"name", "pcgrad"}, {"preset", e.preset}});
    CHECK(a->options() == e.options);
    // The written options build the same stage (a resolved config reads back).
    CHECK(make_aggregator(a->options())->options() == e.options);
  }
  // Without options: the paper's settings, written out.
  CHECK(make_aggregator({{"name", "pcgrad"}})->options() == opts("random", "sum", false, 0));
  // The relatives write only their own options.
  CHECK(make_aggregator({{"name", "gradvac"}})->options() ==
        nlohmann::json{{"name", "gradvac"}, {"order", "random"}, {"reduction", "sum"}, {"beta", real(0.5)}});
}

TEST_CASE("pcgrad variants: bad options are one-line errors naming the option") {
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "pcgrad"}, {"preset", "libmtl"}, {"order", "fixed"}}),
                           "aggregator.preset: \"libmtl\" sets order, reduction, self_projection and eps itself");
  CHECK_THROWS_AS(make_aggregator({{"name", "pcgrad"}, {"preset", "tf"}}), ConfigError);
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "pcgrad"}, {"preset", "tf"}}), "preset");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "pcgrad"}, {"eps", -1}}), "eps");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "pcgrad"}, {"self_projection", 1}}), "self_projection");
  // The relatives keep their options: "shared" and the new keys are pcgrad's alone.
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "gradvac"}, {"order", "shared"}}), "order");
  CHECK_THROWS_WITH_SUBSTR(make_aggregator({{"name", "ada-pcgrad"}, {"self_projection", true}}), "self_projection");
}
