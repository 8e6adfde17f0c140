#pragma once
// Shared by plots.cpp (per run), plots_sweep.cpp (per sweep) and agreement_observer.cpp: reading
// metrics.csv, the terminal preamble, and the toy's contour background.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/models/registry.hpp"
#include "mtlgrad/run/plots.hpp"
#include "mtlgrad/run/sweep_table.hpp"

namespace mtlgrad::plots_detail {
namespace fs = std::filesystem;

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  int col(const std::string& name) const {
    for (std::size_t k = 0; k < header.size(); ++k)
      if (header[k] == name) return int(k);
    return -1;
  }
};

inline Csv read_csv(const std::string& path) {
  Csv c;
  std::ifstream in(path);
  std::string line, cell;
  if (!std::getline(in, line)) return c;
  std::stringstream hs(line);
  while (std::getline(hs, cell, ',')) c.header.push_back(cell);
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::vector<double> row;
    while (std::getline(ls, cell, ',')) row.push_back(std::strtod(cell.c_str(), nullptr));
    c.rows.push_back(row);
  }
  return c;
}

inline std::vector<std::string> loss_columns(const Csv& c) {
  std::vector<std::string> tasks;
  for (const auto& h : c.header)
    if (h.rfind("loss_", 0) == 0) tasks.push_back(h.substr(5));
  return tasks;
}

inline std::string model_name(const std::string& run_dir) {
  try {
    const auto cfg = nlohmann::json::parse(read_file(run_dir + "/config.json"));
    const auto& m = cfg.at("model");
    return m.is_string() ? m.get<std::string>() : m.value("name", std::string());
  } catch (const std::exception&) {
    return "";
  }
}

/// The landscape the model of the run in `run_dir` describes (models/registry.hpp), or nullptr.
inline const PlaneLandscape* landscape_of(const std::string& run_dir) {
  const auto* e = model_registry().find(model_name(run_dir));
  return e && e->extra.landscape ? &*e->extra.landscape : nullptr;
}

/// The terminal and its output, "<output>.tmp" (run_gnuplot renames it when gnuplot succeeded).
inline std::string preamble(const std::string& output, int width, int height) {
  std::ostringstream s;
  const std::string& term = gnuplot_terminal();
  s << "set terminal " << term << " size " << width << "," << height
    << (term == "pngcairo" ? " enhanced font 'sans,10'" : "") << "\nset output " << gnuplot_string(output + ".tmp")
    << "\n";
  return s.str();
}

/// The background of a landscape: landscape.dat (written if missing) as an image, its contour
/// lines and the Pareto set, for a plot whose clause list starts with landscape_layers().
inline std::string landscape_background(const std::string& dir, const PlaneLandscape& l) {
  const std::string data = dir + "/landscape.dat";
  if (!fs::exists(data)) write_file_atomic(data, landscape_data(l, 101));
  std::ostringstream s;
  s << "set contour base\nset cntrparam levels 24\nunset surface\nset view map\nset table 'landscape_lines.dat'\n"
       "splot 'landscape.dat' using 1:2:3 with lines notitle\nunset table\nunset contour\n$pareto << EOD\n";
  for (const auto& p : l.pareto_set) s << p[0] << " " << p[1] << "\n";
  s << "EOD\nset xrange [" << l.lo << ":" << l.hi << "]\nset yrange [" << l.lo << ":" << l.hi
    << "]\nset size ratio -1\nset xlabel 'x_1'\nset ylabel 'x_2'\n"
       "set palette defined (0 '#ffffff', 1 '#e3eef8', 2 '#b9d4ea', 3 '#8fb8dc')\nset cblabel "
    << gnuplot_string(l.value_label) << "\n";
  return s.str();
}

inline std::string landscape_layers(const PlaneLandscape& l) {
  return std::string("'landscape.dat' using 1:2:3 with image notitle, 'landscape_lines.dat' using 1:2 with lines "
                     "lc rgb '#888888' lw 0.5 notitle") +
         (l.pareto_set.empty() ? "" : ", $pareto using 1:2 with lines lc rgb '#d62728' lw 4 title 'Pareto set'");
}

/// One run's path: "x1 x2" lines from the x_0, x_1 columns of its metrics.csv (whitespace-separated
/// like the contour files, since gnuplot has one datafile separator per plot).
inline std::string path_data(const Csv& c) {
  const int a = c.col("x_0"), b = c.col("x_1");
  std::ostringstream s;
  for (const auto& r : c.rows)
    if (a >= 0 && b >= 0 && std::size_t(std::max(a, b)) < r.size()) s << r[std::size_t(a)] << " " << r[std::size_t(b)] << "\n";
  return s.str();
}

/// The clauses drawing block `index` of `file` (a path_data block of `rows` lines): the path, its
/// start (a filled circle) and its end (a filled diamond).
inline std::string path_clauses(const std::string& file, std::size_t index, std::size_t rows, const std::string& title,
                                int color) {
  std::ostringstream s;
  const std::string src = gnuplot_string(file) + " index " + std::to_string(index);
  s << ", " << src << " using 1:2 with lines lw 2 lc " << color << " title " << gnuplot_string(title) << ", " << src
    << " every ::0::0 using 1:2 with points pt 7 ps 1.3 lc " << color << " notitle, " << src << " every ::"
    << (rows ? rows - 1 : 0) << " using 1:2 with points pt 13 ps 2 lc " << color << " notitle";
  return s.str();
}

/// `s` as a double-quoted field of a tab-separated gnuplot data file (table.dat): a data file is
/// never run, but a quote, tab or line break would end the field or the row, so those and the
/// other control characters become '?'.
inline std::string data_label(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    q += c == '"' || u < 0x20 || u == 0x7f ? '?' : c;
  }
  return q + "\"";
}

inline bool all_positive(const Csv& c, const std::vector<int>& cols) {
  for (const auto& r : c.rows)
    for (int k : cols)
      if (k >= int(r.size()) || !(r[std::size_t(k)] > 0)) return false;
  return true;
}


/// A sweep's runs grouped into panels by every key but model.start (the starts of one method share
/// a panel), baselines left out, in the table's order: labels[k] names panel k, runs[k] its run
/// directories. A label is "key=value,..." or, with `values_only`, "value,...".
struct Panels {
  std::vector<std::string> labels;
  std::vector<std::vector<std::string>> runs;
};
inline Panels panels_without_start(const SweepTable& table, bool values_only) {
  Panels p;
  for (const auto& row : table.rows) {
    if (row.baseline_task >= 0) continue;
    std::string label;
    for (std::size_t k = 0; k < table.keys.size(); ++k)
      if (table.keys[k] != "model.start" && !row.key_values[k].empty())
        label += (label.empty() ? "" : ",") + (values_only ? "" : table.keys[k] + "=") + row.key_values[k];
    if (label.empty()) label = "all runs";
    const auto it = std::find(p.labels.begin(), p.labels.end(), label);
    if (it == p.labels.end()) {
      p.labels.push_back(label);
      p.runs.push_back(row.run_dirs);
    } else {
      auto& r = p.runs[std::size_t(it - p.labels.begin())];
      r.insert(r.end(), row.run_dirs.begin(), row.run_dirs.end());
    }
  }
  return p;
}

}  // namespace mtlgrad::plots_detail
