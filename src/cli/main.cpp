// mtlgrad::cli::main: the command-line program (mtlgrad/cli/cli.hpp, docs/design.md). Machine-readable
// output (JSON, CSV) goes to stdout or the run directory; messages and progress go to stderr.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <map>
#include <new>

#include <fcntl.h>
#include <unistd.h>

#include "commands.hpp"
#include "mtlgrad/cli/cli.hpp"

namespace {

struct Command {
  int (*run)(const mtlgrad::cli::Args&);
  const char* summary;
};

// One line per subcommand.
const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> c = {
      {"run", {mtlgrad::cli::cmd_run, "run one experiment from a JSON config into a run directory"}},
      {"list", {mtlgrad::cli::cmd_list, "list every model, spatial stage and temporal stage with its options"}},
      {"optimize", {mtlgrad::cli::cmd_optimize, "run an optimizer on gradients from stdin (JSON)"}},
      {"aggregate", {mtlgrad::cli::cmd_aggregate, "run a spatial stage on Jacobians from stdin (JSON)"}},
      {"replay", {mtlgrad::cli::cmd_replay, "replay spatial stages on a run's recorded gradients; certificates per step"}},
      {"sweep", {mtlgrad::cli::cmd_sweep, "run a config over a grid (seeds included) in parallel; table of mean ± std"}},
      {"serve", {mtlgrad::cli::cmd_serve, "the explorer in the browser: the toy playground and the runs and sweeps"}},
  };
  return c;
}

void usage(std::FILE* to) {
  std::fprintf(to, "usage: mtlgrad <command> [args...]\n\ncommands:\n");
  for (const auto& [name, c] : commands()) std::fprintf(to, "  %-10s %s\n", name.c_str(), c.summary);
  std::fprintf(to, "\n'mtlgrad <command> --help' describes one command.\n");
}

// A closed standard stream (`mtlgrad run ... >&-`) would hand its number to the next file opened
// (metrics.csv), and the output meant for the stream would land in that file. Each closed one gets
// /dev/null opened read-only: the number is taken, and a write to it still fails (EBADF), so the
// output check below reports it.
void occupy_closed_standard_streams() {
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      const int got = ::open("/dev/null", O_RDONLY);
      if (got >= 0 && got != fd) {
        ::dup2(got, fd);
        ::close(got);
      }
    }
}

// Memory held back for the way out of an out-of-memory error. Unwinding from std::bad_alloc
// destroys what was half built, and some destructors allocate (nlohmann::json flattens a large
// value onto a std::vector before freeing it): with no memory left that allocation would throw
// inside a noexcept destructor and abort. The first failed allocation frees this reserve and
// throws std::bad_alloc, so that the unwinding has memory to work with and main() reports it.
constexpr std::size_t kReserveBytes = std::size_t(64) << 20;
void* g_reserve = nullptr;

void out_of_memory() {
  std::free(g_reserve);
  g_reserve = nullptr;
  std::set_new_handler(nullptr);  // from now on an allocation that fails throws at once
  throw std::bad_alloc();
}

// The command's output is its result: one that did not reach stdout (a full disk, /dev/full, a
// closed pipe or stream) is an error, never exit 0.
int check_stdout(const std::string& name, int code) {
  std::cout.flush();
  if (std::fflush(stdout) == 0 && !std::ferror(stdout) && std::cout.good()) return code;
  std::fprintf(stderr, "mtlgrad %s: error: cannot write standard output: %s\n", name.c_str(),
               errno ? std::strerror(errno) : "write error");
  return code ? code : 1;
}

}  // namespace

int mtlgrad::cli::main(int argc, char** argv) {
  occupy_closed_standard_streams();
  g_reserve = std::malloc(kReserveBytes);  // address space only: its pages are never touched
  std::set_new_handler(out_of_memory);
  // A closed pipe is a write error (EPIPE) to report, not a silent death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  const auto it = commands().find(name);
  if (it == commands().end()) {
    std::fprintf(stderr, "mtlgrad: unknown command '%s'\n\n", name.c_str());
    usage(stderr);
    return 2;
  }
  try {
    return check_stdout(name, it->second.run(mtlgrad::cli::Args(argv + 2, argv + argc)));
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "mtlgrad %s: error: out of memory: a size in the input asks for more memory than there is\n",
                 name.c_str());
    return 1;
  } catch (const mtlgrad::cli::UsageError& e) {
    std::fprintf(stderr, "mtlgrad %s: error: %s (see 'mtlgrad %s --help')\n", name.c_str(), e.what(), name.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mtlgrad %s: error: %s\n", name.c_str(), e.what());
    return 1;
  }
}
