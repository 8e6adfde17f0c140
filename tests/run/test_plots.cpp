// The plots: the toy's contour data against the formula by hand, the "plots" observer (on by
// default, off with enabled = false, its option errors), and gnuplot failures that never throw.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
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

/// ALGORITHMS.md §5 written out with <cmath>.
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

TEST_CASE("the toy contour grid is f1 + f2 of ALGORITHMS.md section 5") {
  const std::string data = toy_contour_data(-10, 10, 5);
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
  CHECK(fs::exists(on + "/toy_contour.dat"));
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

TEST_CASE("a failing gnuplot script returns false and never throws") {
  const std::string dir = scratch("bad");
  bool ok = true;
  CHECK_NOTHROW(ok = run_gnuplot(dir, "broken", "this is not gnuplot\n"));
  CHECK_FALSE(ok);
  CHECK(fs::exists(dir + "/broken.gp"));
  CHECK_NOTHROW(ok = run_gnuplot(dir + "/missing/dir", "x", "plot x\n"));
  CHECK_FALSE(ok);
  CHECK_FALSE(plot_run(dir));  // no metrics.csv: nothing to draw
  fs::remove_all(dir);
}

}  // TEST_SUITE
