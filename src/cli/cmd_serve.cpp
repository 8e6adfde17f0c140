// mtlgrad serve [--runs DIR] [--port N] [--host ADDR] [--max-steps N] [--selftest-report FILE]
// The explorer in the browser (docs/serve.md): the toy playground and the run browser over DIR.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/serve/api.hpp"
#include "mtlgrad/serve/server.hpp"

namespace mtlgrad::cli {

int cmd_serve(const Args& args) {
  CLI::App app{"Serves the explorer: a page with the toy playground (paths of any spatial + temporal stage from "
               "clicked starts) and a browser of the runs and sweeps under --runs, and its JSON API "
               "(docs/serve.md). Ctrl-C stops it.",
               "mtlgrad serve"};
  std::string runs = "runs", host = "127.0.0.1", report;
  int port = 8080;
  serve::Limits limits;
  app.add_option("--runs", runs, "the folder of runs and sweeps to browse; nothing outside it is served (default: runs)");
  app.add_option("--port", port, "TCP port, 0 for any free one (default: 8080)");
  app.add_option("--host", host,
                 "address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 lets anyone who can reach "
                 "the machine run training steps and read DIR)");
  app.add_option("--max-steps", limits.max_steps, "playground steps per request (default: 20000)");
  app.add_option("--selftest-report", report, "accept the page's self-test results at POST /api/selftest into FILE "
                 "(the browser test)");
  std::vector<std::string> argv(args.rbegin(), args.rend());
  try {
    app.parse(argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (port < 0 || port > 65535) throw UsageError("--port: " + std::to_string(port) + " is out of range (0 to 65535)");
  if (limits.max_steps < 1 || limits.max_steps > 10000000)
    throw UsageError("--max-steps: " + std::to_string(limits.max_steps) + " is out of range (1 to 10000000)");
  limits.max_rows = std::max(limits.max_rows, limits.max_steps + 1);
  install_interrupt_handlers();  // before the first request: Ctrl-C stops the server cleanly
  const serve::Api api(runs, limits, report);
  serve::HttpServer server(api);
  const int bound = server.bind(host, port);
  // The URL goes to stderr, on one line of its own (the browser test reads the port from it).
  std::fprintf(stderr, "mtlgrad serve: http://%s:%d/ (runs: %s); Ctrl-C stops it\n",
               host.find(':') != std::string::npos ? ("[" + host + "]").c_str() : host.c_str(), bound,
               api.root().string().c_str());
  server.run();
  const int signal = interrupt_signal();
  std::fprintf(stderr, "mtlgrad serve: stopped%s\n", signal ? " (signal)" : "");
  return 0;
}

}  // namespace mtlgrad::cli
