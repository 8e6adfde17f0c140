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
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/experiment.hpp"

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
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    return text;  // not JSON: a string, as with --set
  }
}

/// A run is done when its summary.json exists and does not say "diverged" (such a run is run again,
/// and reported failed with its message again).
bool finished_run(const std::string& dir) {
  const std::string path = dir + "/summary.json";
  if (!fs::exists(path)) return false;
  try {
    return nlohmann::json::parse(read_file(path)).value("status", "finished") != "diverged";
  } catch (const std::exception&) {
    return false;
  }
}

std::string value_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void apply(nlohmann::json& config, const std::string& key, const nlohmann::json& value) {
  apply_override(config, key + "=" + value.dump());
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

SweepReport run_sweep(const nlohmann::json& base, const std::vector<GridAxis>& grid, const std::vector<SweepRun>& runs,
                      const SweepOptions& options) {
  using Clock = std::chrono::steady_clock;
  if (options.shard_count == 0 || options.shard_index >= options.shard_count)
    throw std::invalid_argument("sweep: shard index must be < shard count");
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) throw std::runtime_error("cannot create sweep directory " + options.out_dir + ": " + ec.message());
  remove_stale_temporaries(options.out_dir);
  nlohmann::json grid_json = nlohmann::json::array();
  for (const auto& axis : grid) grid_json.push_back({axis.key, axis.values});
  bool baselines = false;
  for (const auto& r : runs) baselines = baselines || r.baseline_task >= 0;
  write_file_atomic(options.out_dir + "/sweep.json",
                    nlohmann::json{{"config", base}, {"grid", grid_json}, {"baselines", baselines}, {"runs", runs.size()}}
                            .dump(2) + "\n");

  SweepReport report;
  std::vector<const SweepRun*> todo;
  for (const auto& r : runs) {
    if (r.index % options.shard_count != options.shard_index) continue;
    ++report.total;
    if (finished_run(options.out_dir + "/" + r.name)) ++report.skipped;
    else todo.push_back(&r);
  }

  std::mutex mutex;
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  const auto t0 = Clock::now();
  const bool tty = options.progress && ::isatty(2);
  auto work = [&] {
    blas::set_threads(1);
    for (std::size_t k = next++; k < todo.size(); k = next++) {
      const SweepRun& r = *todo[k];
      const std::string dir = options.out_dir + "/" + r.name;
      std::string failure;
      nlohmann::json summary;
      try {
        fs::create_directories(dir);
        nlohmann::json assignment = nlohmann::json::array();
        for (const auto& [key, value] : r.assignment) assignment.push_back({key, value});
        write_file_atomic(dir + "/sweep_run.json",
                          nlohmann::json{{"index", r.index}, {"assignment", assignment}, {"baseline_task", r.baseline_task}}
                                  .dump(2) + "\n");
        nlohmann::json config = r.config;
        if (!options.plots) config["plots"] = nlohmann::json{{"enabled", false}};
        RunOptions ro;
        ro.set_blas_threads = false;  // set_threads(1) above, for every worker
        ro.resume = fs::exists(dir + "/checkpoint.cbor");
        summary = run_experiment(config, dir, ro);
        std::error_code ignored;
        fs::remove(dir + "/error.txt", ignored);
      } catch (const std::exception& e) {
        failure = e.what();
        try {
          write_file_atomic(dir + "/error.txt", failure + "\n");
        } catch (const std::exception&) {
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      ++done;
      const double el = std::chrono::duration<double>(Clock::now() - t0).count();
      if (tty) std::fprintf(stderr, "\r\033[K");
      if (failure.empty()) {
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
  return report;
}

}  // namespace mtlgrad
