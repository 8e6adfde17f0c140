#pragma once
/// @file process.hpp
/// The one way mtlgrad starts another program (gnuplot): posix_spawn of an argument vector, never
/// a shell, so no file, task or run name is ever parsed as a command. The child gets standard
/// input from /dev/null, standard output and error together into a file (or captured), a working
/// directory, the default disposition of SIGINT, SIGTERM and SIGPIPE, and a process group of its
/// own. The caller waits in a loop that polls every 10 ms for the child's end, a timeout and the
/// interrupt flag (interrupt.hpp); on a timeout or an interrupt the child's group gets SIGTERM,
/// then SIGKILL after 0.2 s if still there, and run_process returns — so Ctrl-C during a plot
/// stops the program within a fraction of a second.

#include <string>
#include <vector>

namespace mtlgrad {

/// The path of the executable `name` on PATH (the first directory holding an executable regular
/// file of that name), or "" if there is none. A name with a '/' is returned as it is when it is
/// executable. Looks at the file system only: nothing runs.
std::string find_executable(const std::string& name);

struct ProcessOptions {
  std::string cwd;                ///< the child's working directory ("" = ours)
  std::string output_file;        ///< stdout and stderr go here, truncated ("" and !capture: /dev/null)
  bool capture = false;           ///< stdout and stderr into ProcessResult::output instead (first 1 MiB)
  double timeout_seconds = 0;     ///< > 0: stop the child after this long
};

struct ProcessResult {
  enum class Status {
    exited,       ///< ended by itself; `code` is its exit code
    signaled,     ///< ended by a signal it did not catch; `code` is the signal
    timed_out,    ///< stopped by run_process after timeout_seconds
    interrupted,  ///< stopped (or never started) because interrupt_signal() was set
    not_started,  ///< not found, or posix_spawn failed; `message` says why
  };
  Status status = Status::not_started;
  int code = -1;
  std::string output;   ///< with ProcessOptions::capture
  std::string message;  ///< why it did not start
  double seconds = 0;   ///< from the start to the child's end (or its stop)

  bool ok() const { return status == Status::exited && code == 0; }
  /// "exit status 1", "killed by signal 9", "timed out after 60.0 s", "interrupted", "not found: ..."
  std::string describe() const;
};

/// Runs argv[0] (looked up with find_executable) with the arguments argv[1...] and waits for it.
/// Never throws for the child's sake: every outcome is a ProcessResult. Returns `interrupted`
/// without starting anything when the interrupt flag is already set.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace mtlgrad
