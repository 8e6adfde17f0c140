#pragma once
/// @file plots.hpp
/// PNG plots drawn by gnuplot (the pngcairo terminal, else png) where it is installed. Plotting
/// never fails a run: without gnuplot, or when gnuplot fails, the data files and the .gp script
/// stay in the directory (run `gnuplot NAME.gp` there later) and a note goes to NAME.gplog.
///
/// Safety. gnuplot is started by run_process (core/process.hpp): no shell, the directory as its
/// working directory, the script and every data file named relative to it, so no folder name
/// enters a script. The names that do (task names, run and group labels, grid keys, in titles and
/// keys) pass through gnuplot_string(): single-quoted, where gnuplot expands neither backquotes
/// (`cmd`), macros (@var) nor backslashes, so `system "..."`, backticks, quotes and backslashes
/// are plain text (a ' shows as ’, a control character as ?). Each PNG is drawn into NAME.png.tmp and renamed when gnuplot succeeded: a
/// killed, failed or interrupted gnuplot never leaves a half-drawn NAME.png. gnuplot gets 60 s per
/// script; an interrupt (SIGINT/SIGTERM, core/interrupt.hpp) stops it at once.
///
/// Per run (the "plots" observer, config section {"plots": {"enabled": true}}, on by default):
///   - loss.png: every task's training loss against the step (metrics.csv), log scale when all
///     losses are positive;
///   - trajectory.png (a model whose registry entry describes a PlaneLandscape, e.g. toy2d): the
///     path of x over the contour of the landscape (landscape.dat), the start, the end and the
///     Pareto set — for toy2d f1 + f2 on [−10, 10]² and its Pareto curve, the figure of CAGrad (Liu
///     et al. 2021).
/// Per sweep (write_sweep_table):
///   - table.png: a bar per group and task of the table's headline metric (test accuracy where
///     present, else the final loss), the error bar ± one sample std;
///   - curves.png: per task the training loss (and the held-out accuracy when the runs evaluated
///     during training, eval_every > 0) against the step, the mean over each group's seeds;
///   - trajectories.png (sweeps of such a model): one panel per group of every grid key but model.start and
///     seed, each run's path over the contour;
///   - front.png (sweeps of a model with a KnownFront: toy2d, pareto_mtl, quadratics): one panel per
///     group of every grid key but model.start and seed, each run's final loss vector (summary.json
///     "final_losses") as a point over the true Pareto front (a curve for 2 objectives, the sampled
///     surface for 3).

#include <string>
#include <vector>

#include "mtlgrad/models/registry.hpp"
#include "mtlgrad/run/observer.hpp"

namespace mtlgrad {

struct SweepTable;

/// "pngcairo" or "png" if the gnuplot on PATH has it, else "" (probed once per gnuplot found).
std::string gnuplot_terminal();

/// `s` as a gnuplot string literal that gnuplot reads as text only: in single quotes, each quote
/// ' inside written as ’ (U+2019: gnuplot 5.4's '' escape fails at the start of a string and
/// when repeated), and each control character (newline, carriage return, tab, NUL, DEL, ...),
/// which would end or break the command line, replaced by '?'.
std::string gnuplot_string(const std::string& s);

struct GnuplotRun {
  bool drawn = false;
  /// When not drawn, why: "gnuplot is not installed", "gnuplot has no png terminal",
  /// "gnuplot failed (exit status 3; see loss.gplog)", "interrupted", ...
  std::string why;
};

/// Writes `dir`/`stem`.gp and runs gnuplot on it in `dir` (its messages go to `stem`.gplog). The
/// script draws each of `outputs` into "<output>.tmp" (preamble() in plots_detail.hpp does); they
/// are renamed into place when gnuplot succeeded and removed otherwise. Never throws.
GnuplotRun run_gnuplot(const std::string& dir, const std::string& stem, const std::string& script,
                       const std::vector<std::string>& outputs);

/// The landscape's value on an n×n grid of its square, as gnuplot grid data ("x1 x2 value" lines,
/// a blank line after each x1).
std::string landscape_data(const PlaneLandscape& landscape, std::size_t n);

/// loss.png (and trajectory.png for a model with a landscape) of the run directory `dir`; false if something was
/// not drawn.
bool plot_run(const std::string& dir);

/// The plots of `dir` that exist, in order: summary.json's "plots".
std::vector<std::string> run_plots(const std::string& dir);

/// table.png, curves.png (and trajectories.png) of a sweep (see above).
void plot_sweep(const SweepTable& table, const std::string& dir);
/// front.png of plot_sweep (nothing for a model without a KnownFront); false when not drawn.
bool plot_sweep_front(const SweepTable& table, const std::string& dir);

/// The "plots" observer's registry entry (src/run/observers.cpp).
ObserverEntry plots_observer_entry();

}  // namespace mtlgrad
