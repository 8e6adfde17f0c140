// run_process (core/process.hpp): arguments reach the program verbatim (no shell ever parses
// them), the working directory, output to a file or captured, exit codes and signals, a program
// that is not there, the timeout, and the interrupt flag stopping a child (and what it started)
// within a fraction of a second.
#include "test_util.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/process.hpp"

namespace fs = std::filesystem;
using namespace mtlgrad;
using Status = ProcessResult::Status;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("mtlgrad_process_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Gone, or a zombie that its new parent has not reaped yet (it runs nothing either way).
bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close == std::string::npos || line.substr(close + 2, 1) == "Z";
}

}  // namespace

TEST_SUITE("core") {

TEST_CASE("run_process passes every argument verbatim: no shell sees them") {
  const fs::path dir = scratch("verbatim");
  ProcessOptions o;
  o.cwd = dir.string();
  o.capture = true;
  const std::vector<std::string> hostile = {"a b", "$(touch PWNED1)", "`touch PWNED2`", "x; touch PWNED3",
                                            "'\"\\", "line\nsystem \"touch PWNED4\"\n#", "αβ ✓", "../x", "/abs", "*"};
  std::vector<std::string> argv = {"printf", "[%s]"};
  argv.insert(argv.end(), hostile.begin(), hostile.end());
  const ProcessResult r = run_process(argv, o);
  CHECK(r.ok());
  std::string expected;
  for (const auto& h : hostile) expected += "[" + h + "]";
  CHECK(r.output == expected);
  for (const auto& e : fs::directory_iterator(dir)) FAIL("a file appeared: " << e.path());
  fs::remove_all(dir);
}

TEST_CASE("run_process: working directory, output file, exit codes, signals, a missing program") {
  const fs::path dir = scratch("basics");
  ProcessOptions o;
  o.cwd = dir.string();
  o.output_file = (dir / "log").string();
  CHECK(run_process({"pwd"}, o).ok());
  CHECK(slurp(dir / "log") == fs::canonical(dir).string() + "\n");

  ProcessOptions both;
  both.output_file = (dir / "both").string();
  const ProcessResult r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"}, both);
  CHECK(r.status == Status::exited);
  CHECK(r.code == 3);
  CHECK_FALSE(r.ok());
  CHECK(r.describe() == "exit status 3");
  CHECK(slurp(dir / "both") == "out\nerr\n");

  const ProcessResult killed = run_process({"sh", "-c", "kill -9 $$"});
  CHECK(killed.status == Status::signaled);
  CHECK(killed.code == SIGKILL);
  CHECK(killed.describe() == "killed by signal 9");

  const ProcessResult missing = run_process({"mtlgrad-no-such-program"});
  CHECK(missing.status == Status::not_started);
  CHECK(missing.describe() == "not started: mtlgrad-no-such-program not found on PATH");

  ProcessOptions nowhere;
  nowhere.cwd = (dir / "missing").string();
  const ProcessResult bad_cwd = run_process({"pwd"}, nowhere);
  CHECK(bad_cwd.status == Status::not_started);
  CHECK(bad_cwd.message.find("missing") != std::string::npos);

  CHECK_FALSE(find_executable("sh").empty());
  CHECK(find_executable("mtlgrad-no-such-program").empty());
  CHECK(find_executable("/bin/sh") == "/bin/sh");
  CHECK(find_executable((dir / "log").string()).empty());  // exists, not executable
  fs::remove_all(dir);
}

TEST_CASE("run_process: a timeout stops the child") {
  ProcessOptions o;
  o.timeout_seconds = 0.2;
  const ProcessResult r = run_process({"sleep", "20"}, o);
  CHECK(r.status == Status::timed_out);
  CHECK(r.seconds >= 0.2);
  CHECK(r.seconds < 5);
}

TEST_CASE("run_process: the interrupt flag stops the child and whatever it started, and starts nothing new") {
  const fs::path dir = scratch("interrupt");
  clear_interrupt();
  // The shell starts a sleep in the background and waits: both are in the child's process group.
  std::thread interrupter([&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(dir / "pid") && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    request_interrupt(SIGINT);
  });
  ProcessOptions o;
  o.cwd = dir.string();
  const auto t0 = std::chrono::steady_clock::now();
  const ProcessResult r = run_process({"sh", "-c", "sleep 30 & echo $! > pid.tmp && mv pid.tmp pid; wait"}, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  interrupter.join();
  CHECK(r.status == Status::interrupted);
  CHECK(seconds < 5);  // 10 ms polling, 0.2 s grace: about 0.1 s after the flag on an idle machine
  MESSAGE("run_process returned " << seconds << " s after the start (interrupt at ~0.05 s after the pid file)");
  const pid_t grandchild = pid_t(std::stol(slurp(dir / "pid")));
  bool gone = false;
  for (int k = 0; k < 200 && !gone; ++k) {
    gone = process_gone(grandchild);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK_MESSAGE(gone, "the background sleep of the interrupted child still runs");

  // The flag still set: nothing starts.
  const ProcessResult again = run_process({"sh", "-c", "touch started"}, o);
  CHECK(again.status == Status::interrupted);
  CHECK_FALSE(fs::exists(dir / "started"));
  clear_interrupt();
  CHECK(run_process({"true"}).ok());
  fs::remove_all(dir);
}

}  // TEST_SUITE
