// SIGINT and SIGTERM through the real `mtlgrad` binary: during training and while gnuplot draws (a
// fake, slow gnuplot first on PATH), for `mtlgrad run` and `mtlgrad sweep`. Each time: the exit
// code (130 / 143), the message with the resume command, the time from the signal to the exit
// (printed; the target is under a second, the bound checked is loose for loaded machines), the
// state left behind, and that resuming ends with the bytes of an uninterrupted run.
#include "test_util.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/cli_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using mtlgrad::test::run_process_in;
using mtlgrad::test::slurp;
using mtlgrad::test::spawn_process;
using mtlgrad::test::wait_process;

namespace {

using Clock = std::chrono::steady_clock;

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("mtlgrad_interrupt_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Polls until `path` exists (true) or the process ends or a minute passes (false).
bool wait_for_file(const fs::path& path, pid_t pid) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    if (fs::exists(path)) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

struct Stopped {
  int code = -1;     // exit code, -1 if killed by a signal
  double seconds = 0;  // from the signal to the exit
  std::string err;
};

// Sends `signal` to `pid`, waits for its end, measures.
Stopped stop(pid_t pid, int signal, const fs::path& err) {
  const auto t0 = Clock::now();
  REQUIRE(::kill(pid, signal) == 0);
  const int status = wait_process(pid);
  Stopped s;
  s.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  s.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  s.err = slurp(err);
  return s;
}

json summary_without_seconds(const fs::path& dir) {
  json s = json::parse(slurp(dir / "summary.json"));
  s.erase("seconds");
  return s;
}

// The run directories' files that must be equal, byte for byte, after a resume.
void check_same_run(const fs::path& a, const fs::path& b) {
  CHECK(summary_without_seconds(a) == summary_without_seconds(b));
  for (const char* f : {"metrics.csv", "final_params.json", "config.json"}) {
    CAPTURE(f);
    CHECK(slurp(a / f) == slurp(b / f));
  }
}

// The step in "interrupted at step N;".
long interrupted_step(const std::string& err) {
  const auto at = err.find("interrupted at step ");
  if (at == std::string::npos) return -1;
  return std::stol(err.substr(at + 20));
}

// A gnuplot that answers the terminal probe at once, then on a script writes its pid to
// $FAKE_GNUPLOT_PID and sleeps for 30 s: a plot that takes long.
fs::path fake_slow_gnuplot(const fs::path& root) {
  const fs::path bin = root / "fakebin";
  fs::create_directories(bin);
  std::ofstream(bin / "gnuplot") << "#!/bin/sh\n"
                                    "[ \"$1\" = -e ] && { echo ' pngcairo png '; exit 0; }\n"
                                    "echo $$ > \"$FAKE_GNUPLOT_PID.tmp\" && mv \"$FAKE_GNUPLOT_PID.tmp\" \"$FAKE_GNUPLOT_PID\"\n"
                                    "exec sleep 30\n";
  fs::permissions(bin / "gnuplot", fs::perms::owner_all);
  return bin;
}

const char* const kToy = R"({"name": "toy", "seed": 1, "model": {"name": "toy2d", "start": [-8.5, 7.5]},
  "aggregator": "pcgrad", "optimizer": {"name": "adam", "lr": 0.001}, "steps": 300000, "log_every": 1000})";

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("SIGINT during training: exit 130, the resume command, and --resume gives the same bytes") {
  const fs::path root = scratch("train"), config = root / "toy.json", whole = root / "whole", cut = root / "cut";
  std::ofstream(config) << kToy;
  const std::vector<std::string> run = {MTLGRAD_CLI, "run", "--quiet", config.string(), "--set", "log_every=500"};
  auto with_out = [&](const fs::path& out, bool resume) {
    auto a = run;
    a.insert(a.end(), {"--out", out.string()});
    if (resume) a.push_back("--resume");
    return a;
  };
  REQUIRE(run_process_in(with_out(whole, false), root).code == 0);

  const pid_t pid = spawn_process(with_out(cut, false), root, root / "out", root / "err");
  REQUIRE_MESSAGE(wait_for_file(cut / "config.json", pid), slurp(root / "err"));  // training starts after it
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const Stopped s = stop(pid, SIGINT, root / "err");
  INFO(s.err);
  MESSAGE("mtlgrad run exited " << s.seconds << " s after SIGINT during training");
  CHECK(s.code == 130);
  CHECK(s.seconds < 5);
  const long step = interrupted_step(s.err);
  CHECK(step > 0);
  CHECK(step < 300000);
  CHECK(s.err.find("; resume with: mtlgrad run " + config.string() + " --set log_every=500 --out " + cut.string() +
                   " --resume\n") != std::string::npos);
  CHECK(s.err.find("checkpointing is off (checkpoint_every 0); a checkpoint was written at the interrupt") !=
        std::string::npos);
  CHECK(slurp(root / "out").empty());
  CHECK(fs::exists(cut / "checkpoint.cbor"));
  CHECK_FALSE(fs::exists(cut / "summary.json"));

  const auto resumed = run_process_in(with_out(cut, true), root);
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  check_same_run(cut, whole);
  CHECK_FALSE(fs::exists(cut / "checkpoint.cbor"));
  fs::remove_all(root);
}

TEST_CASE("SIGINT while gnuplot draws: gnuplot is stopped, exit 130 within a second, and --resume draws") {
  const fs::path root = scratch("plot"), config = root / "toy.json", whole = root / "whole", cut = root / "cut";
  json c = json::parse(kToy);
  c["steps"] = 2000;
  c["log_every"] = 100;
  std::ofstream(config) << c.dump();
  auto args = [&](const fs::path& out, bool resume) {
    std::vector<std::string> a = {MTLGRAD_CLI, "run", "--quiet", config.string(), "--out", out.string()};
    if (resume) a.push_back("--resume");
    return a;
  };
  REQUIRE(run_process_in(args(whole, false), root).code == 0);

  const fs::path bin = fake_slow_gnuplot(root), pid_file = root / "gnuplot.pid";
  const char* path = std::getenv("PATH");
  const pid_t pid = spawn_process(args(cut, false), root, root / "out", root / "err",
                                  {"PATH=" + bin.string() + ":" + (path ? path : "/usr/bin:/bin"),
                                   "FAKE_GNUPLOT_PID=" + pid_file.string()});
  REQUIRE_MESSAGE(wait_for_file(pid_file, pid), slurp(root / "err"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const Stopped s = stop(pid, SIGINT, root / "err");
  INFO(s.err);
  MESSAGE("mtlgrad run exited " << s.seconds << " s after SIGINT while gnuplot was drawing");
  CHECK(s.code == 130);
  CHECK(s.seconds < 3);
  CHECK(interrupted_step(s.err) == 2000);
  CHECK(s.err.find("resume with: mtlgrad run " + config.string() + " --out " + cut.string() + " --resume") !=
        std::string::npos);
  CHECK(fs::exists(cut / "checkpoint.cbor"));
  CHECK_FALSE(fs::exists(cut / "summary.json"));
  CHECK_FALSE(fs::exists(cut / "loss.png"));
  CHECK_FALSE(fs::exists(cut / "loss.png.tmp"));
  // The fake gnuplot (its sleep) was stopped with it.
  const std::string gp = "/proc/" + std::to_string(std::stol(slurp(pid_file))) + "/stat";
  bool gone = false;
  for (int k = 0; k < 100 && !gone; ++k) {
    std::ifstream stat(gp);
    std::string line;
    gone = !stat || !std::getline(stat, line) || line.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK_MESSAGE(gone, "the fake gnuplot still runs");

  const auto resumed = run_process_in(args(cut, true), root);
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  check_same_run(cut, whole);
  CHECK(fs::exists(cut / "loss.png") == fs::exists(whole / "loss.png"));
  fs::remove_all(root);
}

TEST_CASE("SIGTERM stops a sweep: exit 143, every running run checkpointed, the same command finishes it") {
  const fs::path root = scratch("sweep"), config = root / "toy.json", cut = root / "cut", ref = root / "ref";
  std::ofstream(config) << kToy;
  const std::vector<std::string> sweep = {MTLGRAD_CLI, "sweep", config.string(), "--grid", "seed=0,1", "--jobs", "2",
                                          "--no-plots", "--out", cut.string()};
  const pid_t pid = spawn_process(sweep, root, root / "out", root / "err");
  REQUIRE(wait_for_file(cut / "seed=0" / "config.json", pid));
  REQUIRE(wait_for_file(cut / "seed=1" / "config.json", pid));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const Stopped s = stop(pid, SIGTERM, root / "err");
  INFO(s.err);
  MESSAGE("mtlgrad sweep exited " << s.seconds << " s after SIGTERM");
  CHECK(s.code == 143);
  CHECK(s.seconds < 5);
  CHECK(s.err.find("sweep: interrupted; 0 of 2 runs finished, 2 stopped with a checkpoint; resume with: mtlgrad sweep " +
                   config.string() + " --grid seed=0,1 --jobs 2 --no-plots --out " + cut.string() + "\n") !=
        std::string::npos);
  for (const char* run : {"seed=0", "seed=1"}) {
    CHECK(fs::exists(cut / run / "checkpoint.cbor"));
    CHECK_FALSE(fs::exists(cut / run / "summary.json"));
    CHECK_FALSE(fs::exists(cut / run / "error.txt"));
  }
  CHECK_FALSE(fs::exists(cut / "table.md"));

  const auto again = run_process_in(sweep, root);
  INFO(again.err);
  REQUIRE(again.code == 0);
  CHECK(again.err.find("sweep: 2 ran, 0 already finished, 0 failed") != std::string::npos);
  // The same run uninterrupted, as the sweep configures it.
  REQUIRE(run_process_in({MTLGRAD_CLI, "run", "--quiet", config.string(), "--set", "seed=1", "--set",
                          "plots.enabled=false", "--out", ref.string()},
                         root)
              .code == 0);
  check_same_run(cut / "seed=1", ref);
  fs::remove_all(root);
}

}  // TEST_SUITE
