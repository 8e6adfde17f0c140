#include "mtlgrad/run/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/dir_lock.hpp"
#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/fingerprint.hpp"
#include "mtlgrad/run/plots.hpp"

namespace mtlgrad {
namespace fs = std::filesystem;

namespace {

std::string grid_usage(const std::string& spec, const std::string& what) {
  return "--grid " + spec + ": " + what + " (expected key.path=v1,v2,... e.g. --grid seed=0,1,2)";
}

/// Splits at commas that are not inside [...], {...} or "...".
std::vector<std::string> split_values(const std::string& text, const std::string& spec) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  bool quoted = false;
  for (std::size_t k = 0; k < text.size(); ++k) {
    const char c = text[k];
    if (quoted) {
      if (c == '\\' && k + 1 < text.size()) cur += text[k++];
      else if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth < 0) throw std::invalid_argument(grid_usage(spec, std::string("unbalanced '") + c + "'"));
    } else if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (depth != 0 || quoted) throw std::invalid_argument(grid_usage(spec, "unbalanced brackets or quotes"));
  out.push_back(cur);
  return out;
}

nlohmann::json parse_value(const std::string& text) {
  if (!nlohmann::json::accept(text)) return text;  // not JSON: a string, as with --set
  return parse_json(text, "--grid value " + text);  // JSON: refused with a duplicate key
}

/// A run is done when its summary.json exists and does not say "diverged" (such a run is run again,
/// and reported failed with its message again).
bool finished_run(const std::string& dir) {
  const std::string path = dir + "/summary.json";
  if (!fs::exists(path)) return false;
  try {
    return parse_json(read_file(path), path).value("status", "finished") != "diverged";
  } catch (const std::exception&) {
    return false;
  }
}

std::string value_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void apply(nlohmann::json& config, const std::string& key, const nlohmann::json& value) {
  apply_override(config, key + "=" + value.dump());
}

/// Whether the run's config.json leaves its "plots" observer on (the default).
bool plots_enabled(const std::string& run_dir) {
  try {
    const nlohmann::json config = nlohmann::json::parse(read_file(run_dir + "/config.json"));
    if (!config.contains("plots")) return true;
    const nlohmann::json& p = config["plots"];
    return p.is_boolean() ? p.get<bool>() : p.is_object() ? p.value("enabled", true) : !p.is_null();
  } catch (const std::exception&) {
    return false;
  }
}

/// A finished run whose plots are missing (a run finished without gnuplot, or an older run) gets
/// them drawn, and its summary.json's "plots" updated. True if it drew something.
bool redraw_missing_plots(const std::string& run_dir) {
  if (fs::exists(run_dir + "/loss.png") || !plots_enabled(run_dir) || gnuplot_terminal().empty()) return false;
  plot_run(run_dir);
  const std::vector<std::string> pngs = run_plots(run_dir);
  if (pngs.empty()) return false;
  try {
    nlohmann::json summary = nlohmann::json::parse(read_file(run_dir + "/summary.json"));
    summary["plots"] = pngs;
    write_file_atomic(run_dir + "/summary.json", summary.dump(2) + "\n");
  } catch (const std::exception&) {
  }
  return true;
}

}  // namespace

GridAxis parse_grid_axis(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos) throw std::invalid_argument(grid_usage(spec, "no '='"));
  GridAxis axis;
  axis.key = spec.substr(0, eq);
  if (axis.key.empty()) throw std::invalid_argument(grid_usage(spec, "empty key"));
  for (const std::string& v : split_values(spec.substr(eq + 1), spec)) {
    if (v.empty()) throw std::invalid_argument(grid_usage(spec, "empty value"));
    axis.values.push_back(parse_value(v));
  }
  return axis;
}

std::pair<std::size_t, std::size_t> parse_shard(const std::string& spec) {
  const auto slash = spec.find('/');
  const std::string bad = "--shard " + spec + ": expected i/n with 0 <= i < n (e.g. --shard 0/4)";
  if (slash == std::string::npos || slash == 0 || slash + 1 == spec.size()) throw std::invalid_argument(bad);
  const std::string a = spec.substr(0, slash), b = spec.substr(slash + 1);
  if (a.find_first_not_of("0123456789") != std::string::npos || b.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument(bad);
  const std::size_t i = std::stoul(a), n = std::stoul(b);
  if (n == 0 || i >= n) throw std::invalid_argument(bad);
  return {i, n};
}

std::string run_name(const Assignment& assignment) {
  std::string raw;
  for (const auto& [key, value] : assignment) raw += (raw.empty() ? "" : ",") + key + "=" + value_text(value);
  std::string out;
  for (char c : raw) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || std::string("._=,+-").find(c) != std::string::npos;
    if (ok) out += c;
    else if (out.empty() || out.back() != '_') out += '_';
  }
  return out.empty() ? "base" : out;
}

std::vector<SweepRun> expand_sweep(const nlohmann::json& base, const std::vector<GridAxis>& grid,
                                   const std::vector<std::string>& baseline_tasks) {
  std::size_t count = 1;
  for (const auto& axis : grid) count *= axis.values.size();
  std::vector<SweepRun> runs;
  std::map<std::string, std::size_t> seen;
  auto add = [&](SweepRun r) {
    r.name = run_name(r.assignment);
    if (r.config.contains("threads") && r.config["threads"] != 1)
      throw ConfigError("sweep: run '" + r.name + "' has threads = " + r.config["threads"].dump() +
                        "; a sweep runs every run with one BLAS thread, --jobs of them at a time");
    r.index = runs.size();
    const auto [it, fresh] = seen.emplace(r.name, r.index);
    if (!fresh)
      throw std::invalid_argument("sweep: runs " + std::to_string(it->second) + " and " + std::to_string(r.index) +
                                  " get the same directory name '" + r.name + "'; make the grid values distinct");
    runs.push_back(std::move(r));
  };
  for (std::size_t k = 0; k < count; ++k) {
    SweepRun r;
    r.config = base;
    std::size_t rest = k, stride = count;
    for (const auto& axis : grid) {
      stride /= axis.values.size();
      const nlohmann::json& v = axis.values[rest / stride];
      rest %= stride;
      r.assignment.emplace_back(axis.key, v);
      apply(r.config, axis.key, v);
    }
    add(std::move(r));
  }
  if (baseline_tasks.empty()) return runs;
  std::vector<nlohmann::json> seeds = {base.value("seed", nlohmann::json(0))};
  for (const auto& axis : grid)
    if (axis.key == "seed") seeds = axis.values;
  for (const auto& seed : seeds)
    for (std::size_t t = 0; t < baseline_tasks.size(); ++t) {
      SweepRun r;
      r.config = base;
      r.config["seed"] = seed;
      r.config["aggregator"] = "sum";
      nlohmann::json w = nlohmann::json::array();
      for (std::size_t u = 0; u < baseline_tasks.size(); ++u) w.push_back(u == t ? 1 : 0);
      r.config["task_weights"] = w;
      r.assignment = {{"single-task", baseline_tasks[t]}, {"seed", seed}};
      r.baseline_task = int(t);
      add(std::move(r));
    }
  return runs;
}

namespace {

constexpr double kSweepLockWait = 300;  ///< seconds to wait for another process's short sweep.json or table write

nlohmann::json read_json_or_null(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const std::exception&) {
    return nullptr;
  }
}

/// Checks DIR/sweep.json against `record` under the sweep lock and writes it (and sweep.sha256)
/// when it is new or changed; returns whether an earlier sweep of another config was there.
bool claim_sweep_directory(const std::string& dir, const nlohmann::json& record, bool force) {
  const std::string path = dir + "/sweep.json";
  DirLock lock = lock_directory_waiting(dir, "sweep directory", kSweepLockWait);
  remove_stale_temporaries(dir, true);  // every top-level write of a sweep holds this lock
  bool changed = false;
  if (fs::exists(path)) {
    const std::string text = read_file(path);
    if (text == canonical_json(record) && fs::exists(dir + "/sweep.sha256")) return false;
    const nlohmann::json old = read_json_or_null(path);
    if (old != record) {
      std::vector<std::string> changes;
      if (!old.is_object()) {
        changes.push_back("sweep.json is not a JSON object");
      } else {
        changes = config_changes(old.value("config", nlohmann::json()), record["config"]);
        nlohmann::json rest_old = old, rest_new = record;
        rest_old.erase("config");
        rest_new.erase("config");
        for (const auto& c : config_changes(rest_old, rest_new)) changes.push_back(c);
      }
      if (!force) {
        std::string list;
        for (const auto& c : changes) list += (list.empty() ? "" : ", ") + c;
        throw ConfigChanged("sweep directory " + dir + " holds a sweep of another config: " + list +
                            "; rerun with --force to start the changed runs over, or choose another --out");
      }
      changed = true;
    }
  }
  write_fingerprinted(dir, "sweep.json", record);
  return changed;
}

nlohmann::json run_record(const SweepRun& r, const std::string& sweep_sha) {
  nlohmann::json assignment = nlohmann::json::array();
  for (const auto& [key, value] : r.assignment) assignment.push_back({key, value});
  return {{"index", r.index},
          {"assignment", assignment},
          {"baseline_task", r.baseline_task},
          {"config_sha256", fingerprint(r.config)},
          {"sweep_sha256", sweep_sha}};
}

/// A run finished with this run config: summary.json and a sweep_run.json of the same config
/// (one written before fingerprints counts when the sweep's config is unchanged).
bool finished_with(const std::string& dir, const SweepRun& r, bool sweep_changed) {
  if (!finished_run(dir)) return false;
  const nlohmann::json meta = read_json_or_null(dir + "/sweep_run.json");
  if (!meta.is_object()) return false;
  if (!meta.contains("config_sha256")) return !sweep_changed;
  return meta["config_sha256"] == fingerprint(r.config);
}

}  // namespace

SweepReport run_sweep(const nlohmann::json& base, const std::vector<GridAxis>& grid, const std::vector<SweepRun>& runs,
                      const SweepOptions& options) {
  using Clock = std::chrono::steady_clock;
  if (options.shard_count == 0 || options.shard_index >= options.shard_count)
    throw std::invalid_argument("sweep: shard index must be < shard count");
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) throw std::runtime_error("cannot create sweep directory " + options.out_dir + ": " + ec.message());
  nlohmann::json grid_json = nlohmann::json::array();
  for (const auto& axis : grid) grid_json.push_back({axis.key, axis.values});
  bool baselines = false;
  for (const auto& r : runs) baselines = baselines || r.baseline_task >= 0;
  const nlohmann::json record = {
      {"config", base}, {"grid", grid_json}, {"baselines", baselines}, {"runs", runs.size()}};
  const std::string sweep_sha = fingerprint(record);
  const bool sweep_changed = claim_sweep_directory(options.out_dir, record, options.force);

  SweepReport report;
  std::vector<const SweepRun*> todo;
  for (const auto& r : runs) {
    if (r.index % options.shard_count != options.shard_index) continue;
    ++report.total;
    const std::string dir = options.out_dir + "/" + r.name;
    if (!finished_with(dir, r, sweep_changed)) {
      todo.push_back(&r);
      continue;
    }
    ++report.skipped;
    // Kept as it is: its sweep_run.json joins it to this sweep (the index may have moved).
    const std::string meta = canonical_json(run_record(r, sweep_sha));
    DirLock lock;
    if (read_file(dir + "/sweep_run.json") != meta && lock.try_lock(dir))
      write_file_atomic(dir + "/sweep_run.json", meta);
  }
  if (options.plots)
    for (const auto& r : runs)
      if (r.index % options.shard_count == options.shard_index && !interrupt_signal() &&
          finished_run(options.out_dir + "/" + r.name) &&
          redraw_missing_plots(options.out_dir + "/" + r.name))
        report.redrawn.push_back(r.name);

  std::mutex mutex;
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  const auto t0 = Clock::now();
  const bool tty = options.progress && ::isatty(2);
  auto work = [&] {
    blas::set_threads(1);
    for (std::size_t k = next++; k < todo.size() && !interrupt_signal(); k = next++) {
      const SweepRun& r = *todo[k];
      const std::string dir = options.out_dir + "/" + r.name;
      std::string failure, holder, interrupted;
      nlohmann::json summary;
      DirLock lock;  // held from before the first write into dir to the end of the run
      bool busy = false, finished_elsewhere = false;
      try {
        fs::create_directories(dir);
        busy = !lock.try_lock(dir, &holder);
        finished_elsewhere = !busy && finished_with(dir, r, sweep_changed);  // by another process, meanwhile
        if (!busy && !finished_elsewhere) {
          write_file_atomic(dir + "/sweep_run.json", canonical_json(run_record(r, sweep_sha)));
          nlohmann::json config = r.config;
          if (!options.plots) config["plots"] = nlohmann::json{{"enabled", false}};
          RunOptions ro;
          ro.set_blas_threads = false;  // set_threads(1) above, for every worker
          ro.directory_locked = true;
          ro.force = options.force;
          ro.resume = fs::exists(dir + "/checkpoint.cbor");
          summary = run_experiment(config, dir, ro);
          std::error_code ignored;
          fs::remove(dir + "/error.txt", ignored);
        }
      } catch (const RunInterrupted& e) {
        interrupted = e.what();
      } catch (const std::exception& e) {
        failure = e.what();
        try {
          if (lock.locked()) write_file_atomic(dir + "/error.txt", failure + "\n");
        } catch (const std::exception&) {
        }
      }
      lock.release();
      std::lock_guard<std::mutex> guard(mutex);
      ++done;
      const double el = std::chrono::duration<double>(Clock::now() - t0).count();
      if (tty) std::fprintf(stderr, "\r\033[K");
      if (!interrupted.empty()) {
        report.interrupted.push_back(r.name);
        std::fprintf(stderr, "[%zu/%zu] %s  %s (checkpoint written)\n", done, todo.size(), r.name.c_str(),
                     interrupted.c_str());
      } else if (finished_elsewhere) {
        ++report.skipped;
        std::fprintf(stderr, "[%zu/%zu] %s  finished by another process\n", done, todo.size(), r.name.c_str());
      } else if (busy) {
        report.busy.push_back(r.name + ": " + holder);
        std::fprintf(stderr, "[%zu/%zu] %s  busy: run by %s; left to it\n", done, todo.size(), r.name.c_str(),
                     holder.c_str());
      } else if (failure.empty()) {
        ++report.ran;
        report.ran_names.push_back(r.name);
        std::string losses;
        for (const auto& l : summary["final_losses"]) {
          char buf[32];
          std::snprintf(buf, sizeof buf, " %.5g", l.get<double>());
          losses += buf;
        }
        std::fprintf(stderr, "[%zu/%zu] %s  %.1f s  final losses%s\n", done, todo.size(), r.name.c_str(),
                     summary["seconds"].get<double>(), losses.c_str());
      } else {
        report.failed.push_back(r.name + ": " + failure);
        std::fprintf(stderr, "[%zu/%zu] %s  FAILED: %s\n", done, todo.size(), r.name.c_str(), failure.c_str());
      }
      if (tty && done < todo.size())
        std::fprintf(stderr, "sweep: %zu/%zu runs done, %s elapsed, about %s left", done, todo.size(),
                     format_duration(el).c_str(), format_duration(el / double(done) * double(todo.size() - done)).c_str());
      std::fflush(stderr);
    }
  };
  const std::size_t jobs = std::max<std::size_t>(1, std::min(options.jobs, todo.size()));
  std::vector<std::thread> workers;
  for (std::size_t j = 0; j + 1 < jobs; ++j) workers.emplace_back(work);
  work();
  for (auto& w : workers) w.join();
  std::sort(report.ran_names.begin(), report.ran_names.end());
  std::sort(report.failed.begin(), report.failed.end());
  std::sort(report.interrupted.begin(), report.interrupted.end());
  report.interrupt_signal = interrupt_signal();
  std::sort(report.busy.begin(), report.busy.end());
  for (const auto& r : runs) {
    const std::string dir = options.out_dir + "/" + r.name;
    const nlohmann::json meta = read_json_or_null(dir + "/sweep_run.json");
    report.finished += finished_run(dir) && meta.is_object() &&
                       meta.value("sweep_sha256", sweep_changed ? "" : sweep_sha) == sweep_sha;
  }
  return report;
}

}  // namespace mtlgrad
