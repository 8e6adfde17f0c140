// A run of a known-front model writes summary.json "pareto" (checked against a hand computation),
// and a sweep of one writes front.dat (the true front, then each method's final loss vectors).
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/plots.hpp"
#include "mtlgrad/run/sweep.hpp"
#include "mtlgrad/run/sweep_table.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace mtlgrad;
using nlohmann::json;

namespace {

std::string scratch(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("mtlgrad_pareto_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

/// The blocks of a gnuplot data file (separated by two blank lines), each a list of rows.
std::vector<std::vector<std::vector<double>>> blocks(const std::string& text) {
  std::vector<std::vector<std::vector<double>>> out(1);
  std::istringstream in(text);
  std::string line;
  int blank = 0;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (++blank == 2) out.emplace_back();
      continue;
    }
    blank = 0;
    std::istringstream ls(line);
    std::vector<double> row;
    double v;
    while (ls >> v) row.push_back(v);
    out.back().push_back(row);
  }
  return out;
}

}  // namespace

TEST_SUITE("pareto run") {

TEST_CASE("summary.json pareto: sum on the quadratics ends at the centroid, by hand") {
  // SGD lr 0.1 on f1 + f2 + f3 contracts x − c by (1 − 0.3) per step toward the centroid
  // c = (1/3)·1 (w = 1/3 each); there f_i = ½((2/3)² + 2·(1/3)²) = 1/3, so the hypervolume of the
  // final point against r = 1.1·1 is (1.1 − 1/3)³.
  const std::string d = scratch("quadratics");
  const json cfg = json::parse(R"({"model": {"name": "quadratics"}, "aggregator": "sum",
      "optimizer": {"name": "sgd", "lr": 0.1}, "steps": 300, "plots": {"enabled": false}})");
  const json s = run_experiment(cfg, d);
  REQUIRE(s.contains("pareto"));
  const json& p = s["pareto"];
  CHECK(p["distance"].get<double>() < tolerance(1e-12, 1e-5));
  CHECK(p["hit"].get<bool>());
  CHECK(p["tolerance"].get<double>() == 0.01);
  for (int i = 0; i < 3; ++i) {
    CHECK(p["weights"][i].get<double>() == doctest::Approx(1.0 / 3).epsilon(tolerance(1e-9, 1e-4)));
    CHECK(p["nearest"][i].get<double>() == doctest::Approx(1.0 / 3).epsilon(tolerance(1e-9, 1e-4)));
  }
  CHECK(p["hypervolume"].get<double>() == doctest::Approx(std::pow(1.1 - 1.0 / 3, 3)).epsilon(tolerance(1e-9, 1e-4)));
  // The same in the file.
  CHECK(json::parse(read_file(d + "/summary.json"))["pareto"] == p);
  fs::remove_all(d);
}

TEST_CASE("summary.json pareto: a run that stays off the set is a miss at its exact distance") {
  // Zero steps of pareto_mtl from a given start: the distance of the start itself. n = 2,
  // x = (1, −1) ⟂ a: nearest 0, distance √2.
  const std::string d = scratch("miss");
  const json cfg = json::parse(R"({"model": {"name": "pareto_mtl", "n": 2, "start": [1, -1]}, "aggregator": "sum",
      "optimizer": {"name": "sgd", "lr": 0}, "steps": 1, "plots": {"enabled": false}})");
  const json p = run_experiment(cfg, d)["pareto"];
  CHECK(p["distance"].get<double>() == doctest::Approx(std::sqrt(2.0)));
  CHECK_FALSE(p["hit"].get<bool>());
  // f1 = f2 = 1 − e^(−(2 + 1)): the one point dominates (e^−3)² of [0, 1]².
  CHECK(p["hypervolume"].get<double>() == doctest::Approx(std::exp(-6.0)).epsilon(tolerance(1e-9, 1e-4)));
  fs::remove_all(d);
}

TEST_CASE("a sweep of a known-front model writes front.dat: the true front, then each method's final losses") {
  const std::string d = scratch("sweep");
  const json base = json::parse(R"({"model": {"name": "quadratics", "scales": [1, 10, 100]},
      "optimizer": {"name": "sgd", "lr": 0.005}, "steps": 40, "log_every": 10})");
  const std::vector<GridAxis> grid = {parse_grid_axis("aggregator.name=sum,mgda"), parse_grid_axis("seed=0,1")};
  SweepOptions o;
  o.out_dir = d;
  o.jobs = 1;
  o.plots = false;
  const SweepReport rep = run_sweep(base, grid, expand_sweep(base, grid, {}), o);
  REQUIRE(rep.failed.empty());
  write_sweep_table(collect_sweep_table({d}), d);  // what `mtlgrad sweep` does after the runs
  REQUIRE(fs::exists(d + "/front.dat"));
  const auto b = blocks(read_file(d + "/front.dat"));
  REQUIRE(b.size() == 3);  // the front, sum's panel, mgda's panel
  CHECK(b[0].size() >= 400);
  for (const auto& f : b[0]) {
    // On the triangle f_i = (s_i/2)·‖Σ_j β_j e_j − e_i‖² ∈ [0, s_i] (0 at e_i, s_i at the other vertices).
    REQUIRE(f.size() == 3);
    CHECK(f[0] >= 0);
    CHECK(f[0] <= 1 + 1e-9);
    CHECK(f[1] <= 10 + 1e-9);
    CHECK(f[2] <= 100 + 1e-9);
  }
  REQUIRE(b[1].size() == 2);
  const json s0 = json::parse(read_file(d + "/aggregator.name=sum,seed=0/summary.json"));
  for (int k = 0; k < 3; ++k) CHECK(b[1][0][std::size_t(k)] == doctest::Approx(s0["final_losses"][k].get<double>()).epsilon(1e-5));
  fs::remove_all(d);
}

}  // TEST_SUITE
