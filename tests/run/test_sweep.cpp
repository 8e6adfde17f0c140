// The sweep: grid parsing and its errors, run names, a 2×2 grid whose table is recomputed by hand
// from the four summaries, resuming after a lost summary, shards merged into the same table, and
// Δm against single-task baselines.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/plots.hpp"
#include "mtlgrad/run/sweep.hpp"
#include "mtlgrad/run/sweep_table.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace mtlgrad;

namespace {

std::string scratch(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("mtlgrad_sweep_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  return dir.string();
}

/// A small hps_mlp on teacher data: the seed changes the initialisation, so seeds differ.
nlohmann::json small_mlp() {
  return nlohmann::json::parse(R"({
    "name": "small", "seed": 0,
    "model": {"name": "hps_mlp", "trunk": [8], "head": [], "activation": "tanh"},
    "data": {"name": "teacher", "n": 96, "n_test": 48, "dim": 4, "seed": 0,
             "tasks": [{"kind": "classification", "classes": 3, "name": "c"},
                       {"kind": "regression", "outputs": 1, "name": "r"}]},
    "batch_size": 16, "aggregator": "sum", "optimizer": {"name": "sgd", "lr": 0.05},
    "steps": 12, "log_every": 4})");
}

SweepReport sweep(const nlohmann::json& base, const std::vector<GridAxis>& grid, const std::string& dir,
                  std::size_t shard = 0, std::size_t shards = 1, const std::vector<std::string>& tasks = {}) {
  SweepOptions o;
  o.out_dir = dir;
  o.jobs = 2;
  o.shard_index = shard;
  o.shard_count = shards;
  o.plots = false;
  return run_sweep(base, grid, expand_sweep(base, grid, tasks), o);
}

nlohmann::json summary(const std::string& dir, const std::string& run) {
  return nlohmann::json::parse(read_file(dir + "/" + run + "/summary.json"));
}

const std::vector<GridAxis> kGrid = {parse_grid_axis("optimizer.lr=0.05,0.2"), parse_grid_axis("seed=1,2")};

}  // namespace

TEST_SUITE("sweep") {

TEST_CASE("grid axes parse values as JSON and keep brackets together") {
  const GridAxis a = parse_grid_axis("model.start=[-8.5,7.5],[9,9],[0, 0]");
  CHECK(a.key == "model.start");
  REQUIRE(a.values.size() == 3);
  CHECK(a.values[0] == nlohmann::json::parse("[-8.5,7.5]"));
  CHECK(a.values[2] == nlohmann::json::parse("[0,0]"));
  const GridAxis b = parse_grid_axis("aggregator.name=pcgrad,sum,\"a,b\"");
  REQUIRE(b.values.size() == 3);
  CHECK(b.values[0] == "pcgrad");  // not JSON: a string
  CHECK(b.values[2] == "a,b");
  CHECK(parse_grid_axis("seed=0,1,2").values[1] == 1);
}

TEST_CASE("bad grid and shard syntax give clear errors") {
  CHECK_THROWS_WITH_SUBSTR(parse_grid_axis("seed"), "--grid seed: no '=' (expected key.path=v1,v2,...");
  CHECK_THROWS_WITH_SUBSTR(parse_grid_axis("=1,2"), "--grid =1,2: empty key");
  CHECK_THROWS_WITH_SUBSTR(parse_grid_axis("seed=1,,2"), "--grid seed=1,,2: empty value");
  CHECK_THROWS_WITH_SUBSTR(parse_grid_axis("seed="), "empty value");
  CHECK_THROWS_WITH_SUBSTR(parse_grid_axis("model.start=[1,2"), "unbalanced brackets or quotes");
  CHECK_THROWS_WITH_SUBSTR(parse_grid_axis("model.start=1,2]"), "unbalanced ']'");
  CHECK_THROWS_WITH_SUBSTR(parse_shard("2/2"), "--shard 2/2: expected i/n with 0 <= i < n");
  CHECK_THROWS_WITH_SUBSTR(parse_shard("1"), "--shard 1: expected i/n");
  CHECK_THROWS_WITH_SUBSTR(parse_shard("a/3"), "--shard a/3: expected i/n");
  CHECK(parse_shard("1/3") == std::make_pair(std::size_t(1), std::size_t(3)));
}

TEST_CASE("runs are the cartesian product with the first axis slowest and sanitised names") {
  const nlohmann::json base = {{"model", {{"name", "toy2d"}}}, {"steps", 3}};
  const auto runs = expand_sweep(base, {parse_grid_axis("model.start=[-8.5,7.5],[9,9]"), parse_grid_axis("seed=0,1")});
  REQUIRE(runs.size() == 4);
  CHECK(runs[0].name == "model.start=_-8.5,7.5_,seed=0");
  CHECK(runs[1].name == "model.start=_-8.5,7.5_,seed=1");
  CHECK(runs[2].name == "model.start=_9,9_,seed=0");
  CHECK(runs[3].index == 3);
  CHECK(runs[3].config["model"]["start"] == nlohmann::json::parse("[9,9]"));
  CHECK(runs[3].config["seed"] == 1);
  CHECK_THROWS_WITH_SUBSTR(expand_sweep(base, {parse_grid_axis("threads=1,2")}),
                           "sweep: run 'threads=2' has threads = 2; a sweep runs every run with one BLAS thread");
  CHECK_THROWS_WITH_SUBSTR(expand_sweep(base, {parse_grid_axis("name=a/b,a b")}),
                           "runs 0 and 1 get the same directory name 'name=a_b'");
  const auto with = expand_sweep(base, {parse_grid_axis("seed=3,4")}, {"f1", "f2"});
  REQUIRE(with.size() == 6);
  CHECK(with[2].name == "single-task=f1,seed=3");
  CHECK(with[5].name == "single-task=f2,seed=4");
  CHECK(with[5].config["task_weights"] == nlohmann::json::parse("[0,1]"));
  CHECK(with[5].config["aggregator"] == "sum");
  CHECK(with[5].baseline_task == 1);
}

TEST_CASE("a 2x2 sweep writes 4 runs and a table of the right groups and means and stds") {
  const std::string dir = scratch("grid");
  const SweepReport rep = sweep(small_mlp(), kGrid, dir);
  CHECK(rep.ran == 4);
  CHECK(rep.failed.empty());
  const SweepTable t = collect_sweep_table({dir});
  REQUIRE(t.rows.size() == 2);
  CHECK(t.keys == std::vector<std::string>{"optimizer.lr"});
  CHECK(t.rows[0].group == "optimizer.lr=0.05");
  CHECK(t.rows[1].group == "optimizer.lr=0.2");
  CHECK(t.has_accuracy);
  CHECK(t.has_test_loss);
  CHECK_FALSE(t.has_delta_m);
  const char* names[2][2] = {{"optimizer.lr=0.05,seed=1", "optimizer.lr=0.05,seed=2"},
                             {"optimizer.lr=0.2,seed=1", "optimizer.lr=0.2,seed=2"}};
  for (int g = 0; g < 2; ++g) {
    const auto a = summary(dir, names[g][0]), b = summary(dir, names[g][1]);
    CHECK(t.rows[std::size_t(g)].n == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      // mean = (a + b)/2; sample std of two values = |a − b| / √2.
      const double la = a["final_losses"][i], lb = b["final_losses"][i];
      CHECK(t.rows[std::size_t(g)].loss[i].mean == doctest::Approx((la + lb) / 2).epsilon(1e-12));
      CHECK(t.rows[std::size_t(g)].loss[i].std == doctest::Approx(std::abs(la - lb) / std::sqrt(2.0)).epsilon(1e-12));
      CHECK(std::abs(la - lb) > 1e-9);  // the seeds really differ
    }
    const double aa = a["eval"]["accuracy"][0], ab = b["eval"]["accuracy"][0];
    CHECK(t.rows[std::size_t(g)].accuracy[0].mean == doctest::Approx((aa + ab) / 2).epsilon(1e-12));
  }
  const std::string csv = table_csv(t);
  CHECK(csv.rfind("group,optimizer.lr,n,loss_c_mean,loss_c_std,loss_r_mean,loss_r_std,test_loss_c_mean", 0) == 0);
  CHECK(csv.find("\noptimizer.lr=0.05,0.05,2,") != std::string::npos);
  CHECK(table_markdown(t).find("| optimizer.lr=0.2 | 2 |") != std::string::npos);
  // Values with commas are quoted in the CSV (RFC 4180).
  SweepTable quoted = t;
  quoted.rows[0].key_values[0] = "[1,2]";
  quoted.rows[0].group = "x=\"[1,2]\"";
  CHECK(table_csv(quoted).find("\n\"x=\"\"[1,2]\"\"\",\"[1,2]\",2,") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("rerunning a sweep runs only the runs without summary.json") {
  const std::string dir = scratch("resume");
  REQUIRE(sweep(small_mlp(), kGrid, dir).ran == 4);
  const std::string lost = "optimizer.lr=0.2,seed=1";
  const nlohmann::json before = summary(dir, lost);
  const auto kept_time = fs::last_write_time(dir + "/optimizer.lr=0.05,seed=2/summary.json");
  fs::remove(dir + "/" + lost + "/summary.json");
  const SweepReport again = sweep(small_mlp(), kGrid, dir);
  CHECK(again.ran == 1);
  CHECK(again.skipped == 3);
  CHECK(again.ran_names == std::vector<std::string>{lost});
  CHECK(fs::last_write_time(dir + "/optimizer.lr=0.05,seed=2/summary.json") == kept_time);
  CHECK(summary(dir, lost)["final_losses"] == before["final_losses"]);  // redone, bit-identical
  fs::remove_all(dir);
}

TEST_CASE("a run interrupted after a checkpoint is resumed by the sweep and ends as if never interrupted") {
  const std::string whole = scratch("ck_whole"), broken = scratch("ck_broken");
  nlohmann::json base = small_mlp();
  base["checkpoint_every"] = 4;
  const std::vector<GridAxis> grid = {parse_grid_axis("seed=1")};
  sweep(base, grid, whole);
  // The same run, killed at step 6 (after the checkpoint of step 4), as the sweep would have started it.
  const SweepRun run = expand_sweep(base, grid).front();
  nlohmann::json config = run.config;
  config["plots"] = {{"enabled", false}};
  RunOptions killed;
  killed.on_step = [](const Trainer& t, const StepRecord&) {
    if (t.steps() == 6) throw std::runtime_error("killed");
  };
  CHECK_THROWS_WITH_SUBSTR(run_experiment(config, broken + "/" + run.name, killed), "killed");
  REQUIRE(fs::exists(broken + "/" + run.name + "/checkpoint.cbor"));
  const SweepReport rep = sweep(base, grid, broken);
  CHECK(rep.ran == 1);
  CHECK(rep.failed.empty());
  CHECK(summary(broken, run.name)["final_losses"] == summary(whole, run.name)["final_losses"]);
  CHECK(read_file(broken + "/" + run.name + "/final_params.json") == read_file(whole + "/" + run.name + "/final_params.json"));
  fs::remove_all(whole);
  fs::remove_all(broken);
}

TEST_CASE("rerunning a sweep draws the missing plots of its finished runs") {
  const std::string dir = scratch("redraw");
  const nlohmann::json toy = nlohmann::json::parse(
      R"({"name": "toy", "model": {"name": "toy2d"}, "optimizer": {"name": "sgd", "lr": 0.01}, "steps": 20,
          "log_every": 5})");
  const std::vector<GridAxis> grid = {parse_grid_axis("seed=0,1")};
  SweepOptions o;
  o.out_dir = dir;
  o.plots = false;  // the runs finish without plots, as without gnuplot
  const auto runs = expand_sweep(toy, grid);
  CHECK(run_sweep(toy, grid, runs, o).ran == 2);
  CHECK_FALSE(fs::exists(dir + "/seed=0/loss.png"));
  // The runs' own configs say "plots": {"enabled": false}: a rerun with plots on respects that...
  o.plots = true;
  CHECK(run_sweep(toy, grid, runs, o).redrawn.empty());
  // ...but a run whose config leaves the plots on and that has no loss.png gets it.
  for (const char* run : {"seed=0", "seed=1"}) {
    nlohmann::json c = nlohmann::json::parse(read_file(dir + "/" + run + "/config.json"));
    c.erase("plots");
    write_file_atomic(dir + "/" + run + "/config.json", c.dump(2) + "\n");
  }
  const SweepReport rep = run_sweep(toy, grid, runs, o);
  CHECK(rep.ran == 0);
  CHECK(rep.skipped == 2);
  if (gnuplot_terminal().empty()) {
    MESSAGE("gnuplot with a png terminal is not installed: nothing can be redrawn");
    CHECK(rep.redrawn.empty());
  } else {
    CHECK(rep.redrawn == std::vector<std::string>{"seed=0", "seed=1"});
    CHECK(fs::file_size(dir + "/seed=0/loss.png") > 1000);
    CHECK(fs::file_size(dir + "/seed=1/trajectory.png") > 1000);
    CHECK(summary(dir, "seed=0")["plots"] == nlohmann::json::parse(R"(["loss.png", "trajectory.png"])"));
    CHECK(run_sweep(toy, grid, runs, o).redrawn.empty());  // drawn once
  }
  fs::remove_all(dir);
}

TEST_CASE("an interrupted sweep starts no further run, and a rerun finishes them all") {
  // (A run stopped in its middle is tested in test_experiment.cpp and, with real signals, in
  // tests/cli/test_cli_interrupt.cpp.)
  const std::string whole = scratch("int_whole"), cut = scratch("int_cut");
  sweep(small_mlp(), kGrid, whole);
  const nlohmann::json base = small_mlp();
  SweepOptions o;
  o.out_dir = cut;
  o.jobs = 2;
  o.plots = false;
  const auto runs = expand_sweep(base, kGrid);
  clear_interrupt();
  request_interrupt(SIGINT);
  const SweepReport rep = run_sweep(base, kGrid, runs, o);
  clear_interrupt();
  CHECK(rep.interrupt_signal == SIGINT);
  CHECK(rep.ran == 0);
  CHECK(rep.failed.empty());
  for (const auto& r : runs) CHECK_FALSE(fs::exists(cut + "/" + r.name + "/summary.json"));
  const SweepReport again = run_sweep(base, kGrid, runs, o);
  CHECK(again.interrupt_signal == 0);
  CHECK(again.ran == 4);
  for (const auto& r : runs) {
    CHECK(summary(cut, r.name)["final_losses"] == summary(whole, r.name)["final_losses"]);
    CHECK(read_file(cut + "/" + r.name + "/metrics.csv") == read_file(whole + "/" + r.name + "/metrics.csv"));
  }
  fs::remove_all(whole);
  fs::remove_all(cut);
}

TEST_CASE("two shards merged give the table of the whole sweep") {
  const std::string whole = scratch("whole"), a = scratch("shard0"), b = scratch("shard1");
  sweep(small_mlp(), kGrid, whole);
  const SweepReport r0 = sweep(small_mlp(), kGrid, a, 0, 2), r1 = sweep(small_mlp(), kGrid, b, 1, 2);
  CHECK(r0.ran_names == std::vector<std::string>{"optimizer.lr=0.05,seed=1", "optimizer.lr=0.2,seed=1"});
  CHECK(r1.ran_names == std::vector<std::string>{"optimizer.lr=0.05,seed=2", "optimizer.lr=0.2,seed=2"});
  CHECK(table_csv(collect_sweep_table({a, b})) == table_csv(collect_sweep_table({whole})));
  CHECK(table_csv(collect_sweep_table({b, a})) == table_csv(collect_sweep_table({whole})));
  CHECK_THROWS_WITH_SUBSTR(collect_sweep_table({a + "/nonexistent"}), "is not a directory");
  for (const auto& d : {whole, a, b}) fs::remove_all(d);
}

TEST_CASE("delta m against single-task baselines follows the formula (positive = better)") {
  const std::string dir = scratch("baselines");
  const std::vector<GridAxis> grid = {parse_grid_axis("aggregator.name=sum,pcgrad"), parse_grid_axis("seed=1,2")};
  const SweepReport rep = sweep(small_mlp(), grid, dir, 0, 1, {"c", "r"});
  CHECK(rep.ran == 8);
  const SweepTable t = collect_sweep_table({dir});
  REQUIRE(t.rows.size() == 4);
  CHECK(t.rows[2].group == "single-task=c");
  CHECK(t.rows[3].group == "single-task=r");
  REQUIRE(t.has_delta_m);
  // Task c is a classification: its accuracy (higher is better); task r a regression: its held-out
  // loss (lower is better).
  CHECK(t.delta_m_metric == std::vector<std::string>{"accuracy", "test loss"});
  auto mean_of = [&](const std::string& run, const char* what, std::size_t i) {
    return (summary(dir, run + ",seed=1")["eval"][what][i].get<double>() +
            summary(dir, run + ",seed=2")["eval"][what][i].get<double>()) / 2;
  };
  const double s0 = mean_of("single-task=c", "accuracy", 0), s1 = mean_of("single-task=r", "loss", 1);
  const double m0 = mean_of("aggregator.name=pcgrad", "accuracy", 0), m1 = mean_of("aggregator.name=pcgrad", "loss", 1);
  const double expected = 100.0 * ((m0 - s0) / s0 - (m1 - s1) / s1) / 2;
  CHECK(t.rows[1].delta_m == doctest::Approx(expected).epsilon(1e-12));
  CHECK(std::isnan(t.rows[2].delta_m));
  CHECK(table_markdown(t).find("Positive = better than single-task training") != std::string::npos);
  fs::remove_all(dir);
}

}  // TEST_SUITE
