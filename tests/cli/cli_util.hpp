#pragma once
// Runs the real mtlgrad binary (MTLGRAD_CLI) for the CLI tests: `mtlgrad <command> <args>` with
// `input` on standard input, through temporary files; returns the exit code, stdout and stderr.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

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

}  // namespace mtlgrad::test
