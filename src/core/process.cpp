#include "mtlgrad/core/process.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtlgrad/core/interrupt.hpp"

extern char** environ;

namespace mtlgrad {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPoll = std::chrono::milliseconds(10);
constexpr auto kGrace = std::chrono::milliseconds(200);  // SIGTERM, then SIGKILL after this
constexpr std::size_t kMaxCapture = std::size_t(1) << 20;

bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

/// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

/// Frees the posix_spawn structures when they go out of scope.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

/// Reads what the pipe holds now into `out` (up to kMaxCapture); true at its end (every writer gone).
bool drain(int fd, std::string& out) {
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, std::min(std::size_t(n), kMaxCapture - std::min(kMaxCapture, out.size())));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n == 0;  // 0: end of file; EAGAIN: nothing more for now
  }
}

/// Waits up to `limit` for `pid` to end, without reaping it (its pid, and so its process group's
/// id, cannot be reused until it is reaped); true if it ended.
bool ended_within(pid_t pid, Clock::duration limit) {
  const auto until = Clock::now() + limit;
  while (true) {
    siginfo_t info{};
    const int r = ::waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && info.si_pid == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child any more: nothing to wait for
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

/// SIGTERM to the child's process group, SIGKILL after the grace period (or at once to whatever
/// the child started and left behind), then reaps the child.
void stop_group(pid_t pid) {
  ::kill(-pid, SIGTERM);
  ended_within(pid, kGrace);
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

std::string find_executable(const std::string& name) {
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return executable_file(name) ? name : "";
  const char* env = std::getenv("PATH");
  const std::string path = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= path.size()) {
    const std::size_t end = std::min(path.find(':', begin), path.size());
    const std::string dir = path.substr(begin, end - begin);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (executable_file(candidate)) return candidate;
    begin = end + 1;
  }
  return "";
}

std::string ProcessResult::describe() const {
  char buf[64];
  switch (status) {
    case Status::exited:
      return "exit status " + std::to_string(code);
    case Status::signaled:
      return "killed by signal " + std::to_string(code);
    case Status::timed_out:
      std::snprintf(buf, sizeof buf, "timed out after %.1f s", seconds);
      return buf;
    case Status::interrupted:
      return "interrupted";
    case Status::not_started:
      break;
  }
  return "not started: " + message;
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult result;
  if (interrupt_signal()) {
    result.status = ProcessResult::Status::interrupted;
    return result;
  }
  if (argv.empty()) {
    result.message = "no program given";
    return result;
  }
  const std::string program = find_executable(argv[0]);
  if (program.empty()) {
    result.message = argv[0] + " not found on PATH";
    return result;
  }

  SpawnSetup setup;
  Fd read_end;
  int pipe_fds[2] = {-1, -1};
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  if (options.capture) {
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      result.message = std::string("pipe: ") + std::strerror(errno);
      return result;
    }
    read_end.fd = pipe_fds[0];
    posix_spawn_file_actions_adddup2(&setup.actions, pipe_fds[1], 1);
  } else {
    const std::string out = options.output_file.empty() ? "/dev/null" : options.output_file;
    posix_spawn_file_actions_addopen(&setup.actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  posix_spawn_file_actions_adddup2(&setup.actions, 1, 2);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions, options.cwd.c_str());
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setpgroup(&setup.attr, 0);  // its own group: a stop reaches whatever it starts
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto t0 = Clock::now();
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attr, args.data(), environ);
  if (pipe_fds[1] >= 0) ::close(pipe_fds[1]);  // the child holds the write end now
  if (err != 0) {
    result.message = program + ": " + std::strerror(err) +
                     (options.cwd.empty() ? std::string() : " (working directory " + options.cwd + ")");
    return result;
  }
  if (read_end.fd >= 0) ::fcntl(read_end.fd, F_SETFL, O_NONBLOCK);

  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      result.message = std::string("waitpid: ") + std::strerror(errno);
      return result;
    }
    const bool timed_out =
        options.timeout_seconds > 0 &&
        std::chrono::duration<double>(Clock::now() - t0).count() >= options.timeout_seconds;
    if (interrupt_signal() || timed_out) {
      stop_group(pid);
      result.status = timed_out && !interrupt_signal() ? ProcessResult::Status::timed_out
                                                       : ProcessResult::Status::interrupted;
      result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      if (read_end.fd >= 0) drain(read_end.fd, result.output);
      return result;
    }
    if (read_end.fd >= 0) {
      pollfd p{read_end.fd, POLLIN, 0};
      if (::poll(&p, 1, int(kPoll.count())) > 0 && drain(read_end.fd, result.output)) {
        ::close(read_end.fd);  // the child closed its output: wait for its end by sleeping
        read_end.fd = -1;
      }
    } else {
      std::this_thread::sleep_for(kPoll);
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (read_end.fd >= 0) drain(read_end.fd, result.output);
  if (WIFEXITED(status)) {
    result.status = ProcessResult::Status::exited;
    result.code = WEXITSTATUS(status);
  } else {
    result.status = ProcessResult::Status::signaled;
    result.code = WIFSIGNALED(status) ? WTERMSIG(status) : -1;
  }
  return result;
}

}  // namespace mtlgrad
