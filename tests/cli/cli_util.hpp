#pragma once
// Runs the real mtlgrad binary (MTLGRAD_CLI) for the CLI tests: `mtlgrad <command> <args>` with
// `input` on standard input, through temporary files; returns the exit code, stdout and stderr.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace mtlgrad::test {

struct CliRun {
  int code = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline CliRun run_cli(const std::string& command, const std::string& input, const std::string& args = "") {
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mtlgrad_cli_" + command + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in.json") << input;
  const std::string cmd = std::string("'") + MTLGRAD_CLI + "' " + command + " " + args + " < '" +
                          (dir / "in.json").string() + "' > '" + (dir / "out").string() + "' 2> '" +
                          (dir / "err").string() + "'";
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(dir / "out");
  r.err = slurp(dir / "err");
  std::filesystem::remove_all(dir);
  return r;
}

/// Starts `args` (args[0] a path, or a program on PATH) without a shell, in `cwd`, stdout to `out`
/// and stderr to `err` (one file when they are the same path), with `env` ("NAME=value") replacing
/// those variables of ours; returns its pid. Everything the child needs is prepared before fork.
inline pid_t spawn_process(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                           const std::filesystem::path& out, const std::filesystem::path& err,
                           const std::vector<std::string>& env = {}) {
  std::vector<std::string> vars = env;
  for (char** e = environ; *e; ++e) {
    const std::string v = *e;
    bool replaced = false;
    for (const auto& o : env) replaced = replaced || v.compare(0, o.find('=') + 1, o, 0, o.find('=') + 1) == 0;
    if (!replaced) vars.push_back(v);
  }
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& v : vars) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);
  const int fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int fe = err == out ? fo : ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string dir = cwd.string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (fo < 0 || fe < 0 || ::dup2(fo, 1) < 0 || ::dup2(fe, 2) < 0 || ::chdir(dir.c_str()) != 0) ::_exit(127);
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  if (fo >= 0) ::close(fo);
  if (fe >= 0 && fe != fo) ::close(fe);
  return pid;
}

/// waitpid without EINTR; the raw status.
inline int wait_process(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

/// Runs `args` to its end (see spawn_process); the exit code (-1 if it ended by a signal), stdout
/// and stderr.
inline CliRun run_process_in(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                             const std::vector<std::string>& env = {}) {
  static int counter = 0;
  const auto tmp = std::filesystem::temp_directory_path() /
                   ("mtlgrad_cli_io_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(tmp);
  const int status = wait_process(spawn_process(args, cwd, tmp / "out", tmp / "err", env));
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(tmp / "out");
  r.err = slurp(tmp / "err");
  std::filesystem::remove_all(tmp);
  return r;
}

}  // namespace mtlgrad::test
