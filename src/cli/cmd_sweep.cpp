// mtlgrad sweep CONFIG.json --grid key=v1,v2,... [--grid ...] [--set k=v ...] [--out DIR] [--jobs N]
//               [--shard i/n] [--baselines] [--no-plots] [--force]
// mtlgrad sweep --merge DIR... [--out DIR]
#include <cstdio>
#include <filesystem>
#include <thread>
#include <tuple>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/dir_lock.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/sweep.hpp"
#include "mtlgrad/run/sweep_table.hpp"

namespace mtlgrad::cli {

namespace {

void write_table(const std::vector<std::string>& dirs, const std::string& out) {
  for (const auto& d : dirs)  // before --out (by default the first of them) is created
    if (!std::filesystem::is_directory(d)) throw std::runtime_error("sweep: " + d + " is not a directory");
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) throw std::runtime_error("cannot create " + out + ": " + ec.message());
  // One table writer at a time: the shards of a sweep may all finish at once.
  const DirLock lock = lock_directory_waiting(out, "sweep directory", 300);
  const SweepTable table = collect_sweep_table(dirs);
  write_sweep_table(table, out);
  std::fprintf(stderr, "%s\nsweep: table %s/table.md (and table.csv); plots %s/*.png\n", table_markdown(table).c_str(),
               out.c_str(), out.c_str());
}

}  // namespace

int cmd_sweep(const Args& args) {
  CLI::App app{"Runs a config over a grid of overrides (the cartesian product; seeds are the key 'seed'), one run "
               "directory per point under --out, in parallel, skipping finished runs; then writes table.csv, "
               "table.md and plots (mean ± std over seeds per group). --merge only collects finished runs.",
               "mtlgrad sweep"};
  std::string config_path, out, shard = "0/1";
  std::vector<std::string> grids, sets, merge;
  std::size_t jobs = std::max(1u, std::thread::hardware_concurrency());
  bool baselines = false, no_plots = false, force = false;
  app.add_option("config", config_path, "experiment config (JSON)");
  app.add_option("--grid", grids, "an axis: key.path=v1,v2,... (values parsed as JSON where they can be)")
      ->take_all()
      ->allow_extra_args(false);
  app.add_option("--set", sets, "override a key of the base config: --set optimizer.lr=1e-3")
      ->take_all()
      ->allow_extra_args(false);
  app.add_option("--out", out, "sweep directory (default: runs/sweep-<config name>)");
  app.add_option("--jobs", jobs, "runs at a time (threads, 1 to 1024; default: the number of cores)");
  app.add_option("--shard", shard, "run only runs k with k mod n == i (i/n), e.g. for a Slurm array");
  app.add_flag("--baselines", baselines, "also run the single-task baselines (one per task and seed) and report Δm");
  app.add_flag("--no-plots", no_plots, "no per-run plots (the sweep's own plots are still drawn)");
  app.add_flag("--force", force, "--out holds a sweep of another config: start the changed runs over (else refused)");
  app.add_option("--merge", merge, "collect the finished runs under these sweep directories into one table")
      ->take_all();
  std::vector<std::string> argv(args.rbegin(), args.rend());
  try {
    app.parse(argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; a usage error: 2, as for every command
  }
  install_interrupt_handlers();  // SIGINT/SIGTERM: no new run starts, running ones checkpoint, gnuplot stops
  if (jobs < 1 || jobs > 1024) throw UsageError("--jobs: " + std::to_string(jobs) + " is out of range (expected 1 to 1024)");
  if (!merge.empty()) {
    if (!config_path.empty() || !grids.empty())
      throw UsageError("--merge takes sweep directories only, not a config or --grid");
    write_table(merge, out.empty() ? merge.front() : out);
    return interrupt_signal() ? interrupt_exit_code(interrupt_signal()) : 0;
  }
  if (config_path.empty()) throw UsageError("a config is required (or --merge DIR...)");
  std::size_t shard_index = 0, shard_count = 1;
  std::vector<GridAxis> grid;
  try {  // the command line's own syntax: a usage error
    std::tie(shard_index, shard_count) = parse_shard(shard);
    for (const auto& g : grids) grid.push_back(parse_grid_axis(g));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const nlohmann::json base = load_config(config_path, sets);
  // Validate the first grid point before anything runs (typos in a --grid key surface here).
  const std::vector<SweepRun> probe = expand_sweep(base, grid);
  const std::vector<std::string> tasks = config_task_names(probe.front().config);
  const std::vector<SweepRun> runs = expand_sweep(base, grid, baselines ? tasks : std::vector<std::string>{});
  if (out.empty()) out = default_out_dir(base, "runs/sweep-");

  SweepOptions o;
  o.out_dir = out;
  o.jobs = jobs;
  o.shard_index = shard_index;
  o.shard_count = shard_count;
  o.progress = true;
  o.plots = !no_plots;
  o.force = force;
  std::fprintf(stderr, "sweep: %zu runs (%zu in shard %zu/%zu) into %s, %zu at a time\n", runs.size(),
               (runs.size() + shard_count - 1 - shard_index) / shard_count, shard_index, shard_count, out.c_str(), jobs);
  const SweepReport rep = run_sweep(base, grid, runs, o);
  std::fprintf(stderr, "sweep: %zu ran, %zu already finished, %zu failed", rep.ran, rep.skipped, rep.failed.size());
  if (!rep.busy.empty()) std::fprintf(stderr, ", %zu run by other processes", rep.busy.size());
  std::fprintf(stderr, "\n");
  for (const auto& f : rep.failed) std::fprintf(stderr, "  failed: %s\n", f.c_str());
  if (!rep.redrawn.empty())
    std::fprintf(stderr, "sweep: drew the missing plots of %zu finished runs\n", rep.redrawn.size());
  for (const auto& b : rep.busy) std::fprintf(stderr, "  busy: %s\n", b.c_str());
  const std::size_t finished = rep.finished;
  if (!rep.interrupt_signal && ((shard_count == 1 && rep.busy.empty()) || finished == runs.size()))
    write_table({out}, out);
  else if (!rep.interrupt_signal)
    std::fprintf(stderr, "sweep: %zu of %zu runs finished; the table is written by the process that finishes the "
                 "last (or by mtlgrad sweep --merge %s)\n", finished, runs.size(), out.c_str());
  if (const int signal = interrupt_signal()) {  // during the runs, or while the table was drawn
    std::string command = "mtlgrad sweep";
    for (const auto& a : args) command += " " + a;
    std::fprintf(stderr, "sweep: interrupted; %zu of %zu runs finished, %zu stopped with a checkpoint; resume with: %s\n",
                 finished, runs.size(), rep.interrupted.size(), command.c_str());
    return interrupt_exit_code(signal);
  }
  return rep.failed.empty() ? 0 : 1;
}

}  // namespace mtlgrad::cli
