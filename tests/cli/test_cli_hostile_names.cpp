// Hostile names through the real `mtlgrad` binary: task names, grid values and --out folders with
// newlines, quotes, backslashes, backquotes, gnuplot's `system`, `../`, absolute paths, unicode
// and spaces. gnuplot (when installed) draws every plot and runs none of them: no file named
// PWNED* appears anywhere under the test's folder, which is also every process's working
// directory. A config "name" that is not one folder name is refused without --out.
#include "test_util.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "cli/cli_util.hpp"
#include "mtlgrad/run/plots.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using mtlgrad::test::run_process_in;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("mtlgrad_hostile_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<std::string> pwned_files(const fs::path& root) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().filename().string().rfind("PWNED", 0) == 0) found.push_back(e.path().string());
  return found;
}

bool gnuplot_draws() { return !mtlgrad::gnuplot_terminal().empty(); }

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("hostile task names and grid values in a sweep: plots drawn, nothing run") {
  const fs::path root = scratch("sweep"), config = root / "c.json", out = root / "sw";
  const json c = {
      {"name", "hostile"},
      {"model", {{"name", "hps_mlp"}, {"trunk", {4}}}},
      {"data",
       {{"name", "teacher"},
        {"n", 64},
        {"n_test", 16},
        {"dim", 3},
        {"tasks",
         {{{"kind", "regression"}, {"outputs", 1}, {"name", "a system('touch PWNED') # `touch PWNED1` @x \\n"}},
          {{"kind", "classification"},
           {"classes", 2},
           {"name", "b' . system('touch PWNED2') . '`touch PWNED3`\\ αβ ✓ ../x /abs"}}}}}},
      {"batch_size", 16},
      {"steps", 10},
      {"log_every", 5}};
  // A task name with a control character (the newline that once ended a gnuplot command) is
  // refused before anything is written; one that is only hostile to gnuplot is accepted and inert.
  json refused = c;
  refused["data"]["tasks"][0]["name"] = "a\nsystem \"touch PWNED\"\n#";
  std::ofstream(root / "refused.json") << refused.dump();
  const auto no = run_process_in({MTLGRAD_CLI, "sweep", (root / "refused.json").string(), "--out",
                                  (root / "refused").string()}, root);
  CHECK(no.code == 1);
  CHECK(no.err.find("holds the control character") != std::string::npos);
  CHECK_FALSE(fs::exists(root / "refused" / "table.csv"));
  std::ofstream(config) << c.dump();
  // Grid values (JSON strings) that become table labels and plot titles.
  const auto r = run_process_in({MTLGRAD_CLI, "sweep", config.string(), "--jobs", "2", "--out", out.string(), "--grid",
                                 "seed=0,1", "--grid",
                                 "name=plain,\"x`touch PWNED4`'y\\\"z\\\\\",\"l1\\nsystem \\\"touch PWNED5\\\"\\n#\""},
                                root);
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.err.find("sweep: 6 ran, 0 already finished, 0 failed") != std::string::npos);
  CHECK(pwned_files(root).empty());
  if (gnuplot_draws()) {
    CHECK(fs::file_size(out / "table.png") > 1000);
    CHECK(fs::file_size(out / "curves.png") > 1000);
    for (const char* run : {"seed=0,name=plain", "seed=1,name=x_touch_PWNED4_y_z_", "seed=0,name=l1_system_touch_PWNED5_"})
      CHECK_MESSAGE(fs::file_size(out / run / "loss.png") > 1000, run);
  } else {
    MESSAGE("gnuplot is not installed: the scripts are written, nothing is drawn");
  }
  fs::remove_all(root);
}

TEST_CASE("hostile --out folders: the run goes exactly there, its plots are drawn, nothing runs") {
  const fs::path root = scratch("out"), config = root / "toy.json";
  std::ofstream(config) << R"({"name": "toy", "model": {"name": "toy2d"}, "optimizer": {"name": "sgd", "lr": 0.01},
                              "steps": 50, "log_every": 10})";
  fs::create_directories(root / "sub");
  const std::vector<std::pair<std::string, fs::path>> outs = {
      {(root / "d/x\nsystem \"touch PWNED\"\n#").string(), root / "d/x\nsystem \"touch PWNED\"\n#"},
      {(root / "q'uo\"te\\back`touch PWNED2`").string(), root / "q'uo\"te\\back`touch PWNED2`"},
      {"sp ace αβ ✓", root / "sp ace αβ ✓"},                 // relative to the working directory
      {"sub/../up", root / "up"},                            // ../ is the user's explicit choice
      {(root / "abs" / "$(touch PWNED3)").string(), root / "abs" / "$(touch PWNED3)"}};
  for (const auto& [arg, dir] : outs) {
    CAPTURE(arg);
    const auto r = run_process_in({MTLGRAD_CLI, "run", "--quiet", config.string(), "--out", arg}, root);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(fs::exists(dir / "summary.json"));
    CHECK(fs::exists(dir / "final_params.json"));
    if (gnuplot_draws()) {
      CHECK(fs::file_size(dir / "loss.png") > 1000);
      CHECK(fs::file_size(dir / "trajectory.png") > 1000);
      CHECK(r.err.find("  plots: " + arg + "/loss.png, " + arg + "/trajectory.png\n") != std::string::npos);
    }
  }
  CHECK(pwned_files(root).empty());
  fs::remove_all(root);
}

TEST_CASE("a config name is the run folder under runs/ only when it is one folder name") {
  const fs::path root = scratch("name");
  auto run = [&](const json& name, const std::string& command = "run") {
    json c = {{"model", {{"name", "toy2d"}}}, {"steps", 3}, {"plots", {{"enabled", false}}}};
    c["name"] = name;
    std::ofstream(root / "c.json") << c.dump();
    return run_process_in({MTLGRAD_CLI, command, (root / "c.json").string()}, root);
  };
  // Accepted: spaces, unicode, quotes, a leading dot.
  for (const std::string& ok : std::vector<std::string>{"my run ✓", "it's \"x\"", ".hidden"}) {
    CAPTURE(ok);
    CHECK(run(ok).code == 0);
    CHECK(fs::exists(root / "runs" / ok / "summary.json"));
  }
  // Refused, naming the key and the way out (--out); nothing written anywhere.
  fs::remove_all(root / "runs");
  for (const std::string& bad : std::vector<std::string>{"../../../../x", "/tmp/x", "a/b", "..", ".", "",
                                                         std::string("nul\0x", 5), "a\nb"}) {
    CAPTURE(bad);
    const auto r = run(bad);
    CHECK(r.code == 1);
    CHECK(r.err.find("mtlgrad run: error: name: " + json(bad).dump() + " cannot be the folder runs/<name>") == 0);
    CHECK(r.err.find("give the directory with --out") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  const auto number = run(5);
  CHECK(number.code == 1);
  CHECK(number.err == "mtlgrad run: error: name: expected a string, got number 5\n");
  const auto sweep = run("../x", "sweep");
  CHECK(sweep.code == 1);
  CHECK(sweep.err.find("name: \"../x\" cannot be the folder runs/sweep-<name>") != std::string::npos);
  CHECK_FALSE(fs::exists(root / "runs"));
  CHECK_FALSE(fs::exists(root.parent_path() / "x"));
  fs::remove_all(root);
}

}  // TEST_SUITE
