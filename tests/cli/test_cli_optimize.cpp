// `mtlgrad optimize`, run as a program: a torch golden trajectory through stdin/stdout, and
// malformed inputs that must fail with a non-zero exit code and a message naming the problem.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_util.hpp"
#include "cli/cli_util.hpp"

namespace {

using OptimizeRun = mtlgrad::test::CliRun;

// `mtlgrad optimize <args>` with `input` on stdin.
OptimizeRun optimize(const std::string& input, const std::string& args = "") {
  return mtlgrad::test::run_cli("optimize", input, args);
}

}  // namespace

TEST_SUITE("cli optimize") {

TEST_CASE("mtlgrad optimize reproduces torch's Adam (amsgrad, weight decay) trajectory") {
  const auto golden = mtlgrad::test::load_fixture("optim_golden.json");
  const nlohmann::json* chosen = nullptr;
  for (const auto& c : golden["cases"])
    if (c["optimizer"]["name"] == "adam" && c["optimizer"].value("amsgrad", false) && c["optimizer"].contains("weight_decay"))
      chosen = &c;
  REQUIRE(chosen != nullptr);
  const auto& c = *chosen;
  // Parameter 0 (the 1×5 vector) has a gradient at every step.
  nlohmann::json grads = nlohmann::json::array();
  for (const auto& step : c["grads"]) grads.push_back(step[0]["data"]);
  const nlohmann::json input = {{"optimizer", c["optimizer"]}, {"params", c["params0"][0]["data"]}, {"grads", grads}};
  const auto r = optimize(input.dump());
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  const auto out = nlohmann::json::parse(r.out);
  REQUIRE(out["params"].size() == c["params"].size());
  for (std::size_t t = 0; t < c["params"].size(); ++t) {
    const auto& want = c["params"][t][0]["data"];
    REQUIRE(out["params"][t].size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      CHECK(out["params"][t][i].get<double>() ==
            doctest::Approx(want[i].get<double>()).epsilon(mtlgrad::tolerance(1e-12, 1e-5)));
  }
}

TEST_CASE("mtlgrad optimize --help describes the input and nag's look-ahead gradients") {
  const auto r = optimize("", "--help");
  CHECK(r.code == 0);
  CHECK(r.out.find("\"grads\": [g_1, g_2, ...]") != std::string::npos);
  CHECK(r.out.find("TAKEN AS EVALUATED AT THE LOOK-AHEAD POINT") != std::string::npos);
  const auto bad = optimize("", "--frobnicate");
  CHECK(bad.code == 2);
  CHECK(bad.err.find("unexpected argument '--frobnicate'") != std::string::npos);
}

TEST_CASE("malformed input: non-zero exit and a message that names what is wrong") {
  const std::string sgd = R"("optimizer": {"name": "sgd", "lr": 0.1})";
  // lr·g overflows `real` while lr and g do not (float build: 1e30² > 3.4e38).
  const std::string big = std::is_same_v<mtlgrad::real, double> ? "1e300" : "1e30";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "standard input is empty"},
      {"{\"optimizer\": ", "not valid JSON"},
      {"{" + sgd + R"(, "params": [1, 2]})", "missing required key 'grads'"},
      {"{" + sgd + R"(, "params": [1, 2], "grad": [[1, 1]]})", "input.grad: unknown key (did you mean 'grads'?)"},
      {"{" + sgd + R"(, "params": [], "grads": [[1]]})", "params: expected a non-empty list of numbers"},
      {"{" + sgd + R"(, "params": [1, 2], "grads": []})", "grads: expected a non-empty list of gradients"},
      {"{" + sgd + R"(, "params": [1, 2], "grads": [[1, 1], [1]]})", "grads[1]: has 1 values but params has 2"},
      {"{" + sgd + R"(, "params": [1, "x"], "grads": [[1, 1]]})", "params[1]: expected a number, got string \"x\""},
      {"{" + sgd + R"(, "params": [1, 2], "grads": [[1, "NaN"]]})", "grads[0][1]: expected a number, got string \"NaN\""},
      {"{" + sgd + R"(, "params": [1, 2], "grads": [[1, null]]})", "grads[0][1]: expected a number, got null"},
      {"{" + sgd + R"(, "params": [1, 2], "grads": [3]})", "grads[0]: expected a non-empty list of numbers, got number 3"},
      {R"({"optimizer": {"name": "adam", "betas": [1, 0.9]}, "params": [1], "grads": [[1]]})",
       "optimizer: adam: betas[0] = 1 is out of range (expected 0 <= beta < 1)"},
      {R"({"optimizer": {"name": "adma"}, "params": [1], "grads": [[1]]})", "unknown optimizer 'adma' (did you mean 'adam'?)"},
      {R"({"optimizer": {"name": "sgd", "lr": )" + big + R"(}, "params": [1], "grads": [[)" + big + "]]}",
       "step 1: the parameters are no longer finite (sgd diverged"},
      {R"({"optimizer": {"name": "sgd"}, "params": [1e999], "grads": [[1]]})", "number overflow parsing '1e999'"},
  };
  for (const auto& [input, words] : cases) {
    INFO("input: " << input);
    const auto r = optimize(input);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK_MESSAGE(r.err.find("mtlgrad optimize: error: ") == 0, r.err);
    CHECK_MESSAGE(r.err.find(words) != std::string::npos, "stderr '" << r.err << "' lacks '" << words << "'");
  }
}

}  // TEST_SUITE
