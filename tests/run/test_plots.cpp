// The plots: the toy's contour data against the formula by hand, the "plots" observer (on by
// default, off with enabled = false, its option errors), and gnuplot failures that never throw.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/process.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/models/toy2d.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/plots.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace mtlgrad;

namespace {

std::string scratch(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("mtlgrad_plots_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

/// f1 + f2 of docs/algorithms.md "The 2-D toy", written out with <cmath>.
double toy_sum(double x1, double x2) {
  const double lower = 5e-6;
  const double f1_log = std::log(std::max(std::abs(0.5 * (-x1 - 7) - std::tanh(-x2)), lower)) + 6;
  const double f2_log = std::log(std::max(std::abs(0.5 * (-x1 + 3) + std::tanh(-x2) + 2), lower)) + 6;
  const double c1 = std::max(std::tanh(0.5 * x2), 0.0), c2 = std::max(std::tanh(-0.5 * x2), 0.0);
  const double f1_sq = ((-x1 + 7) * (-x1 + 7) + 0.1 * (-x2 - 8) * (-x2 - 8)) / 10 - 20;
  const double f2_sq = ((-x1 - 7) * (-x1 - 7) + 0.1 * (-x2 - 8) * (-x2 - 8)) / 10 - 20;
  return c1 * f1_log + c2 * f1_sq + c1 * f2_log + c2 * f2_sq;
}

nlohmann::json toy(std::size_t steps) {
  return {{"name", "toy"},  {"model", {{"name", "toy2d"}, {"start", {-8.5, 7.5}}}},
          {"optimizer", {{"name", "adam"}, {"lr", 0.05}}}, {"steps", steps}, {"log_every", 5}};
}

}  // namespace

TEST_SUITE("plots") {

TEST_CASE("the toy contour grid is f1 + f2 of the 2-D toy in docs/algorithms.md") {
  const std::string data = landscape_data(models::toy2d_landscape(), 5);
  std::istringstream in(data);
  std::string line;
  std::size_t points = 0, blanks = 0;
  while (std::getline(in, line)) {
    if (line.empty()) {
      ++blanks;
      continue;
    }
    double x1, x2, f;
    std::istringstream(line) >> x1 >> x2 >> f;
    CHECK(f == doctest::Approx(toy_sum(x1, x2)).epsilon(mtlgrad::tolerance(1e-5, 1e-4)));
    ++points;
  }
  CHECK(points == 25);
  CHECK(blanks == 5);  // gnuplot grid format: a blank line after each x1
  CHECK(data.rfind("-10 -10 ", 0) == 0);
}

TEST_CASE("the plots observer draws loss.png and the toy trajectory unless disabled") {
  const std::string on = scratch("on"), off = scratch("off");
  const nlohmann::json s_on = run_experiment(toy(40), on);
  nlohmann::json cfg = toy(40);
  cfg["plots"] = {{"enabled", false}};
  const nlohmann::json s_off = run_experiment(cfg, off);
  CHECK(fs::exists(on + "/loss.gp"));
  CHECK(fs::exists(on + "/trajectory.gp"));
  CHECK(fs::exists(on + "/landscape.dat"));
  CHECK_FALSE(fs::exists(off + "/loss.gp"));
  CHECK_FALSE(s_off.contains("plots"));
  if (gnuplot_terminal().empty()) {
    MESSAGE("gnuplot with a png terminal is not installed: scripts written, PNGs not checked");
  } else {
    CHECK(fs::file_size(on + "/loss.png") > 1000);
    CHECK(fs::file_size(on + "/trajectory.png") > 1000);
    CHECK(s_on["plots"] == nlohmann::json::parse(R"(["loss.png", "trajectory.png"])"));
  }
  CHECK(s_on["final_losses"] == s_off["final_losses"]);  // plotting changes nothing else
  fs::remove_all(on);
  fs::remove_all(off);
}

TEST_CASE("a plots section with an unknown key is a config error") {
  nlohmann::json cfg = toy(2);
  cfg["plots"] = {{"enabeld", false}};
  CHECK_THROWS_WITH_SUBSTR(resolve_config(cfg), "plots");
  CHECK_THROWS_WITH_SUBSTR(resolve_config(cfg), "enabled");
  cfg["plots"] = {{"enabled", "yes"}};
  CHECK_THROWS_WITH_SUBSTR(resolve_config(cfg), "plots.enabled: expected true or false");
}

TEST_CASE("a failing gnuplot script is not drawn and never throws") {
  const std::string dir = scratch("bad");
  GnuplotRun run;
  CHECK_NOTHROW(run = run_gnuplot(dir, "broken", "this is not gnuplot\n", {"broken.png"}));
  CHECK_FALSE(run.drawn);
  CHECK_FALSE(run.why.empty());
  if (!gnuplot_terminal().empty()) CHECK(run.why.rfind("gnuplot failed (exit status ", 0) == 0);
  CHECK(fs::exists(dir + "/broken.gp"));
  CHECK_NOTHROW(run = run_gnuplot(dir + "/missing/dir", "x", "plot x\n", {"x.png"}));
  CHECK_FALSE(run.drawn);
  CHECK_FALSE(plot_run(dir));  // no metrics.csv: nothing to draw
  fs::remove_all(dir);
}

TEST_CASE("gnuplot_string: quotes as U+2019, control characters replaced, nothing else touched") {
  CHECK(gnuplot_string("loss") == "'loss'");
  CHECK(gnuplot_string("it's") == "'it’s'");
  CHECK(gnuplot_string("''x''") == "'’’x’’'");
  CHECK(gnuplot_string("a\nsystem \"touch PWNED\"\n#") == "'a?system \"touch PWNED\"?#'");
  CHECK(gnuplot_string("back\\slash `cmd` @macro $(x)") == "'back\\slash `cmd` @macro $(x)'");
  CHECK(gnuplot_string(std::string("nul\0cr\r\ttab\x7f", 12)) == "'nul?cr??tab?'");
  CHECK(gnuplot_string("αβ ✓ ../x /abs") == "'αβ ✓ ../x /abs'");
}

TEST_CASE("gnuplot reads every gnuplot_string as the text itself and runs nothing") {
  // gnuplot prints each literal into a file; what it printed must be the name (quotes as ’,
  // control characters as '?'), and no file may appear but the script, its log and what it printed.
  if (find_executable("gnuplot").empty()) {
    FAIL("gnuplot is not installed (scripts/deps installs gnuplot-nox): this case runs it");
  }
  const std::string dir = scratch("strings");
  const std::vector<std::string> names = {"a\nsystem \"touch PWNED1\"\n#",
                                          "x' . system('touch PWNED2') . '",
                                          "`touch PWNED3`",
                                          "@PWNED4 $(touch PWNED5) \\",
                                          "ends in a backslash \\",
                                          "'quote \" and '' and ''' '",
                                          "αβ ✓ ../x /abs/y spaces  here",
                                          "set output 'PWNED6'\r\nplot x"};
  std::string script = "PWNED4 = 'system(\"touch PWNED7\")'\nset print 'printed.txt'\n", expected;
  for (const auto& n : names) {
    script += "print " + gnuplot_string(n) + "\n";
    std::string shown;
    for (char c : n)
      shown += c == '\'' ? std::string("’") : static_cast<unsigned char>(c) < 0x20 ? "?" : std::string(1, c);
    expected += shown + "\n";
  }
  std::ofstream(dir + "/strings.gp") << script;
  ProcessOptions o;
  o.cwd = dir;
  o.output_file = dir + "/strings.log";
  const ProcessResult r = run_process({"gnuplot", "strings.gp"}, o);
  INFO(read_file(dir + "/strings.log"));
  CHECK(r.ok());
  CHECK(read_file(dir + "/printed.txt") == expected);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"printed.txt", "strings.gp", "strings.log"});
  fs::remove_all(dir);
}

TEST_CASE("an interrupt stops the plots: run_gnuplot starts nothing and leaves no PNG") {
  const std::string dir = scratch("interrupted");
  clear_interrupt();
  request_interrupt(SIGINT);
  const GnuplotRun run = run_gnuplot(dir, "loss", "set output 'loss.png.tmp'\nplot x\n", {"loss.png"});
  clear_interrupt();
  CHECK_FALSE(run.drawn);
  CHECK(run.why == (find_executable("gnuplot").empty() ? "gnuplot is not installed" : "interrupted"));
  CHECK_FALSE(fs::exists(dir + "/loss.png"));
  CHECK_FALSE(fs::exists(dir + "/loss.png.tmp"));
  fs::remove_all(dir);
}

}  // TEST_SUITE
