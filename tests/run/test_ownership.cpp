// A run directory belongs to one config and one process: the lock (a second writer fails at once,
// naming the holder, having written nothing), the config fingerprint (a changed config is refused
// with the keys that changed; force starts over), the same for sweeps, shards and --merge.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "mtlgrad/core/dir_lock.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/core/sha256.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/fingerprint.hpp"
#include "mtlgrad/run/sweep.hpp"
#include "mtlgrad/run/sweep_table.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace mtlgrad;
using nlohmann::json;

namespace {

std::string scratch(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("mtlgrad_own_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  return dir.string();
}

json toy(double lr, std::size_t steps = 40) {
  return json{{"name", "t"},
              {"seed", 3},
              {"model", {{"name", "toy2d"}, {"start", {-8.5, 7.5}}}},
              {"aggregator", "pcgrad"},
              {"optimizer", {{"name", "adam"}, {"lr", lr}}},
              {"steps", steps},
              {"log_every", 10},
              {"plots", {{"enabled", false}}}};
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

SweepReport sweep(const json& base, const std::vector<GridAxis>& grid, const std::string& dir, bool force = false,
                  std::size_t shard = 0, std::size_t shards = 1) {
  SweepOptions o;
  o.out_dir = dir;
  o.jobs = 2;
  o.plots = false;
  o.force = force;
  o.shard_index = shard;
  o.shard_count = shards;
  return run_sweep(base, grid, expand_sweep(base, grid), o);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace

TEST_SUITE("ownership") {

TEST_CASE("config_changes lists every changed leaf as key.path: old → new") {
  const json a = {{"optimizer", {{"name", "adam"}, {"lr", 0.001}}}, {"steps", 10}, {"seed", 1}};
  const json b = {{"optimizer", {{"name", "adam"}, {"lr", 0.5}}}, {"steps", 10}, {"batch_size", 4}};
  CHECK(config_changes(a, b) ==
        std::vector<std::string>{"batch_size: (absent) → 4", "optimizer.lr: 0.001 → 0.5", "seed: 1 → (absent)"});
  CHECK(config_changes(a, a).empty());
  CHECK(config_changes(json{{"x", {1, 2}}}, json{{"x", {1, 3}}}) == std::vector<std::string>{"x: [1,2] → [1,3]"});
  CHECK(config_changes(json{{"aggregator", "sum"}}, json{{"aggregator", {{"name", "sum"}}}}) ==
        std::vector<std::string>{"aggregator: \"sum\" → {\"name\":\"sum\"}"});
}

TEST_CASE("a run writes config.sha256, the SHA-256 of its config.json") {
  const std::string d = scratch("sha");
  run_experiment(toy(0.01), d);
  const std::string text = read_file(d + "/config.json");
  CHECK(read_file(d + "/config.sha256") == sha256_hex(text) + "  config.json\n");
  CHECK(text == canonical_json(resolve_config(toy(0.01))));
  CHECK(fingerprint(resolve_config(toy(0.01))) == sha256_hex(text));
  CHECK(listing(d) == std::vector<std::string>{".lock", "config.json", "config.sha256", "final_params.json", "metrics.csv", "summary.json",
                                               "timing.csv"});
  fs::remove_all(d);
}

TEST_CASE("a second writer into a locked run directory fails at once, naming the holder, and writes nothing") {
  const std::string d = scratch("busy");
  run_experiment(toy(0.01), d);
  const std::string config = read_file(d + "/config.json"), summary = read_file(d + "/summary.json");
  {
    fs::create_directories(d);
    DirLock holder = lock_directory(d, "run directory");  // a run in progress
    const std::string msg = message_of([&] { run_experiment(toy(0.5), d); });
    CHECK(msg.rfind("run directory " + d + " is in use by pid " + std::to_string(::getpid()) + " on host " + host_name(),
                    0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
  }
  CHECK(read_file(d + "/config.json") == config);
  CHECK(read_file(d + "/summary.json") == summary);
  fs::remove_all(d);
}

TEST_CASE("a rerun with another config is refused with the changed keys, force starts it over") {
  const std::string d = scratch("changed"), fresh = scratch("fresh");
  run_experiment(toy(0.01), d);
  const std::string before = read_file(d + "/summary.json");
  const std::string msg = message_of([&] { run_experiment(toy(0.5, 60), d); });
  // The resolved config holds the optimizer's lr as a `real` (0.009999999776482582 in a float build).
  CHECK(msg == "run directory " + d + " holds a run written by a different config: optimizer.lr: " +
               json(real(0.01)).dump() + " → 0.5, steps: 40 → 60; rerun with --force to start it over, or choose "
               "another --out");
  CHECK(read_file(d + "/summary.json") == before);
  // The same config again is no change: the run is redone into its own directory.
  CHECK_NOTHROW(run_experiment(toy(0.01), d));
  RunOptions force;
  force.force = true;
  std::ofstream(d + "/loss.png") << "an old plot";
  const json s = run_experiment(toy(0.5, 60), d, force);
  const json expect = run_experiment(toy(0.5, 60), fresh);
  CHECK(s["final_losses"] == expect["final_losses"]);
  CHECK(read_file(d + "/final_params.json") == read_file(fresh + "/final_params.json"));
  CHECK(read_file(d + "/metrics.csv") == read_file(fresh + "/metrics.csv"));
  CHECK(read_file(d + "/config.json") == read_file(fresh + "/config.json"));
  CHECK_FALSE(fs::exists(d + "/loss.png"));  // nothing of the old run is left
  fs::remove_all(d);
  fs::remove_all(fresh);
}

TEST_CASE("a sweep rerun with another base config is refused with the changed keys, --force reruns only changed runs") {
  const std::string d = scratch("sweep_changed");
  const std::vector<GridAxis> grid = {parse_grid_axis("seed=1,2")};
  REQUIRE(sweep(toy(0.001), grid, d).ran == 2);
  const std::string kept = read_file(d + "/seed=1/summary.json");
  const std::string msg = message_of([&] { sweep(toy(0.5), grid, d); });
  CHECK(msg == "sweep directory " + d + " holds a sweep of another config: optimizer.lr: 0.001 → 0.5; rerun "
               "with --force to start the changed runs over, or choose another --out");
  CHECK(read_file(d + "/seed=1/summary.json") == kept);
  CHECK(json::parse(read_file(d + "/sweep.json"))["config"]["optimizer"]["lr"] == 0.001);

  const SweepReport forced = sweep(toy(0.5), grid, d, true);
  CHECK(forced.ran == 2);
  CHECK(forced.skipped == 0);
  const std::string fresh = scratch("sweep_fresh");
  sweep(toy(0.5), grid, fresh);
  CHECK(table_csv(collect_sweep_table({d})) == table_csv(collect_sweep_table({fresh})));
  CHECK(read_file(d + "/sweep.sha256") == sha256_hex(read_file(d + "/sweep.json")) + "  sweep.json\n");

  // A grid grown by one seed: the two finished runs stay, the new one runs, the old table rows stay.
  const std::vector<GridAxis> grown = {parse_grid_axis("seed=1,2,3")};
  CHECK_THROWS_WITH_SUBSTR(sweep(toy(0.5), grown, d), "grid: [[\"seed\",[1,2]]] → [[\"seed\",[1,2,3]]], runs: 2 → 3");
  const SweepReport more = sweep(toy(0.5), grown, d, true);
  CHECK(more.ran == 1);
  CHECK(more.skipped == 2);
  CHECK(more.finished == 3);
  CHECK(collect_sweep_table({d}).runs == 3);
  // And shrunk again: the run of seed 3 is no longer part of the sweep, nor of its table.
  CHECK(sweep(toy(0.5), grid, d, true).ran == 0);
  CHECK(collect_sweep_table({d}).runs == 2);
  CHECK(table_csv(collect_sweep_table({d})) == table_csv(collect_sweep_table({fresh})));
  fs::remove_all(d);
  fs::remove_all(fresh);
}

TEST_CASE("two identical sweeps into one folder at once run every run exactly once") {
  const std::string d = scratch("twice");
  const std::vector<GridAxis> grid = {parse_grid_axis("seed=1,2,3,4,5,6")};
  SweepReport a, b;
  std::thread other([&] { a = sweep(toy(0.01, 400), grid, d); });
  b = sweep(toy(0.01, 400), grid, d);
  other.join();
  CHECK(a.ran + b.ran == 6);
  CHECK(a.failed.empty());
  CHECK(b.failed.empty());
  CHECK(a.ran + a.skipped + a.busy.size() == 6);
  CHECK(b.ran + b.skipped + b.busy.size() == 6);
  for (const auto& busy : a.busy) CHECK(busy.find(": pid " + std::to_string(::getpid()) + " on host ") != std::string::npos);
  CHECK(collect_sweep_table({d}).runs == 6);
  fs::remove_all(d);
}

TEST_CASE("--merge refuses shards of different configs, naming the keys") {
  const std::string a = scratch("merge_a"), b = scratch("merge_b");
  const std::vector<GridAxis> grid = {parse_grid_axis("seed=1,2")};
  sweep(toy(0.001), grid, a, false, 0, 2);
  sweep(toy(0.5), grid, b, false, 1, 2);
  const std::string msg = message_of([&] { collect_sweep_table({a, b}); });
  CHECK(msg == "sweep --merge: " + b + " holds a sweep of another config than " + a + ": optimizer.lr: 0.001 → 0.5 (" +
               a + " → " + b + "); merge only the shards of one sweep");
  sweep(toy(0.001), grid, b, true, 1, 2);  // shard 1 redone with the config of shard 0
  CHECK(collect_sweep_table({a, b}).runs == 2);
  fs::remove_all(a);
  fs::remove_all(b);
}

}  // TEST_SUITE
