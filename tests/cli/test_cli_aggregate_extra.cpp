// mtlgrad aggregate's inputs for the stages that need more than J and the losses before the step:
// "losses_after" (famo) and "extra_steps" (sdmgrad), the golden sequences of
// tools/gen_new_stages_golden_a.py through the program, and their shape errors.
#include "test_util.hpp"
#include "cli/cli_util.hpp"

using nlohmann::json;

namespace {

mtlgrad::test::CliRun aggregate(const json& input) { return mtlgrad::test::run_cli("aggregate", input.dump(), ""); }

// The case's inputs as `mtlgrad aggregate` reads them.
json input_of(const json& c) {
  json in{{"aggregator", c["spec"]}, {"steps", c["steps"]}};
  for (const char* k : {"losses", "losses_after", "extra_steps"})
    if (c.contains(k)) in[k] = c[k];
  return in;
}

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("mtlgrad aggregate: losses_after (famo) and extra_steps (sdmgrad) give the golden sequences") {
  const json fx = mtlgrad::test::load_fixture("new_stages_a.json");
  for (const json& c : {fx["famo"][0], fx["sdmgrad"][0], fx["cr-mogm"][1]}) {
    CAPTURE(c["spec"].dump());
    const auto r = aggregate(input_of(c));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const json s = json::parse(r.out)["steps"];
    REQUIRE(s.size() == c["expect"].size());
    for (std::size_t k = 0; k < s.size(); ++k)
      for (std::size_t j = 0; j < s[k]["grad"].size(); ++j) {
        const double want = c["expect"][k]["grad"][j].get<double>();
        CHECK(std::abs(s[k]["grad"][j].get<double>() - want) <= mtlgrad::tolerance(1e-9, 1e-3) * std::max(1.0, std::abs(want)));
      }
  }
  // Without its losses after the step, famo names the key at the second step.
  json c = input_of(fx["famo"][0]);
  c.erase("losses_after");
  const auto r = aggregate(c);
  CHECK(r.code != 0);
  CHECK_MESSAGE(r.err.find("steps[1]: famo: the previous step got no losses after the step") != std::string::npos, r.err);
  CHECK_MESSAGE(r.err.find("\"losses_after\"") != std::string::npos, r.err);
}

TEST_CASE("mtlgrad aggregate: malformed losses_after and extra_steps are named by their key path") {
  const json J = {{1, 2, 3, 4, 5}, {0, 1, 0, 1, 0}};
  const json J24 = {{1, 2, 3, 4}, {0, 1, 0, 1}};
  json base{{"aggregator", "sdmgrad"}, {"steps", {J, J, J, J}}};
  auto err_of = [](const json& in) {
    const auto r = aggregate(in);
    CHECK(r.code != 0);
    return r.err;
  };
  json in = base;
  in["extra_steps"] = {{J, J}, {J, J}, {J, J}, {J, J24}};
  CHECK_MESSAGE(err_of(in).find("extra_steps[3][1]: expected 2×5, got 2×4") != std::string::npos, err_of(in));
  in["extra_steps"] = {{J, J}, {J}, {J, J}, {J, J}};
  CHECK_MESSAGE(err_of(in).find("extra_steps[1]: expected [J_a, J_b]") != std::string::npos, err_of(in));
  in["extra_steps"] = {{J, J}};
  CHECK_MESSAGE(err_of(in).find("input.extra_steps: expected a list of 4 pairs") != std::string::npos, err_of(in));
  in["extra_steps"] = {{J, J}, {J, J}, {J, {{1, 2, 3, 4, 5}, {0, 1, "x", 1, 0}}}, {J, J}};
  CHECK_MESSAGE(err_of(in).find("extra_steps[2][1][1][2]: expected a number") != std::string::npos, err_of(in));
  json f{{"aggregator", "famo"}, {"steps", {J, J}}, {"losses", {{1, 2}, {1, 2}}}};
  f["losses_after"] = {{1, 2}, {1}};
  CHECK_MESSAGE(err_of(f).find("input.losses_after[1]: expected a list of 2 numbers") != std::string::npos, err_of(f));
  f["losses_after"] = {{1, 2}};
  CHECK_MESSAGE(err_of(f).find("input.losses_after: expected a list of 2 loss lists") != std::string::npos, err_of(f));
}

}  // TEST_SUITE
