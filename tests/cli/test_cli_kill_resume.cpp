// Kill and resume through the real `mtlgrad` binary: a run killed with SIGKILL after a
// checkpoint leaves only whole files behind (metrics.csv and timing.csv: whole up to the length
// the checkpoint records, which is all that --resume keeps), and `mtlgrad run --resume` into the same directory
// ends with the same summary.json (but for "seconds") and metrics.csv, byte for byte, as a run
// that was never interrupted.
#include "test_util.hpp"

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
#include <thread>

#include "cli/cli_util.hpp"
#include "mtlgrad/run/checkpoint.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using mtlgrad::test::slurp;

// The toy for 60 000 steps (about a second or more), a checkpoint every 2 000.
const char* const kConfig = R"({"name": "kill", "seed": 1, "model": {"name": "toy2d", "start": [-8.5, 7.5]},
  "aggregator": "pcgrad", "optimizer": {"name": "adam", "lr": 0.001},
  "steps": 60000, "log_every": 100, "checkpoint_every": 2000})";

std::vector<std::string> run_args(const fs::path& config, const fs::path& out, bool resume) {
  std::vector<std::string> a = {MTLGRAD_CLI, "run", "--quiet", "--out", out.string(), config.string()};
  if (resume) a.push_back("--resume");
  return a;
}

// Starts the binary with stdout and stderr to `log`; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  return mtlgrad::test::spawn_process(args, fs::current_path(), log, log);
}

int run_to_end(const std::vector<std::string>& args, const fs::path& log) {
  const int status = mtlgrad::test::wait_process(spawn(args, log));
  INFO(slurp(log));
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

// Polls until `path` exists or the process ends; true if it exists while the process still runs.
bool wait_for_file(const fs::path& path, pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(path)) return true;
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

bool is_temporary(const fs::path& p) { return p.filename().string().find(".tmp.") != std::string::npos; }

// Every run-directory file that has its final name is whole: JSON and the checkpoint parse (its
// checksum holds), and the CSV files end in a newline with as many fields on each row as in the
// header. The CSV files are append-only logs: while a checkpoint exists, only their first bytes, as
// many as it records, are run state (--resume cuts off the rest), and those must be whole. (The
// plots observer's .gp, .dat, .png, .png.tmp and .gplog files, drawn when a run ends, are not run state.)
void check_files_whole(const fs::path& dir) {
  json ck;
  if (fs::exists(dir / "checkpoint.cbor"))
    REQUIRE_NOTHROW(ck = mtlgrad::open_checkpoint(slurp(dir / "checkpoint.cbor"), "checkpoint.cbor"));
  for (const auto& e : fs::directory_iterator(dir)) {
    const fs::path p = e.path();
    if (is_temporary(p)) continue;  // a write the kill interrupted, never renamed into place
    if (p.filename() == ".lock") continue;  // the directory's lock: "pid P host H ...", not run state
    const std::string ext = p.extension().string();
    if (ext == ".gp" || ext == ".dat" || ext == ".png" || ext == ".gplog" || ext == ".tmp") continue;  // .png.tmp: a plot being drawn
    CAPTURE(p.string());
    std::string bytes = slurp(p);
    const std::string log = p.stem().string();  // "metrics", "timing"
    if (p.extension() == ".csv" && !ck.is_null()) {
      const std::size_t kept = ck.at(log).at("bytes").get<std::size_t>();
      REQUIRE(bytes.size() >= kept);
      bytes.resize(kept);
    }
    REQUIRE_FALSE(bytes.empty());
    if (p.extension() == ".json") {
      CHECK_NOTHROW((void)json::parse(bytes));
    } else if (p.extension() == ".sha256") {
      CHECK(bytes.size() == 64 + 2 + p.stem().string().size() + 5 + 1);  // "<hex>  config.json\n"
    } else if (p.extension() == ".cbor") {
      CHECK(ck.contains("trainer"));
    } else if (p.extension() == ".csv") {
      REQUIRE(bytes.back() == '\n');
      std::istringstream lines(bytes);
      std::string line;
      std::getline(lines, line);
      const auto fields = std::count(line.begin(), line.end(), ',');
      while (std::getline(lines, line)) CHECK(std::count(line.begin(), line.end(), ',') == fields);
    } else {
      FAIL("unexpected file in the run directory");
    }
  }
}

json summary_without_seconds(const fs::path& dir) {
  json s = json::parse(slurp(dir / "summary.json"));
  REQUIRE(s.contains("seconds"));
  s.erase("seconds");
  return s;
}

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("kill -9 after a checkpoint then --resume: the same bytes as an uninterrupted run") {
  const fs::path root = fs::temp_directory_path() / ("mtlgrad_kill_resume_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const fs::path config = root / "config.json", whole = root / "whole", cut = root / "cut";
  std::ofstream(config) << kConfig;

  REQUIRE(run_to_end(run_args(config, whole, false), root / "whole.log") == 0);
  CHECK_FALSE(fs::exists(whole / "checkpoint.cbor"));  // removed when the run ends

  // Up to two kills: the second one lands a little after the first checkpoint, at whatever the
  // run is doing then (possibly in the middle of writing one).
  const pid_t pid = spawn(run_args(config, cut, false), root / "cut.log");
  REQUIRE_MESSAGE(wait_for_file(cut / "checkpoint.cbor", pid), "the run ended before its first checkpoint");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  REQUIRE(::kill(pid, SIGKILL) == 0);
  const int status = mtlgrad::test::wait_process(pid);
  REQUIRE_MESSAGE(WIFSIGNALED(status), "the run ended before it could be killed");
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK_FALSE(fs::exists(cut / "summary.json"));
  check_files_whole(cut);

  // One flipped bit in the checkpoint: --resume refuses it in one line naming the file.
  const std::string good = slurp(cut / "checkpoint.cbor");
  std::string flipped = good;
  flipped[good.size() - 7] = char(flipped[good.size() - 7] ^ 0x10);
  std::ofstream(cut / "checkpoint.cbor", std::ios::binary | std::ios::trunc) << flipped;
  CHECK(run_to_end(run_args(config, cut, true), root / "flipped.log") == 1);
  const std::string refused = slurp(root / "flipped.log");
  CHECK(refused.rfind("mtlgrad run: error: " + (cut / "checkpoint.cbor").string() + ": checksum mismatch", 0) == 0);
  CHECK(std::count(refused.begin(), refused.end(), '\n') == 1);
  std::ofstream(cut / "checkpoint.cbor", std::ios::binary | std::ios::trunc) << good;

  REQUIRE(run_to_end(run_args(config, cut, true), root / "resume.log") == 0);
  CHECK_FALSE(fs::exists(cut / "checkpoint.cbor"));
  CHECK(summary_without_seconds(cut) == summary_without_seconds(whole));
  CHECK(summary_without_seconds(cut).dump() == summary_without_seconds(whole).dump());
  CHECK(slurp(cut / "metrics.csv") == slurp(whole / "metrics.csv"));
  CHECK(slurp(cut / "config.json") == slurp(whole / "config.json"));
  CHECK(slurp(cut / "final_params.json") == slurp(whole / "final_params.json"));
  check_files_whole(cut);
  fs::remove_all(root);
}

TEST_CASE("kill -9 in the middle of writing: whatever is on disk parses") {
  // Checkpoints every 20 steps: the run spends much of its time writing, so kills at several
  // moments land in or between writes. Each time, every file with its final name is whole.
  const fs::path root = fs::temp_directory_path() / ("mtlgrad_kill_write_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root);
  const fs::path config = root / "config.json", out = root / "run";
  json c = json::parse(kConfig);
  c["checkpoint_every"] = 20;
  c["log_every"] = 1;
  std::ofstream(config) << c.dump();
  for (int delay_ms : {0, 3, 7, 15, 40}) {
    CAPTURE(delay_ms);
    fs::remove_all(out);
    const pid_t pid = spawn(run_args(config, out, false), root / "log");
    REQUIRE(wait_for_file(out / "checkpoint.cbor", pid));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    REQUIRE(WIFSIGNALED(mtlgrad::test::wait_process(pid)));
    check_files_whole(out);
  }
  fs::remove_all(root);
}

}  // TEST_SUITE
