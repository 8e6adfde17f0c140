#pragma once
/// @file experiment.hpp
/// (layer "run": above models/, since it builds models from the registry)
/// An experiment = one JSON config → one run directory (docs/design.md, "The run directory").
///
/// Config keys (an unknown key is an error with a suggestion):
///
/// | key              | meaning                                                     | default     |
/// |------------------|-------------------------------------------------------------|-------------|
/// | name             | a label for the run                                          | "run"       |
/// | seed             | seeds the Rng of the model, its data and the trainer          | 0           |
/// | model            | {"name": ..., options} (mtlgrad list)                        | required    |
/// | aggregator       | spatial stage {"name": ..., options}                         | "sum"       |
/// | optimizer        | temporal stage {"name": ..., options}                        | "sgd"       |
/// | data             | the data set {"name": ..., options} (models with data)       | —           |
/// | batch_size       | mini-batch size (models with data)                           | 32          |
/// | steps            | training steps (models with data: or "epochs")               | 1000        |
/// | epochs           | epochs (models with data); overrides steps                   | —           |
/// | log_every        | one metrics.csv row every n steps (and the first and last)   | 100         |
/// | eval_every       | held-out evaluation every n steps (0: only at the end)       | 0           |
/// | task_weights     | fixed w_i                                                     | all 1       |
/// | scope            | "shared" or "all" (docs/algorithms.md, "The step pipeline")   | "shared"    |
/// | granularity      | "whole", "per_layer" or "representation" (trainer.hpp)        | "whole"     |
/// | nonfinite        | "error" (stop, naming step/task/parameter) or "skip" (count)  | "error"     |
/// | checkpoint_every | write checkpoint.cbor every n steps (0: never)                | 0           |
/// | threads          | OpenBLAS's and our threads, 1 to 256 (OpenBLAS's sums change) | 1           |
///
/// Seeding: Rng(seed) is split three ways, in this order: the model's initialisation, the batch
/// order, the trainer (pcgrad's order etc.). The data set itself follows data.seed (default 0), so
/// a sweep over seeds trains on the same data with different initialisations and batch orders. The same config (its "threads" included) and seed give bit-identical metrics.csv,
/// summary.json (but for its "seconds"), and final parameters.
///
/// Run directory: config.json (the resolved config: every stage option with its value) and
/// config.sha256 (its fingerprint, run/fingerprint.hpp), .lock (core/dir_lock.hpp),
/// metrics.csv (a pure function of config and seed), timing.csv (per-phase times per logged step),
/// final_params.json (every parameter by name, {"shape": [rows, cols], "data": [row-major
/// values]}), summary.json ("final_losses", "initial_losses", "eval", "steps", "seconds",
/// "version", "plots", ...; written last: a run is finished when it exists), checkpoint.cbor while
/// checkpointing or after an interrupt. Every file is written atomically; the CSVs are appended
/// (checkpoint.hpp).
///
/// Interrupts: when interrupt_signal() (core/interrupt.hpp) is set, the run stops after the step
/// in progress — or, at the end, after the plots and before summary.json — writes checkpoint.cbor
/// and metrics.csv for that moment (whether or not checkpoint_every is set) and throws
/// RunInterrupted; RunOptions::resume then finishes it with the same bytes as an uninterrupted run.

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/data/dataset.hpp"
#include "mtlgrad/mtl/trainer.hpp"

namespace mtlgrad {

/// "0.1.0"
const char* version();

/// "hh:mm:ss" for a progress line (seconds rounded).
std::string format_duration(double seconds);

/// Applies "a.b.c=value" to a config: value is parsed as JSON where it can be, else taken as a
/// string. Intermediate objects are created; indexing into a non-object is an error naming the key.
void apply_override(nlohmann::json& config, const std::string& assignment);

struct RunOptions {
  bool resume = false;          ///< continue from out_dir/checkpoint.cbor
  bool progress = false;        ///< a progress line on stderr
  /// Run OpenBLAS with the config's "threads" (and restore the count after). The sweep, which
  /// runs several runs at once in one process, sets one thread itself and passes false.
  bool set_blas_threads = true;
  /// out_dir holding a run of another config: false refuses (ConfigChanged, naming the changed
  /// keys), true removes that run's files and starts over (run/fingerprint.hpp).
  bool force = false;
  /// The caller already holds out_dir's lock (the sweep locks a run's directory before it decides
  /// to run it); otherwise the run takes it, and fails at once (DirectoryBusy) if another holds it.
  bool directory_locked = false;
  /// Called after every step (the agreement tracker, tests that kill a run, ...).
  std::function<void(const Trainer&, const StepRecord&)> on_step;
  /// Replaces the config's spatial stage (tests: a stage the registry does not hold). The resolved
  /// config still records the config's stage.
  std::function<std::unique_ptr<Aggregator>()> aggregator;
};

/// A run stopped by SIGINT/SIGTERM (see above); what() is "interrupted at step N".
struct RunInterrupted : std::runtime_error {
  RunInterrupted(int signal, std::size_t step, bool checkpointing_off);
  int signal;              ///< SIGINT or SIGTERM
  std::size_t step;        ///< the steps done; checkpoint.cbor holds this moment
  bool checkpointing_off;  ///< checkpoint_every is 0: the interrupt's checkpoint is the only one
};

/// Validates `config`, runs it and writes the run directory `out_dir` (created if missing).
/// Returns summary.json's content. Config errors throw ConfigError naming the key path. The run
/// holds out_dir/.lock (core/dir_lock.hpp) from before its first write to its end, and writes
/// config.sha256, the fingerprint of config.json (run/fingerprint.hpp).
nlohmann::json run_experiment(const nlohmann::json& config, const std::string& out_dir, const RunOptions& options = {});

/// Only the validation (for `mtlgrad run --check` and tests): throws ConfigError, else returns the
/// resolved config.
nlohmann::json resolve_config(const nlohmann::json& config);

/// What a config builds before its first step: the model (and its data) and the trainer, seeded
/// as run_experiment seeds them. `mtlgrad serve`'s playground steps it itself (docs/serve.md), so
/// that its path is the one `mtlgrad run` writes to metrics.csv.
struct BuiltExperiment {
  std::unique_ptr<DataSplit> data;
  std::unique_ptr<MultiTaskModel> model;
  std::unique_ptr<Trainer> trainer;  ///< trains *model
  nlohmann::json resolved;           ///< as resolve_config
};
BuiltExperiment build_experiment(const nlohmann::json& config);

/// The task names of the model `config` builds (validates it like resolve_config; for the sweep's
/// single-task baselines, which need T before anything runs).
std::vector<std::string> config_task_names(const nlohmann::json& config);

}  // namespace mtlgrad
