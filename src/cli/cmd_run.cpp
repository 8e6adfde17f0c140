// mtlgrad run CONFIG.json [--set key.path=value ...] [--out DIR] [--resume] [--force] [--check] [--json]
#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "mtlgrad/core/interrupt.hpp"
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

std::string default_out_dir(const nlohmann::json& config, const std::string& prefix) {
  const auto it = config.find("name");
  if (it == config.end()) return prefix + "run";
  if (!it->is_string()) throw ConfigError("name: expected a string, got " + json_type(*it) + " " + it->dump());
  const std::string name = it->get<std::string>();
  bool control = false;
  for (char c : name) control = control || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || control)
    throw ConfigError("name: " + it->dump() + " cannot be the folder " + prefix + "<name> (expected one folder name: " +
                      "not empty, '.' or '..', without '/' or control characters); rename the run, or give the " +
                      "directory with --out");
  return prefix + name;
}

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// "f1 0.1234, f2 5.678" from an array of numbers (null: "-") and the task names.
std::string per_task(const nlohmann::json& values, const nlohmann::json& names) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].is_null()) continue;
    const std::string name = i < names.size() ? names[i].get<std::string>() : std::to_string(i);
    out += (out.empty() ? "" : ", ") + name + " " + (values[i].is_number() ? number(values[i].get<double>()) : "-");
  }
  return out;
}

/// The few lines `mtlgrad run` prints on stderr when the run finished.
void print_outcome(const nlohmann::json& summary, const std::string& out) {
  const nlohmann::json& names = summary["task_names"];
  std::fprintf(stderr, "mtlgrad run: %zu steps in %.2f s", summary["steps"].get<std::size_t>(),
               summary["seconds"].get<double>());
  const std::size_t skipped = summary.value("skipped_steps", std::size_t(0));
  if (skipped) std::fprintf(stderr, " (%zu skipped: not finite)", skipped);
  std::fprintf(stderr, "\n  final training losses: %s\n", per_task(summary["final_losses"], names).c_str());
  if (summary.contains("eval")) {
    const nlohmann::json& e = summary["eval"];
    std::fprintf(stderr, "  held-out (%s examples): loss %s", e.contains("n") ? e["n"].dump().c_str() : "?",
                 per_task(e.value("loss", nlohmann::json::array()), names).c_str());
    const std::string acc = per_task(e.value("accuracy", nlohmann::json::array()), names);
    if (!acc.empty()) std::fprintf(stderr, "; accuracy %s", acc.c_str());
    std::fprintf(stderr, "\n");
  }
  std::fprintf(stderr, "  run directory: %s (summary.json, final_params.json, metrics.csv, config.json)\n",
               out.c_str());
  std::vector<std::string> plots;
  for (const auto& p : summary.value("plots", nlohmann::json::array())) plots.push_back(out + "/" + p.get<std::string>());
  const bool agreement_drawn = summary.contains("agreement") && summary["agreement"].value("plots", "").rfind("not drawn", 0) != 0;
  if (agreement_drawn)
    for (const char* p : {"agreement.png", "conflicts.png"}) plots.push_back(out + "/" + p);
  if (!plots.empty()) std::fprintf(stderr, "  plots: %s\n", join(plots, ", ").c_str());
  else if (summary.contains("plots")) std::fprintf(stderr, "  plots: not drawn (see %s/loss.gplog)\n", out.c_str());
}

}  // namespace

int cmd_run(const Args& args) {
  CLI::App app{"Runs one experiment and writes its run directory (config.json, metrics.csv, timing.csv, "
               "final_params.json, summary.json, plots; checkpoint.cbor while checkpointing). Prints the final "
               "and held-out losses, the run directory and the plots on stderr; --json prints summary.json on "
               "stdout. SIGINT/SIGTERM stop it with a checkpoint (exit 130/143); --resume continues.",
               "mtlgrad run"};
  std::string config_path, out;
  std::vector<std::string> sets;
  bool resume = false, check = false, quiet = false, json = false, force = false, record = false;
  app.add_option("config", config_path, "experiment config (JSON)")->required();
  app.add_option("--set", sets, "override a key: --set optimizer.lr=1e-3 (value parsed as JSON where it can be)")
      ->take_all();
  app.add_option("--out", out, "run directory (default: runs/<config name>)");
  app.add_flag("--resume", resume, "continue from the checkpoint in the run directory");
  app.add_flag("--force", force, "the run directory holds a run of another config: start it over (else refused)");
  app.add_flag("--check", check, "validate the config, print it resolved, and exit");
  app.add_flag("--quiet", quiet, "no progress line");
  app.add_flag("--json", json, "print summary.json on stdout");
  app.add_flag("--record", record, "record the gradients (gradients.rec, for `mtlgrad replay`): the config's \"record\" "
                                   "section, or its defaults when it has none");
  std::vector<std::string> argv(args.rbegin(), args.rend());
  try {
    app.parse(argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; a usage error: 2, as for every command
  }
  nlohmann::json config = load_config(config_path, sets);
  if (record && !config.contains("record")) config["record"] = nlohmann::json::object();
  if (check) {
    std::printf("%s\n", resolve_config(config).dump(2).c_str());
    return 0;
  }
  if (out.empty()) out = default_out_dir(config, "runs/");
  RunOptions opts;
  opts.resume = resume;
  opts.force = force;
  opts.progress = !quiet;
  install_interrupt_handlers();
  nlohmann::json summary;
  try {
    summary = run_experiment(config, out, opts);
  } catch (const RunInterrupted& e) {
    if (e.checkpointing_off)
      std::fprintf(stderr, "mtlgrad run: checkpointing is off (checkpoint_every 0); a checkpoint was written at the "
                           "interrupt\n");
    std::string command = "mtlgrad run " + config_path;
    for (const auto& set : sets) command += " --set " + set;
    if (record) command += " --record";
    std::fprintf(stderr, "mtlgrad run: %s; resume with: %s --out %s --resume\n", e.what(), command.c_str(), out.c_str());
    return interrupt_exit_code(e.signal);
  }
  print_outcome(summary, out);
  if (json) std::printf("%s\n", summary.dump(2).c_str());
  return 0;
}

}  // namespace mtlgrad::cli
