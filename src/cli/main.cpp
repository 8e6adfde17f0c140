// mtlgrad::cli::main: the command-line program (mtlgrad/cli/cli.hpp). Machine-readable output
// (JSON, CSV) goes to stdout or the run directory; messages and progress go to stderr.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>
#include <new>

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
      {"sweep", {mtlgrad::cli::cmd_sweep, "run a config over a grid (seeds included) in parallel; table of mean ± std"}},
  };
  return c;
}

void usage(std::FILE* to) {
  std::fprintf(to, "usage: mtlgrad <command> [args...]\n\ncommands:\n");
  for (const auto& [name, c] : commands()) std::fprintf(to, "  %-10s %s\n", name.c_str(), c.summary);
  std::fprintf(to, "\n'mtlgrad <command> --help' describes one command.\n");
}

}  // namespace

int mtlgrad::cli::main(int argc, char** argv) {
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
    return it->second.run(mtlgrad::cli::Args(argv + 2, argv + argc));
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "mtlgrad %s: error: out of memory: a size in the input asks for more memory than there is\n",
                 name.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mtlgrad %s: error: %s\n", name.c_str(), e.what());
    return 1;
  }
}
