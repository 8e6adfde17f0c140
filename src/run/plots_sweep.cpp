#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/run/plots.hpp"
#include "mtlgrad/run/sweep_table.hpp"
#include "plots_detail.hpp"

namespace mtlgrad {
using namespace plots_detail;

namespace {

/// A row's grid values without their keys ("pcgrad [9,9]"; the keys go into an axis or key title).
std::string short_label(const SweepRow& row) {
  std::string label;
  for (const auto& v : row.key_values) label += (label.empty() || v.empty() ? "" : " ") + v;
  return row.baseline_task >= 0 || label.empty() ? row.group : label;
}

/// Row-wise mean of the columns `cols` over the runs' metrics.csv (the common number of rows).
std::vector<std::vector<double>> mean_curves(const std::vector<std::string>& run_dirs, const std::vector<std::string>& cols) {
  std::vector<Csv> runs;
  std::size_t rows = SIZE_MAX;
  for (const auto& d : run_dirs) {
    runs.push_back(read_csv(d + "/metrics.csv"));
    rows = std::min(rows, runs.back().rows.size());
  }
  std::vector<std::vector<double>> out;
  if (runs.empty()) return out;
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<double> line = {runs[0].rows[r][0]};
    for (const auto& name : cols) {
      double sum = 0;
      for (const auto& c : runs) {
        const int k = c.col(name);
        sum += k >= 0 && std::size_t(k) < c.rows[r].size() ? c.rows[r][std::size_t(k)] : NAN;
      }
      line.push_back(sum / double(runs.size()));
    }
    out.push_back(line);
  }
  return out;
}

/// Mean held-out accuracy per task over the runs' summary.json eval_history, per evaluated step.
std::vector<std::vector<double>> mean_accuracy(const std::vector<std::string>& run_dirs, std::size_t T) {
  std::map<double, std::pair<std::vector<double>, std::size_t>> by_step;
  for (const auto& d : run_dirs) {
    nlohmann::json s;
    try {
      s = nlohmann::json::parse(read_file(d + "/summary.json"));
    } catch (const std::exception&) {
      continue;
    }
    for (const auto& e : s.value("eval_history", nlohmann::json::array())) {
      const auto& a = e["eval"]["accuracy"];
      if (!a.is_array() || a.size() != T) continue;
      auto& slot = by_step[e["step"].get<double>()];
      slot.first.resize(T, 0.0);
      for (std::size_t i = 0; i < T; ++i) slot.first[i] += a[i].is_number() ? a[i].get<double>() : NAN;
      ++slot.second;
    }
  }
  std::vector<std::vector<double>> out;
  for (const auto& [step, slot] : by_step) {
    std::vector<double> line = {step};
    for (double v : slot.first) line.push_back(v / double(slot.second));
    out.push_back(line);
  }
  return out;
}

void add_block(std::ostringstream& dat, const std::vector<std::vector<double>>& rows) {
  for (const auto& r : rows) {
    for (std::size_t k = 0; k < r.size(); ++k) dat << (k ? " " : "") << (std::isnan(r[k]) ? std::string("NaN") : std::to_string(r[k]));
    dat << "\n";
  }
  dat << (rows.empty() ? "NaN NaN\n" : "") << "\n\n";  // gnuplot: blocks are separated by two blank lines
}

void plot_sweep_curves(const SweepTable& table, const std::string& dir) {
  const std::size_t T = table.tasks.size(), G = table.rows.size();
  std::vector<std::string> cols;
  for (const auto& t : table.tasks) cols.push_back("loss_" + t);
  std::ostringstream loss_dat, acc_dat;
  bool has_acc = false;
  for (const auto& row : table.rows) {
    add_block(loss_dat, mean_curves(row.run_dirs, cols));
    const auto acc = mean_accuracy(row.run_dirs, T);
    has_acc = has_acc || !acc.empty();
    add_block(acc_dat, acc);
  }
  try {
    write_file_atomic(dir + "/curves_loss.dat", loss_dat.str());
    if (has_acc) write_file_atomic(dir + "/curves_accuracy.dat", acc_dat.str());
  } catch (const std::exception&) {
    return;
  }
  const int panels_y = has_acc ? 2 : 1;
  std::ostringstream s;
  s << preamble("curves.png", int(560 * T), 430 * panels_y + 18 * int(G)) << "set multiplot layout " << panels_y << "," << T
    << " title " << gnuplot_string("training curves per group of " + join(table.keys, ", ") + " (mean over seeds)")
    << " noenhanced\nset grid\nset key below font ',9' noenhanced\n";
  for (int panel = 0; panel < panels_y; ++panel)
    for (std::size_t i = 0; i < T; ++i) {
      const bool accp = panel == 1;
      s << "set title " << gnuplot_string((accp ? "held-out accuracy " : "training loss ") + table.tasks[i] + " against the step") << "\nunset xlabel\nset ylabel "
        << gnuplot_string(accp ? "accuracy" : "loss") << "\n" << (accp ? "unset logscale y\n" : "") << "plot ";
      bool first = true;
      for (std::size_t g = 0; g < G; ++g) {
        const auto& row = table.rows[g];
        if (row.baseline_task >= 0 && std::size_t(row.baseline_task) != i) continue;
        s << (first ? "" : ", ") << gnuplot_string(accp ? "curves_accuracy.dat" : "curves_loss.dat") << " index " << g << " using 1:" << 2 + i
          << " with lines lw 2 lc " << g % 8 + 1 << " dt " << (row.baseline_task >= 0 ? 2 : int(g / 8) * 2 + 1)
          << " title " << gnuplot_string(short_label(row));
        first = false;
      }
      s << "\n";
    }
  s << "unset multiplot\n";
  run_gnuplot(dir, "curves", s.str(), {"curves.png"});
}

/// "start [-8.5,7.5] seed 1" from the run's sweep_run.json (else its directory name).
std::string path_label(const std::string& run_dir) {
  std::string label;
  try {
    const nlohmann::json meta = nlohmann::json::parse(read_file(run_dir + "/sweep_run.json"));
    for (const auto& kv : meta.at("assignment"))
      if (kv.at(0) == "model.start" || kv.at(0) == "seed")
        label += (label.empty() ? "" : " ") + std::string(kv.at(0) == "seed" ? "seed " : "start ") + kv.at(1).dump();
  } catch (const std::exception&) {
  }
  return label.empty() ? fs::path(run_dir).filename().string() : label;
}

/// A model with a landscape (the toy): one panel per group of every key but model.start, each run's path over the contour.
void plot_sweep_trajectories(const SweepTable& table, const std::string& dir) {
  if (table.rows.empty() || table.rows.front().run_dirs.empty()) return;
  const std::string& first = table.rows.front().run_dirs.front();
  const PlaneLandscape* land = landscape_of(first);
  if (!land) return;
  auto [labels, runs] = panels_without_start(table, false);
  const std::size_t P = labels.size(), across = std::min<std::size_t>(P, 3), down = (P + across - 1) / across;
  std::ostringstream s, paths;
  s << landscape_background(dir, *land) << preamble("trajectories.png", int(520 * across), int(500 * down))
    << "set multiplot layout " << down << "," << across << " title "
    << gnuplot_string(model_name(first) + ": paths over " + land->value_label + " (circle: start, diamond: end" +
                      (land->pareto_set.empty() ? ")" : ", red: Pareto set)"))
    << "\nunset colorbox\n"
       "set key below font ',9' noenhanced\n";
  std::size_t block = 0;
  for (std::size_t p = 0; p < P; ++p) {
    s << "set title " << gnuplot_string(labels[p]) << " noenhanced\nplot " << landscape_layers(*land);
    for (std::size_t k = 0; k < runs[p].size(); ++k) {
      const Csv c = read_csv(runs[p][k] + "/metrics.csv");
      if (c.col("x_0") < 0 || c.col("x_1") < 0 || c.rows.empty()) continue;
      paths << path_data(c) << "\n\n";
      s << path_clauses("trajectories.dat", block++, c.rows.size(), path_label(runs[p][k]), int(k) + 1);
    }
    s << "\n";
  }
  try {
    write_file_atomic(dir + "/trajectories.dat", paths.str());
  } catch (const std::exception&) {
    return;
  }
  s << "unset multiplot\n";
  run_gnuplot(dir, "trajectories", s.str(), {"trajectories.png"});
}

}  // namespace

void plot_sweep(const SweepTable& table, const std::string& dir) {
  const std::size_t T = table.tasks.size();
  // table.png: the headline metric per group and task, ± one std.
  const bool acc = std::find(table.task_has_accuracy.begin(), table.task_has_accuracy.end(), false) ==
                   table.task_has_accuracy.end();
  std::ostringstream dat;
  dat << "group";
  for (const auto& t : table.tasks) dat << "\t" << data_label(t) << "\tstd";
  dat << "\n";
  auto cell = [](double v) { return std::isnan(v) ? std::string("NaN") : std::to_string(v); };
  for (const auto& row : table.rows) {
    dat << data_label(short_label(row));
    for (std::size_t i = 0; i < T; ++i) {
      const SweepStat st = acc ? row.accuracy[i] : row.loss[i];
      const bool shown = row.baseline_task < 0 || std::size_t(row.baseline_task) == i;
      dat << "\t" << cell(shown ? st.mean : NAN) << "\t" << cell(shown && !std::isnan(st.std) ? st.std : 0);
    }
    dat << "\n";
  }
  try {
    write_file_atomic(dir + "/table.dat", dat.str());
  } catch (const std::exception&) {
    return;
  }
  std::ostringstream s;
  s << preamble("table.png", 1000, 600) << "set datafile separator '\\t'\nset title "
    << gnuplot_string(std::string(acc ? "held-out accuracy" : "final training loss") + " per group (mean ± sample std over seeds)")
    << "\nset ylabel " << gnuplot_string(acc ? "test accuracy" : "final loss")
    << "\nset style data histogram\nset style histogram errorbars gap 2 lw 1\nset style fill solid 0.75 border -1\n"
       "set xtics rotate by -30 noenhanced\nset bmargin 9\nset grid ytics\nset key above\n"
    << "set xlabel " << gnuplot_string("group: " + join(table.keys, ", ")) << " noenhanced offset 0,-1\n"
    << (acc ? "set yrange [0:1]\n" : "") << "plot ";
  for (std::size_t i = 0; i < T; ++i)
    s << (i ? ", " : "") << "'table.dat' skip 1 using " << 2 + 2 * i << ":" << 3 + 2 * i
      << (i ? "" : ":xtic(1)") << " title " << gnuplot_string(table.tasks[i]);
  s << "\n";
  run_gnuplot(dir, "table", s.str(), {"table.png"});
  plot_sweep_curves(table, dir);
  plot_sweep_trajectories(table, dir);
  plot_sweep_front(table, dir);
}

}  // namespace mtlgrad
