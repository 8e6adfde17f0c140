#include "test_util.hpp"
#include "cli/cli_util.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using nlohmann::json;

namespace {

using mtlgrad::test::CliRun;

// `mtlgrad aggregate <args>` with `input` on stdin.
CliRun aggregate(const std::string& input, const std::string& args = "") {
  return mtlgrad::test::run_cli("aggregate", input, args);
}

std::vector<double> numbers(const json& j) { return j.get<std::vector<double>>(); }

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("mtlgrad aggregate: pcgrad golden value (TorchJD) on J = [[-4,1,1],[6,1,1]]") {
  const auto r = aggregate(R"({"aggregator": {"name": "pcgrad"}, "seed": 1, "steps": [[[-4, 1, 1], [6, 1, 1]]]})");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const json out = json::parse(r.out);
  REQUIRE(out["steps"].size() == 1);
  const auto d = numbers(out["steps"][0]["grad"]), w = numbers(out["steps"][0]["weights"]);
  const std::vector<double> d_ref{0.5848, 3.8012, 3.8012}, w_ref{2.2222, 1.5789};
  for (int k = 0; k < 3; ++k) CHECK(d[k] == doctest::Approx(d_ref[k]).epsilon(1e-4));
  for (int k = 0; k < 2; ++k) CHECK(w[k] == doctest::Approx(w_ref[k]).epsilon(1e-4));
  CHECK_FALSE(out["steps"][0].contains("pair_strength"));
}

TEST_CASE("mtlgrad aggregate: one stateful stage across the steps (ada-pcgrad, by hand)") {
  // λ = n/t = 1, 1/2, 2/3 (conflict, agreement, conflict); on [[1,0],[-1,1]] w = [1+λ, 1+λ/2].
  const auto r = aggregate(R"({"aggregator": {"name": "ada-pcgrad", "order": "fixed"},
      "steps": [[[1,0],[-1,1]], [[1,0],[1,1]], [[1,0],[-1,1]]]})");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const json s = json::parse(r.out)["steps"];
  REQUIRE(s.size() == 3);
  CHECK(s[1]["pair_strength"][0][1].get<double>() == doctest::Approx(0.5).epsilon(mtlgrad::tolerance(1e-12, 1e-6)));
  CHECK(s[2]["pair_strength"][1][0].get<double>() == doctest::Approx(2.0 / 3).epsilon(mtlgrad::tolerance(1e-12, 1e-6)));
  CHECK(s[2]["pair_strength"][0][0].get<double>() == 0);
  CHECK(numbers(s[2]["weights"])[0] == doctest::Approx(5.0 / 3).epsilon(mtlgrad::tolerance(1e-12, 1e-6)));
  CHECK(numbers(s[2]["grad"])[1] == doctest::Approx(4.0 / 3).epsilon(mtlgrad::tolerance(1e-12, 1e-6)));
}

TEST_CASE("mtlgrad aggregate: the loss-based dwa with the steps' losses (by hand)") {
  // DWA (Liu et al. 2019): w = 1 for the first two steps, then w = T softmax(r / 2) with
  // r_i = L_i(t−1) / L_i(t−2). Losses [1, 1], [0.5, 1], [x, x]: at step 3, r = [0.5, 1], so
  // w_1 = 2 e^{0.25} / (e^{0.25} + e^{0.5}) = 2 / (1 + e^{0.25}) = 0.875647..., w_2 = 2 − w_1.
  const auto r = aggregate(R"({"aggregator": "dwa", "losses": [[1, 1], [0.5, 1], [0.2, 0.9]],
      "steps": [[[1, 0], [0, 1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]]]})");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const json s = json::parse(r.out)["steps"];
  REQUIRE(s.size() == 3);
  CHECK(numbers(s[0]["weights"]) == std::vector<double>{1, 1});
  CHECK(numbers(s[1]["weights"]) == std::vector<double>{1, 1});
  const double w1 = 2 / (1 + std::exp(0.25));
  CHECK(numbers(s[2]["weights"])[0] == doctest::Approx(w1).epsilon(mtlgrad::tolerance(1e-12, 1e-6)));
  CHECK(numbers(s[2]["grad"])[1] == doctest::Approx(2 - w1).epsilon(mtlgrad::tolerance(1e-12, 1e-6)));
}

TEST_CASE("mtlgrad aggregate: same seed, same output, --help prints the format") {
  const std::string in = R"({"aggregator": "pcgrad", "seed": 5,
      "steps": [[[1,-2,0.5],[-1,1,1],[0.3,0.2,-1],[-0.5,-0.5,0.1]]]})";
  const auto a = aggregate(in), b = aggregate(in);
  CHECK(a.code == 0);
  CHECK(a.out == b.out);
  const auto h = aggregate("", "--help");
  CHECK(h.code == 0);
  CHECK(h.out.find("\"steps\": [J_1, J_2, ...]") != std::string::npos);
  CHECK(h.out.find("pair_strength") != std::string::npos);
  const auto bad = aggregate("{}", "--bogus");
  CHECK(bad.code == 2);
  CHECK(bad.err.find("unexpected argument '--bogus'") != std::string::npos);
}

TEST_CASE("mtlgrad aggregate: malformed input is named, exit code 1") {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"aggregator": "pcgrad", "steps": [[[1, 2)", "not valid JSON"},
      {"", "standard input is empty"},
      {R"({"aggregator": "pcgrad"})", "input: missing required key 'steps'"},
      {R"({"steps": [[[1]]]})", "input: missing required key 'aggregator'"},
      {R"({"aggregator": "pcgrad", "stepz": [[[1]]]})", "input.stepz: unknown key (did you mean 'steps'?)"},
      {R"({"aggregator": "pcgrad", "steps": []})", "input.steps: expected a non-empty list of Jacobians"},
      {R"({"aggregator": "pcgrad", "steps": [[]]})", "steps[0]: expected a non-empty list of rows"},
      {R"({"aggregator": "pcgrad", "steps": [[[1, 2], [3]]]})", "steps[0][1]: has 1 values but steps[0][0] has 2"},
      {R"({"aggregator": "pcgrad", "steps": [[[1, 2]], [[1, "x"]]]})", "steps[1][0][1]: expected a number, got string \"x\""},
      {R"({"aggregator": "pcgrad", "steps": [[[1, NaN]]]})", "not valid JSON"},
      {R"({"aggregator": "pcgrad", "steps": [[[1, 1e999]]]})", "not finite"},
      {R"({"aggregator": "pcgrad", "steps": [[[1, 2]], [[1, 2], [3, 4]]]})",
       "steps[1]: a Jacobian of shape [2,2] (T = 2 tasks) but steps[0] has shape [1,2] (T = 1)"},
      {R"({"aggregator": {"name": "adam-pcgrad", "betas": [0.9, 1]}, "steps": [[[1]]]})",
       "aggregator: adam-pcgrad: betas[1] = 1.0 is out of range (expected in [0, 1))"},
      {R"({"aggregator": {"name": "weighted", "weights": [1]}, "steps": [[[1], [2]]]})",
       "steps[0]: weighted: 1 weights for a Jacobian of T = 2 tasks"},
      {R"({"aggregator": "pcgradd", "steps": [[[1]]]})", "unknown aggregator 'pcgradd' (did you mean 'pcgrad'?)"},
      {R"({"aggregator": "uw", "steps": [[[1]]]})", "steps[0]: uw: needs this step's task losses: call observe_losses() before aggregate() (give them as \"losses\""},
      {R"({"aggregator": "dwa", "losses": [[1]], "steps": [[[1]], [[2]]]})", "input.losses: expected a list of 2 loss lists (one per step)"},
      {R"({"aggregator": "dwa", "losses": [[1, 2]], "steps": [[[1]]]})", "input.losses[0]: expected a list of 1 numbers (one per task"},
      {R"({"aggregator": "dwa", "losses": [["a"]], "steps": [[[1]]]})", "input.losses[0][0]: expected a number, got string"},
      {R"({"aggregator": "uw", "losses": [[-1e999]], "steps": [[[1]]]})", "not finite"},
  };
  for (const auto& [input, words] : cases) {
    CAPTURE(std::string(input));
    const auto r = aggregate(input);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK_MESSAGE(r.err.find(words) != std::string::npos, "stderr '" << r.err << "' lacks '" << std::string(words) << "'");
    CHECK(r.err.rfind("mtlgrad aggregate: error: ", 0) == 0);
  }
}

}  // TEST_SUITE
