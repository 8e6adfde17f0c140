#pragma once
/// @file replay.hpp
/// `mtlgrad replay RUN_DIR --aggregator SPEC ...`: every given spatial stage on the identical
/// stream of a run's gradient record (record.hpp), in step order, so that stateful stages see it as
/// in a run (docs/diagnostics.md, "Replay").
///
/// At each record, each stage gets the record's losses (observe_losses), then J with its Gramian
/// and an Rng restored to the run's state before its own stage ran at that step: replaying the
/// run's own stage gives its recorded directions bit for bit. A record of content "gramian" has no
/// J: the stages run on the T×T factor F = V Λ^{1/2} of G = V Λ Vᵀ (F Fᵀ = G), which gives every
/// stage that sees J only through inner products (sum, the weightings, pcgrad, mgda, cagrad, ...)
/// the same weights and certificates as J; graddrop (per coordinate) is not such a stage.
/// Stages that want the losses after the step (observe_losses_after_step) get none.
///
/// Written into out_dir (default RUN_DIR/replay, created):
///   replay.csv        one row per step and stage: step, stage, dnorm, w_<task> (NaN for a stage
///                     that is not a weighting), cos_<stage k> (the cosine between this stage's d
///                     and stage k's, 0 when a norm is 0), the certificates (certificates.hpp),
///                     and same_as_recorded (1 when d equals the recorded d bit for bit; jacobian
///                     records only, else NaN)
///   replay_hurt.csv   stage, step, task, cos(g_i, d): every task a stage's step was expected to hurt
///   layer_conflicts.csv  step, then the conflict rate of each parameter group (jacobian records)
///   replay.json       per stage: steps, mean dnorm, min and mean margin, steps that hurt a task
///                     and the first, mean gap, the mean cosine to each stage, same_as_recorded
///   replay.png, layer_conflicts.png  when gnuplot is installed (plots.hpp; never fails a replay)

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtlgrad {

/// Runs the replay and returns replay.json's content. Bad input throws a std::runtime_error or
/// ConfigError of one line: the record's errors (file and offset), an unknown stage (with a
/// suggestion), no stage given.
nlohmann::json replay_record(const std::string& run_dir, const std::vector<nlohmann::json>& stages,
                             const std::string& out_dir);

/// A stage spec from the command line: a JSON object ('{"name": "cagrad", "c": 0.4}') or a name.
nlohmann::json parse_stage_spec(const std::string& text);

}  // namespace mtlgrad
