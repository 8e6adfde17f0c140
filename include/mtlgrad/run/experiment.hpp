#pragma once
/// @file experiment.hpp
/// (layer "run": above models/, since it builds models from the registry)
/// An experiment = one JSON config → one run directory (DESIGN.md "The command-line program").
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
/// | scope            | "shared" or "all" (ALGORITHMS.md §1)                          | "shared"    |
/// | granularity      | "whole", "per_layer" or "representation" (trainer.hpp)        | "whole"     |
/// | nonfinite        | "error" (stop, naming step/task/parameter) or "skip" (count)  | "error"     |
/// | checkpoint_every | write checkpoint.cbor every n steps (0: never)                | 0           |
/// | threads          | OpenBLAS threads, 1 to 256 (its sums depend on the count)    | 1           |
///
/// Seeding: Rng(seed) is split three ways, in this order: the model's initialisation, the batch
/// order, the trainer (pcgrad's order etc.). The data set itself follows data.seed (default 0), so
/// a sweep over seeds trains on the same data with different initialisations and batch orders. The same config (its "threads" included) and seed give bit-identical metrics.csv,
/// summary.json (but for its "seconds"), and final parameters.
///
/// Run directory: config.json (the resolved config: every stage option with its value),
/// metrics.csv (a pure function of config and seed), timing.csv (per-phase times per logged step),
/// summary.json ("final_params", "final_losses", "initial_losses", "steps", "seconds", "version",
/// ...), checkpoint.cbor when checkpointing. Every file is written atomically.

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
  /// Called after every step (the agreement tracker, tests that kill a run, ...).
  std::function<void(const Trainer&, const StepRecord&)> on_step;
  /// Replaces the config's spatial stage (tests: a stage the registry does not hold). The resolved
  /// config still records the config's stage.
  std::function<std::unique_ptr<Aggregator>()> aggregator;
};

/// Validates `config`, runs it and writes the run directory `out_dir` (created if missing).
/// Returns summary.json's content. Config errors throw ConfigError naming the key path.
nlohmann::json run_experiment(const nlohmann::json& config, const std::string& out_dir, const RunOptions& options = {});

/// Only the validation (for `mtlgrad run --check` and tests): throws ConfigError, else returns the
/// resolved config.
nlohmann::json resolve_config(const nlohmann::json& config);

/// The task names of the model `config` builds (validates it like resolve_config; for the sweep's
/// single-task baselines, which need T before anything runs).
std::vector<std::string> config_task_names(const nlohmann::json& config);

}  // namespace mtlgrad
