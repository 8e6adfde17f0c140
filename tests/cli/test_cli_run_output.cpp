// What `mtlgrad run` prints: a few lines on stderr (the final and held-out losses, the run
// directory, the plots), nothing on stdout; --json prints summary.json on stdout. The final
// parameters are in final_params.json, not in summary.json.
#include "test_util.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/cli_util.hpp"
#include "mtlgrad/run/plots.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using mtlgrad::test::run_process_in;
using mtlgrad::test::slurp;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("mtlgrad_run_output_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string g6(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("mtlgrad run prints a few lines, --json prints summary.json, final parameters go to their own file") {
  const fs::path root = scratch("mlp"), config = root / "c.json", out = root / "run";
  std::ofstream(config) << R"({"name": "mlp", "model": {"name": "hps_mlp", "trunk": [8]},
    "data": {"name": "teacher", "n": 64, "n_test": 32, "dim": 3,
             "tasks": [{"kind": "classification", "classes": 3, "name": "cls"},
                       {"kind": "regression", "outputs": 1, "name": "reg"}]},
    "batch_size": 16, "steps": 40, "log_every": 10})";
  const auto quiet = run_process_in({MTLGRAD_CLI, "run", "--quiet", config.string(), "--out", out.string()}, root);
  INFO(quiet.err);
  REQUIRE(quiet.code == 0);
  CHECK(quiet.out.empty());
  const json s = json::parse(slurp(out / "summary.json"));
  CHECK_FALSE(s.contains("final_params"));
  const json fl = s["final_losses"], ev = s["eval"];
  const std::string lines = quiet.err;
  CHECK(lines.rfind("mtlgrad run: 40 steps in ", 0) == 0);
  CHECK(lines.find("\n  final training losses: cls " + g6(fl[0]) + ", reg " + g6(fl[1]) + "\n") != std::string::npos);
  CHECK(lines.find("\n  held-out (32 examples): loss cls " + g6(ev["loss"][0]) + ", reg " + g6(ev["loss"][1]) +
                   "; accuracy cls " + g6(ev["accuracy"][0]) + "\n") != std::string::npos);
  CHECK(lines.find("\n  run directory: " + out.string() + " (summary.json, final_params.json, metrics.csv, config.json)\n") !=
        std::string::npos);
  if (!mtlgrad::gnuplot_terminal().empty())
    CHECK(lines.find("\n  plots: " + out.string() + "/loss.png\n") != std::string::npos);
  CHECK(std::count(lines.begin(), lines.end(), '\n') <= 6);

  // The parameters: every Linear's weight and bias, with shapes: trunk 3->8, heads 8->3 and 8->1.
  const json p = json::parse(slurp(out / "final_params.json"));
  std::size_t values = 0;
  for (const auto& [name, t] : p.items()) {
    CAPTURE(name);
    CHECK(t["data"].size() == t["shape"][0].get<std::size_t>() * t["shape"][1].get<std::size_t>());
    values += t["data"].size();
  }
  CHECK(values == (3 * 8 + 8) + (8 * 3 + 3) + (8 * 1 + 1));

  const fs::path again = root / "again";
  const auto json_run = run_process_in({MTLGRAD_CLI, "run", "--quiet", "--json", config.string(), "--out", again.string()}, root);
  REQUIRE(json_run.code == 0);
  json printed = json::parse(json_run.out), written = json::parse(slurp(again / "summary.json"));
  CHECK(printed == written);
  printed.erase("seconds");
  json first = s;
  first.erase("seconds");
  CHECK(printed == first);
  CHECK(slurp(again / "final_params.json") == slurp(out / "final_params.json"));
  fs::remove_all(root);
}

}  // TEST_SUITE
