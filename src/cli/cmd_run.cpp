// mtlgrad run CONFIG.json [--set key.path=value ...] [--out DIR] [--resume] [--force] [--check]
#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/experiment.hpp"

namespace mtlgrad::cli {

nlohmann::json load_config(const std::string& path, const std::vector<std::string>& sets) {
  nlohmann::json config = parse_json(read_file(path), path);
  if (!config.is_object()) throw ConfigError(path + ": a config must be a JSON object, got " + json_type(config));
  for (const auto& s : sets) apply_override(config, s);
  return config;
}

int cmd_run(const Args& args) {
  CLI::App app{"Runs one experiment and writes its run directory (config.json, metrics.csv, timing.csv, "
               "summary.json; checkpoint.cbor while checkpointing). summary.json is also printed on stdout.",
               "mtlgrad run"};
  std::string config_path, out;
  std::vector<std::string> sets;
  bool resume = false, check = false, quiet = false, force = false;
  app.add_option("config", config_path, "experiment config (JSON)")->required();
  app.add_option("--set", sets, "override a key: --set optimizer.lr=1e-3 (value parsed as JSON where it can be)")
      ->take_all();
  app.add_option("--out", out, "run directory (default: runs/<config name>)");
  app.add_flag("--resume", resume, "continue from the checkpoint in the run directory");
  app.add_flag("--force", force, "the run directory holds a run of another config: start it over (else refused)");
  app.add_flag("--check", check, "validate the config, print it resolved, and exit");
  app.add_flag("--quiet", quiet, "no progress line");
  std::vector<std::string> argv(args.rbegin(), args.rend());
  try {
    app.parse(argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; a usage error: 2, as for every command
  }
  const nlohmann::json config = load_config(config_path, sets);
  if (check) {
    std::printf("%s\n", resolve_config(config).dump(2).c_str());
    return 0;
  }
  if (out.empty()) out = "runs/" + config.value("name", std::string("run"));
  RunOptions opts;
  opts.resume = resume;
  opts.force = force;
  opts.progress = !quiet;
  const nlohmann::json summary = run_experiment(config, out, opts);
  std::fprintf(stderr, "mtlgrad run: %zu steps in %.2f s; run directory %s\n", summary["steps"].get<std::size_t>(),
               summary["seconds"].get<double>(), out.c_str());
  std::printf("%s\n", summary.dump(2).c_str());
  return 0;
}

}  // namespace mtlgrad::cli
