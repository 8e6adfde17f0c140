// One config and one process per directory, through the real binary: a second `mtlgrad run` into a
// busy --out fails at once naming the holder; a sweep rerun with another config is refused with
// the changed keys and --force starts it over; --merge refuses shards of different configs; and
// the shards of one sweep, each in its own pid namespace (as on the nodes of a cluster), run at
// once into one shared folder and merge into the table of the whole sweep.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/dir_lock.hpp"
#include "mtlgrad/core/tensor.hpp"
#include "cli/cli_util.hpp"

namespace fs = std::filesystem;

namespace {

using mtlgrad::test::slurp;

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("mtlgrad_cli_own_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}


// Starts args with stdout and stderr to `log`, in the source directory; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  return mtlgrad::test::spawn_process(args, MTLGRAD_SOURCE_DIR, log, log);
}

int exit_code(pid_t pid) {
  const int status = mtlgrad::test::wait_process(pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Result {
  int code = -1;
  std::string log;
};

Result run(const std::vector<std::string>& args, const fs::path& log) {
  Result r;
  r.code = exit_code(spawn(args, log));
  r.log = slurp(log);
  return r;
}

std::vector<std::string> cli(std::vector<std::string> args) {
  args.insert(args.begin(), MTLGRAD_CLI);
  return args;
}

bool has_temporary(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_SUITE("cli ownership") {

TEST_CASE("a second mtlgrad run into a busy --out fails at once naming pid and host, and overwrites nothing") {
  const fs::path root = scratch("busy"), out = root / "run";
  std::ofstream(root / "long.json") << R"({"name": "long", "model": {"name": "toy2d"}, "aggregator": "pcgrad",
    "optimizer": {"name": "adam", "lr": 0.001}, "steps": 400000, "log_every": 1000, "plots": {"enabled": false}})";
  std::ofstream(root / "other.json") << R"({"name": "other", "model": {"name": "toy2d"}, "optimizer": {"name": "sgd",
    "lr": 0.5}, "steps": 10, "plots": {"enabled": false}})";
  const pid_t first = spawn(cli({"run", "--quiet", "--out", out.string(), (root / "long.json").string()}), root / "first.log");
  // Wait until the first run holds the lock (its pid is in the lock file).
  const std::string mine = "pid " + std::to_string(first) + " host ";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (slurp(out / ".lock").rfind(mine, 0) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(slurp(out / ".lock").rfind(mine, 0) == 0);

  for (const char* config : {"other.json", "long.json"}) {
    const auto t0 = std::chrono::steady_clock::now();
    const Result second = run(cli({"run", "--out", out.string(), (root / config).string()}), root / "second.log");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(second.code == 1);
    CHECK(second.log.rfind("mtlgrad run: error: run directory " + out.string() + " is in use by pid " +
                               std::to_string(first) + " on host " + mtlgrad::host_name() + " (since ",
                           0) == 0);
    CHECK(second.log.find("lock file " + out.string() + "/.lock\n") != std::string::npos);
    CHECK(std::count(second.log.begin(), second.log.end(), '\n') == 1);
    CHECK(seconds < 10);  // at once, not after the first run (it waits on nothing)
  }
  REQUIRE(exit_code(first) == 0);
  const std::string config = slurp(out / "config.json"), summary = slurp(out / "summary.json");
  CHECK(config.find("\"name\": \"long\"") != std::string::npos);
  CHECK(summary.find("\"steps\": 400000") != std::string::npos);
  // Now free, the other config is refused for what it is: another config.
  const Result refused = run(cli({"run", "--out", out.string(), (root / "other.json").string()}), root / "third.log");
  CHECK(refused.code == 1);
  CHECK(refused.log.find("holds a run written by a different config: ") != std::string::npos);
  CHECK(refused.log.find("aggregator.name: \"pcgrad\" → \"sum\"") != std::string::npos);
  // The resolved lr is a `real`: 0.0010000000474974513 in a float build.
  CHECK(refused.log.find("optimizer.lr: " + nlohmann::json(mtlgrad::real(0.001)).dump() + " → 0.5") != std::string::npos);
  CHECK(slurp(out / "config.json") == config);
  const Result forced = run(cli({"run", "--force", "--out", out.string(), (root / "other.json").string()}),
                            root / "fourth.log");
  CHECK(forced.code == 0);
  CHECK(slurp(out / "config.json").find("\"name\": \"other\"") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("mtlgrad sweep: a rerun with --set optimizer.lr changed is refused naming the key, --force reruns") {
  const fs::path root = scratch("sweep"), out = root / "D";
  const std::vector<std::string> common = {"sweep", "models/configs/toy2d.json", "--set", "steps=30", "--set",
                                           "log_every=10", "--no-plots", "--jobs", "2", "--grid", "seed=1,2",
                                           "--out", out.string()};
  REQUIRE(run(cli(common), root / "a.log").code == 0);
  const std::string table = slurp(out / "table.csv");
  std::vector<std::string> changed = common;
  changed.insert(changed.end(), {"--set", "optimizer.lr=0.5"});
  const Result refused = run(cli(changed), root / "b.log");
  CHECK(refused.code == 1);
  const std::string error = "\nmtlgrad sweep: error: sweep directory " + out.string() + " holds a sweep of another "
                            "config: optimizer.lr: 0.001 → 0.5; rerun with --force to start the changed runs over, or "
                            "choose another --out\n";
  CHECK(refused.log.size() > error.size());
  CHECK(refused.log.substr(refused.log.size() - error.size()) == error);  // the last line
  CHECK(refused.log.find("ran") == std::string::npos);
  CHECK(slurp(out / "table.csv") == table);
  changed.push_back("--force");
  const Result forced = run(cli(changed), root / "c.log");
  CHECK(forced.code == 0);
  CHECK(forced.log.find("sweep: 2 ran, 0 already finished, 0 failed\n") != std::string::npos);
  CHECK(slurp(out / "seed=1" / "config.json").find("\"lr\": 0.5") != std::string::npos);
  CHECK(slurp(out / "table.csv") != table);
  fs::remove_all(root);
}

TEST_CASE("mtlgrad sweep --merge refuses shards of different configs") {
  const fs::path root = scratch("merge");
  const std::vector<std::string> common = {"sweep", "models/configs/toy2d.json", "--set", "steps=10", "--no-plots",
                                           "--grid", "seed=1,2"};
  auto shard = [&](const char* spec, const char* lr, const fs::path& out) {
    std::vector<std::string> a = common;
    a.insert(a.end(), {"--shard", spec, "--set", std::string("optimizer.lr=") + lr, "--out", out.string()});
    return run(cli(a), root / "shard.log").code;
  };
  REQUIRE(shard("0/2", "0.001", root / "a") == 0);
  REQUIRE(shard("1/2", "0.002", root / "b") == 0);
  const Result m = run(cli({"sweep", "--merge", (root / "a").string(), (root / "b").string(), "--out",
                                (root / "m").string()}), root / "m.log");
  CHECK(m.code == 1);
  CHECK(m.log.find("holds a sweep of another config than " + (root / "a").string() + ": optimizer.lr: 0.001 → 0.002") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(root / "m" / "table.csv"));
  fs::remove_all(root);
}

TEST_CASE("shards in separate pid namespaces run at once into one shared folder and merge into the whole sweep") {
  // Each shard as on its own cluster node: `unshare --pid --fork --mount-proc` makes it pid 1 of a
  // namespace of its own (the old temporary names, "<file>.tmp.<pid>", collided exactly so).
  const fs::path root = scratch("pidns");
  const Result probe = run({"unshare", "--pid", "--fork", "--mount-proc", "true"}, root / "probe.log");
  if (probe.code != 0)
    FAIL("`unshare --pid --fork --mount-proc true` fails here (exit " << probe.code << ": " << probe.log
         << "): this test needs root or user namespaces to run shards in separate pid namespaces");
  const std::vector<std::string> sweep = {"sweep", "models/configs/toy2d.json", "--set", "steps=20", "--set",
                                          "log_every=10", "--no-plots", "--jobs", "1", "--grid",
                                          "aggregator.name=sum,pcgrad", "--grid", "seed=0,1,2,3,4,5"};
  std::vector<std::string> whole = cli(sweep);
  whole.insert(whole.end(), {"--out", (root / "whole").string()});
  REQUIRE(run(whole, root / "whole.log").code == 0);
  const std::string expected = slurp(root / "whole" / "table.csv");
  REQUIRE_FALSE(expected.empty());

  constexpr int kShards = 6, kRepeats = 8;
  for (int rep = 0; rep < kRepeats; ++rep) {
    CAPTURE(rep);
    const fs::path shared = root / ("shared" + std::to_string(rep));
    std::vector<pid_t> pids;
    for (int i = 0; i < kShards; ++i) {
      std::vector<std::string> a = {"unshare", "--pid", "--fork", "--mount-proc", MTLGRAD_CLI};
      a.insert(a.end(), sweep.begin(), sweep.end());
      a.insert(a.end(), {"--shard", std::to_string(i) + "/" + std::to_string(kShards), "--out", shared.string()});
      pids.push_back(spawn(a, root / ("shard" + std::to_string(i) + ".log")));
    }
    for (int i = 0; i < kShards; ++i) {
      const int code = exit_code(pids[std::size_t(i)]);
      const std::string log = slurp(root / ("shard" + std::to_string(i) + ".log"));
      CHECK_MESSAGE(code == 0, "shard " << i << ": " << log);
      CHECK(log.find("sweep: 2 ran, 0 already finished, 0 failed\n") != std::string::npos);
    }
    CHECK_FALSE(has_temporary(shared));
    // The shard that finished last wrote the table; --merge writes the same one.
    CHECK(slurp(shared / "table.csv") == expected);
    const Result m = run(cli({"sweep", "--merge", shared.string(), "--out", (shared / "merged").string()}),
                         root / "merge.log");
    CHECK(m.code == 0);
    CHECK(slurp(shared / "merged" / "table.csv") == expected);
  }
  fs::remove_all(root);
}

}  // TEST_SUITE
