#pragma once
/// @file sweep.hpp
/// A sweep = one base config × a grid of overrides → one run directory per grid point, run in
/// parallel, then one comparison table (sweep_table.hpp). `mtlgrad sweep` is a thin shell on it.
///
/// Grid. Each axis is "key.path=v1,v2,..." (commas inside [...], {...} or "..." do not split);
/// each value is parsed as JSON where it can be, else taken as a string, and applied like
/// `--set key.path=value` (apply_override). The runs are the cartesian product, the first axis
/// varying slowest; run k (0-based) of the product has index k. Seeds are the axis "seed".
///
/// Single-task baselines (`baselines`): for every value of the "seed" axis (or the base seed) and
/// every task t, one more run with the base config, "aggregator": "sum" and task_weights one-hot
/// on t — the same architecture, data and optimizer, trained on task t's loss alone. They follow
/// the grid runs in the index order (seed slowest, then t) and feed Δm (sweep_table.hpp).
///
/// Directory layout of a sweep DIR:
///
///     DIR/sweep.json               the base config, the grid, the baseline flag, the run count
///     DIR/sweep.sha256, DIR/.lock  its fingerprint; the lock of sweep.json and the table
///     DIR/<run name>/sweep_run.json  {"index", "assignment": [[key, value], ...], "baseline_task",
///                                   "config_sha256", "sweep_sha256"}
///     DIR/<run name>/...           the run directory of run_experiment (summary.json when done)
///     DIR/table.csv, table.md, table.png, curves.png (and trajectories.png for the toy)
///
/// A run's name is its assignments "key=value" joined by ",", every character outside
/// [A-Za-z0-9._=,+-] replaced by '_' (runs of them collapsed); baselines are named
/// "single-task=<task>,seed=<s>". Two grid points with the same name are an error.
///
/// Resuming: a run whose summary.json exists (and whose sweep_run.json records the same run
/// config) is skipped (but its missing plots are drawn: a run
/// that finished without loss.png, e.g. without gnuplot, gets it when the sweep is rerun with
/// plots on); one with a checkpoint.cbor continues from it; any other is run from scratch.
/// Sharding: shard i/n runs the indices k with k mod n = i.
///
/// Interrupts (core/interrupt.hpp): once SIGINT/SIGTERM is recorded, no further run starts, each
/// running one stops with a checkpoint (RunInterrupted, see experiment.hpp), and run_sweep returns
/// with `interrupt_signal` set; rerunning the same sweep continues where it stopped.
/// Ownership (docs/experiments.md). DIR/sweep.json is the sweep's identity and DIR/sweep.sha256
/// its SHA-256 (run/fingerprint.hpp). A sweep into a DIR whose sweep.json differs is refused with
/// the keys that changed (ConfigChanged); with `force` it is rewritten, and a run is started over
/// when its config changed (sweep_run.json's "config_sha256"), kept when not. sweep_run.json's
/// "sweep_sha256" ties a run to the sweep it belongs to: a run left from before a --force that
/// dropped it is not part of the table. The processes of one sweep (shards, or the same command
/// twice, on one host or on several sharing the folder) coordinate by locks (core/dir_lock.hpp):
///   - DIR/.lock, held only while sweep.json is checked and written and while the table is drawn
///     (the shards of a sweep share DIR, so no process holds it for its whole life);
///   - DIR/<run>/.lock, held by whoever runs that run, from before its first write to its end. A
///     run locked by another process is left to it ("busy"); one that another process finished
///     meanwhile is skipped. So no run is ever run twice at once, and a second identical sweep
///     into one folder takes only the runs nobody holds: the two share the work.

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtlgrad {

struct GridAxis {
  std::string key;
  std::vector<nlohmann::json> values;
};

/// Parses "key.path=v1,v2,..."; a missing '=', an empty key, an empty value or unbalanced brackets
/// throw std::invalid_argument quoting the axis and saying the expected form.
GridAxis parse_grid_axis(const std::string& spec);

/// "i/n" with 0 <= i < n; anything else throws std::invalid_argument.
std::pair<std::size_t, std::size_t> parse_shard(const std::string& spec);

using Assignment = std::vector<std::pair<std::string, nlohmann::json>>;

struct SweepRun {
  std::size_t index = 0;
  std::string name;
  Assignment assignment;  ///< in grid order ("single-task" first for a baseline)
  int baseline_task = -1; ///< the task of a single-task baseline, else −1
  nlohmann::json config;  ///< the base config with the assignment applied
};

/// The sanitised directory name of an assignment (see above).
std::string run_name(const Assignment& assignment);

/// Every run of the grid (and the baselines, given the model's task names), in index order.
std::vector<SweepRun> expand_sweep(const nlohmann::json& base, const std::vector<GridAxis>& grid,
                                   const std::vector<std::string>& baseline_tasks = {});

struct SweepOptions {
  std::string out_dir;
  std::size_t jobs = 1;  ///< worker threads (each sets blas::set_threads(1))
  std::size_t shard_index = 0, shard_count = 1;
  bool progress = false;  ///< count and ETA on stderr (the per-run lines are always printed)
  bool plots = true;      ///< the run directories' "plots" observer (off for tests)
  bool force = false;     ///< a changed config starts the changed runs over instead of being refused
};

struct SweepReport {
  std::size_t total = 0;    ///< runs in this shard
  std::size_t skipped = 0;  ///< already finished (summary.json present)
  std::size_t ran = 0;
  std::vector<std::string> failed;  ///< "name: message" of each run that threw (its error.txt)
  std::vector<std::string> ran_names;
  std::vector<std::string> redrawn;      ///< finished runs whose missing plots were drawn
  std::vector<std::string> interrupted;  ///< runs stopped by the interrupt, with a checkpoint
  int interrupt_signal = 0;              ///< the signal that stopped the sweep, else 0
  std::vector<std::string> busy;  ///< "name: pid P on host H (since T)" of each run another process held
  std::size_t finished = 0;       ///< runs of the whole sweep (every shard) finished with its config, at the end
};

/// Checks or writes DIR/sweep.json and runs this shard's unfinished runs over `jobs` threads. A run
/// that throws is recorded in DIR/<name>/error.txt and the report; the others go on. A changed
/// config throws ConfigChanged before anything runs (unless options.force).
SweepReport run_sweep(const nlohmann::json& base, const std::vector<GridAxis>& grid, const std::vector<SweepRun>& runs,
                      const SweepOptions& options);

}  // namespace mtlgrad
