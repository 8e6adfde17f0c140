#include "mtlgrad/run/sweep_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/core/sha256.hpp"
#include "mtlgrad/run/fingerprint.hpp"
#include "mtlgrad/run/plots.hpp"

namespace mtlgrad {
namespace fs = std::filesystem;

namespace {

struct FinishedRun {
  std::size_t index = 0;
  std::string name, dir;
  nlohmann::json assignment, summary;
  int baseline_task = -1;
};

nlohmann::json read_json(const std::string& path) { return parse_json(read_file(path), path); }

/// Shards (or sweeps) merged into one table must share the base config: else runs of one name
/// would mean different things. Refuses naming the keys that differ.
void check_same_config(const std::vector<std::string>& dirs) {
  const std::string* first = nullptr;
  nlohmann::json config;
  for (const auto& d : dirs) {
    const std::string path = d + "/sweep.json";
    if (!fs::exists(path)) continue;  // a directory of run directories only: nothing to compare
    const nlohmann::json here = read_json(path).value("config", nlohmann::json());
    if (!first) {
      first = &d;
      config = here;
      continue;
    }
    const std::vector<std::string> changes = config_changes(config, here);
    if (changes.empty()) continue;
    throw ConfigChanged("sweep --merge: " + d + " holds a sweep of another config than " + *first + ": " +
                        join(changes, ", ") + " (" + *first + " → " + d + "); merge only the shards of one sweep");
  }
}

std::vector<FinishedRun> finished_runs(const std::vector<std::string>& dirs) {
  std::vector<FinishedRun> runs;
  std::set<std::string> names;
  for (const auto& d : dirs)
    if (!fs::is_directory(d)) throw std::runtime_error("sweep: " + d + " is not a directory");
  check_same_config(dirs);
  for (const auto& d : dirs) {
    // The fingerprint of the directory's sweep: a run recorded under another one is left over from
    // before a --force that changed the sweep, and is not part of it.
    const std::string sweep_sha = fs::exists(d + "/sweep.json") ? sha256_hex(read_file(d + "/sweep.json")) : "";
    std::vector<fs::path> subs;
    for (const auto& e : fs::directory_iterator(d))
      if (e.is_directory()) subs.push_back(e.path());
    std::sort(subs.begin(), subs.end());
    for (const auto& p : subs) {
      if (!fs::exists(p / "sweep_run.json") || !fs::exists(p / "summary.json")) continue;
      FinishedRun r;
      r.name = p.filename().string();
      r.dir = p.string();
      const nlohmann::json meta = read_json((p / "sweep_run.json").string());
      if (!sweep_sha.empty() && meta.value("sweep_sha256", sweep_sha) != sweep_sha) continue;
      if (!names.insert(r.name).second) continue;  // the same run in two directories
      r.index = meta.at("index").get<std::size_t>();
      r.assignment = meta.at("assignment");
      r.baseline_task = meta.value("baseline_task", -1);
      r.summary = read_json((p / "summary.json").string());
      if (r.summary.value("status", "finished") == "diverged") continue;  // stopped: no final losses
      runs.push_back(std::move(r));
    }
  }
  if (runs.empty()) throw std::runtime_error("sweep: no finished run (sweep_run.json + summary.json) under " + join(dirs));
  std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) {
    return a.index != b.index ? a.index < b.index : a.name < b.name;
  });
  return runs;
}

std::string value_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

/// Mean and sample std of column `task` of the per-run arrays at `key`/`sub`; false if any is absent.
bool stat_of(const std::vector<const FinishedRun*>& runs, const char* key, const char* sub, std::size_t task,
             SweepStat& out) {
  std::vector<double> v;
  for (const auto* r : runs) {
    const nlohmann::json* j = &r->summary;
    if (!j->contains(key)) return false;
    j = &(*j)[key];
    if (sub) {
      if (!j->contains(sub)) return false;
      j = &(*j)[sub];
    }
    if (!j->is_array() || task >= j->size() || !(*j)[task].is_number()) return false;
    v.push_back((*j)[task].get<double>());
  }
  double s = 0;
  for (double x : v) s += x;
  out.mean = s / double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - out.mean) * (x - out.mean);
  out.std = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : NAN;
  return true;
}

/// RFC 4180: a field with a comma, quote or newline is quoted, its quotes doubled.
std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string num(double v, const char* fmt) {
  if (std::isnan(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

SweepTable collect_sweep_table(const std::vector<std::string>& dirs) {
  const std::vector<FinishedRun> runs = finished_runs(dirs);
  SweepTable t;
  t.runs = runs.size();
  t.tasks = runs.front().summary.at("task_names").get<std::vector<std::string>>();
  for (const auto& r : runs) {
    if (r.summary.at("task_names").get<std::vector<std::string>>() != t.tasks)
      throw std::runtime_error("sweep: " + r.dir + " has other tasks than " + runs.front().dir);
    if (r.baseline_task >= 0) continue;
    for (const auto& kv : r.assignment) {
      const std::string key = kv.at(0).get<std::string>();
      if (key != "seed" && std::find(t.keys.begin(), t.keys.end(), key) == t.keys.end()) t.keys.push_back(key);
    }
  }
  // Group in order of first appearance (runs are sorted by index); baselines after the grid.
  std::map<std::string, std::size_t> where;
  std::vector<std::vector<const FinishedRun*>> members;
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& r : runs) {
      if ((r.baseline_task >= 0) != (pass == 1)) continue;
      SweepRow row;
      row.baseline_task = r.baseline_task;
      if (r.baseline_task >= 0) {
        row.group = "single-task=" + t.tasks.at(std::size_t(r.baseline_task));
        row.key_values.assign(t.keys.size(), "");
      } else {
        for (const auto& key : t.keys) {
          std::string v;
          for (const auto& kv : r.assignment)
            if (kv.at(0) == key) v = value_text(kv.at(1));
          row.key_values.push_back(v);
          if (!v.empty()) row.group += (row.group.empty() ? "" : ",") + key + "=" + v;
        }
        if (row.group.empty()) row.group = "all";
      }
      const auto [it, fresh] = where.emplace(row.group, t.rows.size());
      if (fresh) {
        t.rows.push_back(row);
        members.emplace_back();
      }
      members[it->second].push_back(&r);
      t.rows[it->second].run_dirs.push_back(r.dir);
    }
  const std::size_t T = t.tasks.size();
  t.has_test_loss = true;
  t.task_has_accuracy.assign(T, true);
  for (std::size_t g = 0; g < t.rows.size(); ++g) {
    SweepRow& row = t.rows[g];
    row.n = members[g].size();
    row.loss.resize(T);
    row.test_loss.resize(T);
    row.accuracy.resize(T);
    for (std::size_t i = 0; i < T; ++i) {
      if (!stat_of(members[g], "final_losses", nullptr, i, row.loss[i]))
        throw std::runtime_error("sweep: a summary.json in group " + row.group + " lacks final_losses[" +
                                 std::to_string(i) + "]");
      t.has_test_loss = stat_of(members[g], "eval", "loss", i, row.test_loss[i]) && t.has_test_loss;
      t.task_has_accuracy[i] = stat_of(members[g], "eval", "accuracy", i, row.accuracy[i]) && t.task_has_accuracy[i];
    }
  }
  t.has_accuracy = std::find(t.task_has_accuracy.begin(), t.task_has_accuracy.end(), true) != t.task_has_accuracy.end();
  // Δm against the single-task rows, when every task has one.
  std::vector<const SweepRow*> single(T, nullptr);
  for (const auto& row : t.rows)
    if (row.baseline_task >= 0) single[std::size_t(row.baseline_task)] = &row;
  t.has_delta_m = std::all_of(single.begin(), single.end(), [](const SweepRow* r) { return r != nullptr; });
  for (std::size_t i = 0; i < T; ++i)
    t.delta_m_metric.push_back(t.task_has_accuracy[i] ? "accuracy" : t.has_test_loss ? "test loss" : "final loss");
  auto metric = [&](const SweepRow& r, std::size_t i) {
    return t.task_has_accuracy[i] ? r.accuracy[i].mean : t.has_test_loss ? r.test_loss[i].mean : r.loss[i].mean;
  };
  for (auto& row : t.rows) {
    row.delta_m = NAN;
    if (!t.has_delta_m || row.baseline_task >= 0) continue;
    double sum = 0;
    for (std::size_t i = 0; i < T; ++i) {
      const double m = metric(row, i), ms = metric(*single[i], i);
      sum += (t.task_has_accuracy[i] ? 1.0 : -1.0) * (m - ms) / std::abs(ms);
    }
    row.delta_m = 100.0 * sum / double(T);
  }
  return t;
}

namespace {

/// Visits every metric column: (name, per-row stat getter).
template <class F>
void for_each_metric(const SweepTable& t, F&& f) {
  for (std::size_t i = 0; i < t.tasks.size(); ++i)
    f("loss_" + t.tasks[i], "loss " + t.tasks[i], [i](const SweepRow& r) { return r.loss[i]; });
  if (t.has_test_loss)
    for (std::size_t i = 0; i < t.tasks.size(); ++i)
      f("test_loss_" + t.tasks[i], "test loss " + t.tasks[i], [i](const SweepRow& r) { return r.test_loss[i]; });
  for (std::size_t i = 0; i < t.tasks.size(); ++i)
    if (t.task_has_accuracy[i])
      f("acc_" + t.tasks[i], "test acc " + t.tasks[i], [i](const SweepRow& r) { return r.accuracy[i]; });
}

}  // namespace

std::string table_csv(const SweepTable& t) {
  std::string s = "group";
  for (const auto& k : t.keys) s += "," + csv_field(k);
  s += ",n";
  for_each_metric(t, [&](const std::string& name, const std::string&, auto) { s += "," + name + "_mean," + name + "_std"; });
  if (t.has_delta_m) s += ",delta_m_pct";
  s += "\n";
  for (const auto& row : t.rows) {
    s += csv_field(row.group);
    for (const auto& v : row.key_values) s += "," + csv_field(v);
    s += "," + std::to_string(row.n);
    for_each_metric(t, [&](const std::string&, const std::string&, auto get) {
      const SweepStat st = get(row);
      s += "," + num(st.mean, "%.10g") + "," + num(st.std, "%.10g");
    });
    if (t.has_delta_m) s += "," + num(row.delta_m, "%.10g");
    s += "\n";
  }
  return s;
}

std::string table_markdown(const SweepTable& t) {
  std::string s = "| group | n |", rule = "|---|---:|";
  for_each_metric(t, [&](const std::string&, const std::string& title, auto) {
    s += " " + title + " |";
    rule += "---:|";
  });
  if (t.has_delta_m) {
    s += " Δm (%) |";
    rule += "---:|";
  }
  s += "\n" + rule + "\n";
  for (const auto& row : t.rows) {
    s += "| " + row.group + " | " + std::to_string(row.n) + " |";
    for_each_metric(t, [&](const std::string&, const std::string&, auto get) {
      const SweepStat st = get(row);
      s += " " + num(st.mean, "%.4g") + (std::isnan(st.std) ? "" : " ± " + num(st.std, "%.2g")) + " |";
    });
    if (t.has_delta_m) s += " " + (std::isnan(row.delta_m) ? std::string("—") : num(row.delta_m, "%+.2f")) + " |";
    s += "\n";
  }
  s += "\n" + std::to_string(t.runs) + " runs. Each cell: mean ± sample std (n − 1) over the group's n runs (seeds); "
       "loss = final training objective (summary.json final_losses)";
  if (t.has_test_loss) s += "; test loss / test acc = held-out loss / accuracy (summary.json eval)";
  s += ".\n";
  if (t.has_delta_m) {
    s += "Δm (%) = 100 · (1/T) Σ_i (−1)^{l_i} (M_i − M_single,i) / |M_single,i| on";
    for (std::size_t i = 0; i < t.tasks.size(); ++i)
      s += std::string(i ? "," : "") + " " + t.tasks[i] + ": " + t.delta_m_metric[i] +
           (t.task_has_accuracy[i] ? " (l = 0)" : " (l = 1)");
    s += "; M_single = the single-task rows (same architecture, aggregator sum, one-hot task_weights). "
         "Positive = better than single-task training.\n";
  }
  return s;
}

void write_sweep_table(const SweepTable& table, const std::string& dir) {
  write_file_atomic(dir + "/table.csv", table_csv(table));
  write_file_atomic(dir + "/table.md", table_markdown(table));
  plot_sweep(table, dir);
}

}  // namespace mtlgrad
