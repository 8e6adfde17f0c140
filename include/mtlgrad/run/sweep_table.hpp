#pragma once
/// @file sweep_table.hpp
/// The comparison table of one or more sweep directories (sweep.hpp): every finished run (a
/// sub-directory with sweep_run.json and summary.json) is collected, runs of the same name in two
/// directories count once, and runs are grouped by every grid key except "seed".
///
/// Per group: n (the number of runs, i.e. seeds), and mean ± sample standard deviation (n − 1 in
/// the denominator; none when n = 1) over the group's runs of
///   - loss_<task>:     summary.json "final_losses" (the training objective at the end),
///   - test_loss_<task>, acc_<task>: summary.json "eval" (held-out loss and accuracy), where present,
///   - Δm (%) when the sweep ran single-task baselines:
///
///         Δm = 100 · (1/T) Σ_i (−1)^{l_i} (M_i − M_single,i) / |M_single,i|
///
///     (Maninis et al. 2019, "Attentive Single-Tasking of Multiple Tasks", CVPR; Vandenhende et al.
///     2021, "Multi-Task Learning for Dense Prediction Tasks: A Survey", TPAMI). M_i is the group's
///     mean metric of task i, M_single,i the mean over seeds of the single-task baseline of task i;
///     task i's metric is its held-out accuracy (l_i = 0) where every run has one (classification),
///     else its held-out loss, else its final loss (l_i = 1: lower is better). POSITIVE Δm = BETTER than single-task
///     training. |M_single,i| (not M_single,i) keeps the sign meaningful for the toy's negative
///     objectives; for accuracies and cross-entropies both are the same.
///
/// Rows are ordered by the smallest run index in each group (the grid order), the baselines
/// last; every number is a function of the summaries alone, so the table is deterministic.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtlgrad {

struct SweepStat {
  double mean = 0, std = 0;  ///< std is NaN when n = 1
};

struct SweepRow {
  std::string group;                    ///< "aggregator.name=pcgrad,lr=0.1" or "single-task=<task>"
  std::vector<std::string> key_values;  ///< one per SweepTable::keys ("" for a baseline)
  int baseline_task = -1;
  std::size_t n = 0;
  std::vector<SweepStat> loss, test_loss, accuracy;  ///< per task (test_loss/accuracy empty if absent)
  double delta_m = 0;                   ///< NaN when there are no baselines (and for baselines)
  std::vector<std::string> run_dirs;    ///< in index order
};

struct SweepTable {
  std::vector<std::string> keys;   ///< grid keys but "seed", in grid order
  std::vector<std::string> tasks;
  bool has_test_loss = false, has_accuracy = false, has_delta_m = false;
  std::vector<bool> task_has_accuracy;       ///< per task: every run has its held-out accuracy
  std::vector<std::string> delta_m_metric;  ///< per task: "accuracy", "test loss" or "final loss"
  std::size_t runs = 0;
  std::vector<SweepRow> rows;
};

/// Collects the finished runs under `dirs`. No finished run, or runs with different task names,
/// throw std::runtime_error naming the directories. Directories whose sweep.json hold different
/// base configs throw ConfigChanged (fingerprint.hpp) naming the keys that differ: only the
/// shards of one sweep merge. A run whose sweep_run.json names another sweep than its
/// directory's sweep.json (left from before a --force) is not collected.
SweepTable collect_sweep_table(const std::vector<std::string>& dirs);

/// One header line, then one line per row: group, the keys, n, <metric>_mean, <metric>_std, ...,
/// delta_m_pct. Numbers with 10 significant digits; an absent std is empty.
std::string table_csv(const SweepTable& table);

/// The same as a Markdown table ("mean ± std"), with a note on the metrics and on Δm's sign.
std::string table_markdown(const SweepTable& table);

/// Writes table.csv and table.md into `dir` and draws table.png / curves.png (plots.hpp).
void write_sweep_table(const SweepTable& table, const std::string& dir);

}  // namespace mtlgrad
