#include "mtlgrad/run/experiment.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include <unistd.h>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/parallel.hpp"
#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/dir_lock.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/core/stored_state.hpp"
#include "mtlgrad/data/data.hpp"
#include "mtlgrad/run/checkpoint.hpp"
#include "mtlgrad/run/fingerprint.hpp"
#include "mtlgrad/models/pareto_front.hpp"
#include "mtlgrad/models/registry.hpp"
#include "mtlgrad/mtl/certificates.hpp"
#include "mtlgrad/run/metrics_columns.hpp"
#include "mtlgrad/run/observer.hpp"

namespace mtlgrad {
namespace fs = std::filesystem;

const char* version() { return "0.1.0"; }

RunInterrupted::RunInterrupted(int signal_number, std::size_t at_step, bool without_checkpointing)
    : std::runtime_error("interrupted at step " + std::to_string(at_step)),
      signal(signal_number),
      step(at_step),
      checkpointing_off(without_checkpointing) {}

std::string format_duration(double s) {
  char buf[32];
  const long t = long(s + 0.5);
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

namespace {
// The stages a config gets when it names none (the table in experiment.hpp).
constexpr const char* kDefaultAggregator = "sum";
constexpr const char* kDefaultOptimizer = "sgd";
}  // namespace

void apply_override(nlohmann::json& config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + assignment + ": expected key.path=value");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  // Not JSON: a string (so --set aggregator.name=pcgrad works unquoted). JSON: parse_json's
  // checks (a duplicate key is refused, not resolved silently).
  const nlohmann::json value = nlohmann::json::accept(text) ? parse_json(text, "--set " + assignment) : nlohmann::json(text);
  // --set optimizer.lr=0.1 on a config without an optimizer tunes the default one.
  for (const auto& [key, name] : {std::pair{"aggregator", kDefaultAggregator}, std::pair{"optimizer", kDefaultOptimizer}})
    if (path.rfind(std::string(key) + ".", 0) == 0 && path != std::string(key) + ".name" && config.is_object() &&
        !config.contains(key))
      config[key] = name;
  nlohmann::json* node = &config;
  std::string done;
  std::size_t begin = 0;
  while (true) {
    const auto dot = path.find('.', begin);
    const std::string key = path.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin);
    if (key.empty()) throw ConfigError("--set " + assignment + ": empty key in '" + path + "'");
    if (!node->is_object()) {
      if (node->is_string() && done.size()) {
        // {"aggregator": "pcgrad"} shorthand: turn it into an object before going deeper.
        *node = nlohmann::json{{"name", *node}};
      } else {
        throw ConfigError("--set " + assignment + ": '" + done + "' is " + json_type(*node) + ", not an object");
      }
    }
    done += (done.empty() ? "" : ".") + key;
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    node = &(*node)[key];
    if (node->is_null()) *node = nlohmann::json::object();
    begin = dot + 1;
  }
}

namespace {

struct Config {
  std::string name = "run";
  std::uint64_t seed = 0;
  nlohmann::json model, aggregator = kDefaultAggregator, optimizer = kDefaultOptimizer, data;
  std::size_t batch_size = 32, steps = 1000, epochs = 0, log_every = 100, eval_every = 0, checkpoint_every = 0;
  int threads = 1;  ///< OpenBLAS threads: part of the config, since OpenBLAS's sums depend on it
  TrainerOptions trainer;
  nlohmann::json observers = nlohmann::json::object();  ///< observer key -> its section
};

Config parse(const nlohmann::json& j) {
  Config c;
  OptionReader r(j, "");
  c.name = r.get<std::string>("name", c.name);
  c.seed = r.get<std::uint64_t>("seed", c.seed);
  c.model = r.require<nlohmann::json>("model");
  c.aggregator = r.get<nlohmann::json>("aggregator", c.aggregator);
  c.optimizer = r.get<nlohmann::json>("optimizer", c.optimizer);
  c.data = r.get<nlohmann::json>("data", nullptr);
  c.batch_size = r.get<std::size_t>("batch_size", c.batch_size);
  r.check(c.batch_size > 0, "batch_size", ">= 1");
  c.steps = r.get<std::size_t>("steps", c.steps);
  c.epochs = r.get<std::size_t>("epochs", c.epochs);
  c.log_every = r.get<std::size_t>("log_every", c.log_every);
  r.check(c.log_every > 0, "log_every", ">= 1");
  c.eval_every = r.get<std::size_t>("eval_every", c.eval_every);
  c.checkpoint_every = r.get<std::size_t>("checkpoint_every", c.checkpoint_every);
  c.threads = r.get<int>("threads", c.threads);
  r.check(c.threads >= 1 && c.threads <= 256, "threads", "1 to 256");
  c.trainer.task_weights = r.get<std::vector<real>>("task_weights", {});
  for (real w : c.trainer.task_weights) r.check(std::isfinite(w) && w >= 0, "task_weights", "finite values >= 0");
  c.trainer.scope = parse_scope(r.get<std::string>("scope", "shared"), "scope");
  c.trainer.granularity = parse_granularity(r.get<std::string>("granularity", "whole"), "granularity");
  const std::string nf = r.get<std::string>("nonfinite", "error");
  if (nf != "error" && nf != "skip")
    throw ConfigError("nonfinite: unknown policy '" + nf + "'" + did_you_mean(nf, {"error", "skip"}) +
                      "; allowed: error, skip");
  c.trainer.nonfinite = nf == "error" ? NonFinitePolicy::error : NonFinitePolicy::skip;
  for (const auto& e : run_observers()) {
    const nlohmann::json* section = r.raw(e.key);
    if (section) c.observers[e.key] = *section;
    else if (e.always) c.observers[e.key] = nlohmann::json::object();
  }
  r.finish();
  return c;
}

/// Task names become CSV column names (metrics.csv, table.csv), plot labels and keys of
/// summary.json: each must be non-empty, free of commas, double quotes and control characters
/// (newlines included), and unique, so that no column is split or confused with another.
void check_task_names(const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    const std::string which = "task name " + nlohmann::json(n).dump() + " (task " + std::to_string(i) + ")";
    if (n.empty()) throw ConfigError("task " + std::to_string(i) + ": the task name is empty");
    for (unsigned char c : n) {
      if (c != ',' && c != '"' && c >= 0x20 && c != 0x7f) continue;
      const std::string bad = c == ',' ? "a comma"
                              : c == '"' ? "a double quote"
                                         : "the control character " + nlohmann::json(std::string(1, char(c))).dump();
      throw ConfigError(which + ": holds " + bad +
                        "; task names become CSV columns and plot labels: use letters, digits, spaces, '_', '-', '.'");
    }
    for (std::size_t j = 0; j < i; ++j)
      if (names[j] == n) throw ConfigError(which + ": task " + std::to_string(j) + " has the same name; names must be unique");
  }
}

/// Everything built from a config: the model, the stages, the trainer.
struct Setup {
  Config cfg;
  std::unique_ptr<DataSplit> data;
  std::unique_ptr<MultiTaskModel> model;
  std::unique_ptr<Trainer> trainer;
  std::vector<std::unique_ptr<RunObserver>> observers;
  std::size_t total_steps = 0;
  nlohmann::json resolved;
};

Setup build(const nlohmann::json& config, const std::function<std::unique_ptr<Aggregator>()>& stage = nullptr) {
  Setup s;
  s.cfg = parse(config);
  Rng root(s.cfg.seed);
  ModelContext ctx{root.split(), root.split(), nullptr, s.cfg.batch_size};
  Rng trainer_rng = root.split();
  if (!s.cfg.data.is_null()) {
    s.data = std::make_unique<DataSplit>(make_data(s.cfg.data, "data"));
    ctx.data = s.data.get();
  }
  s.model = make_model(s.cfg.model, "model", ctx);
  auto agg = make_aggregator(s.cfg.aggregator, "aggregator");
  auto opt = make_optimizer(s.cfg.optimizer, "optimizer");
  if (!s.cfg.trainer.task_weights.empty() && s.cfg.trainer.task_weights.size() != s.model->num_tasks())
    throw ConfigError("task_weights: " + std::to_string(s.cfg.trainer.task_weights.size()) +
                      " values, but the model has " + std::to_string(s.model->num_tasks()) + " tasks");
  s.resolved = config;
  s.resolved["aggregator"] = agg->options();
  s.resolved["optimizer"] = opt->options();
  s.resolved["threads"] = s.cfg.threads;
  if (stage) agg = stage();
  s.trainer = std::make_unique<Trainer>(*s.model, std::move(agg), std::move(opt), s.cfg.trainer, trainer_rng);
  if (s.cfg.epochs) {
    // epochs × batches must not wrap around (7905747460161236407 epochs once ran one step).
    const std::size_t per_epoch = s.model->batches_per_epoch();
    if (per_epoch && s.cfg.epochs > std::numeric_limits<std::size_t>::max() / per_epoch)
      throw ConfigError("epochs: " + std::to_string(s.cfg.epochs) + " is out of range (× " +
                        std::to_string(per_epoch) + " batches per epoch exceeds " +
                        std::to_string(std::numeric_limits<std::size_t>::max()) + " steps)");
    s.total_steps = s.cfg.epochs * per_epoch;
  } else {
    s.total_steps = s.cfg.steps;
  }
  check_task_names(s.model->task_names());
  for (const auto& e : run_observers()) {
    auto it = s.cfg.observers.find(e.key);
    if (it == s.cfg.observers.end() || it->is_null() || (it->is_boolean() && !it->get<bool>())) continue;
    const nlohmann::json section = it->is_boolean() ? nlohmann::json::object() : *it;
    s.observers.push_back(e.make(section, e.key, *s.trainer));
  }
  return s;
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// metrics.csv: one row per logged step; every column a pure function of config and seed. The
/// columns are declared before the first step (the stage's weighting(), pair_strengths() and
/// metric_names()); a skipped step's stage columns are NaN. Rows go straight to the file (an
/// AppendLog), so memory does not grow with them.
class MetricsTable {
 public:
  MetricsTable(Trainer& trainer, std::string run_name, std::string stage_name)
      // small models (the toy): log the parameters, for trajectories
      : columns_(trainer, trainer.layout().total_size <= 16),
        run_name_(std::move(run_name)),
        stage_(std::move(stage_name)),
        header_(join(columns_.names(), ",")),
        has_weights_(trainer.records_weights()),
        has_lambda_(trainer.records_pair_strength()) {}

  const std::string& header() const { return header_; }

  void add(const StepRecord& r, AppendLog& out) {
    std::string line;
    for (double v : columns_.values(r)) line += (line.empty() ? "" : ",") + num(v);
    line += "\n";
    out.append(line);
    if (!r.skipped) warn_scale(r.step);
  }

  nlohmann::json state(std::uint64_t bytes) const {
    return {{"header", header_}, {"w", has_weights_}, {"l", has_lambda_}, {"bytes", bytes}};
  }
  /// The checkpoint's columns must be the ones this config declares (they are a function of it).
  void load_state(const nlohmann::json& j) {
    if (j.at("header").get<std::string>() != header_ || j.at("w").get<bool>() != has_weights_ ||
        j.at("l").get<bool>() != has_lambda_)
      throw std::invalid_argument("metrics.header: the checkpoint's metrics.csv columns are not the ones this config declares");
  }

 private:
  // The scale warning, given once per run at the first logged step above its threshold.
  void warn_scale(std::size_t step) {
    if (scale_warned_) return;
    const std::string w = scale_warning(columns_.certificate(), step, stage_);
    if (w.empty()) return;
    scale_warned_ = true;
    std::fprintf(stderr, "%s: warning: %s (this warning is given once per run)\n", run_name_.c_str(), w.c_str());
  }

  MetricsColumns columns_;
  std::string run_name_, stage_;
  std::string header_;
  bool has_weights_, has_lambda_;
  bool scale_warned_ = false;
};

/// The objective at the current parameters (summary.json's "initial_losses" and "final_losses"): on the whole training set for a model with data (not
/// one mini-batch), else the model's forward() (the toy's f1, f2).
nlohmann::json objective_losses(Trainer& trainer) {
  std::vector<real> values;
  if (!trainer.model().training_losses(values)) {
    Tape tape;
    std::vector<Var> losses;
    trainer.model().forward(tape, losses);
    for (const Var& l : losses) values.push_back(l.item());
  }
  nlohmann::json out = nlohmann::json::array();
  for (real v : values) out.push_back(double(v));
  return out;
}

}  // namespace

nlohmann::json resolve_config(const nlohmann::json& config) { return build(config).resolved; }

BuiltExperiment build_experiment(const nlohmann::json& config) {
  Setup s = build(config);
  return {std::move(s.data), std::move(s.model), std::move(s.trainer), std::move(s.resolved)};
}

std::vector<std::string> config_task_names(const nlohmann::json& config) { return build(config).model->task_names(); }

nlohmann::json run_experiment(const nlohmann::json& config, const std::string& out_dir, const RunOptions& options) {
  using Clock = std::chrono::steady_clock;
  Setup s = build(config, options.aggregator);
  Trainer& trainer = *s.trainer;
  // OpenBLAS and mtlgrad's own kernels (core/parallel.hpp) with the config's thread count for
  // this run, the caller's counts restored after.
  struct BlasThreads {
    int before = 0, own_before = 0;
    ~BlasThreads() {
      if (before) blas::set_threads(before);
      if (own_before) parallel::set_threads(own_before);
    }
  } blas_threads;
  if (options.set_blas_threads) {
    blas_threads.before = blas::threads();
    blas_threads.own_before = parallel::threads();
    blas::set_threads(s.cfg.threads);
    parallel::set_threads(s.cfg.threads);
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error("cannot create run directory " + out_dir + ": " + ec.message());
  DirLock lock;  // before anything is written: one process per run directory
  if (!options.directory_locked) lock = lock_directory(out_dir, "run directory");
  remove_stale_temporaries(out_dir, true);  // a killed earlier run's half-written files
  const bool restarted = claim_run_directory(out_dir, s.resolved, options.force);  // another config's run?
  const bool resume = options.resume && !restarted;
  const std::string ckpt_path = out_dir + "/checkpoint.cbor";

  MetricsTable metrics(trainer, s.cfg.name, trainer.aggregator().name());
  // metrics.csv and timing.csv are appended to, never rewritten (checkpoint.hpp).
  std::unique_ptr<AppendLog> metrics_log, timing_log;
  nlohmann::json initial_losses = nullptr;
  double seconds_before = 0;
  nlohmann::json evals = nlohmann::json::array();

  if (resume) {
    if (!fs::exists(ckpt_path)) throw std::runtime_error("--resume: no checkpoint in " + out_dir + " (" + ckpt_path + ")");
    const nlohmann::json ck = open_checkpoint(read_file(ckpt_path), ckpt_path);
    // Every field checked before use; an error names the file and the field.
    std::uint64_t metrics_bytes = 0, timing_bytes = 0;
    try {
      if (state_field(ck, "config", "") != s.resolved)
        throw std::runtime_error("--resume: the checkpoint in " + out_dir + " was written by a different config");
      trainer.load_state(state_field(ck, "trainer", ""));
      if (trainer.steps() > s.total_steps)
        throw std::invalid_argument("trainer.step: " + std::to_string(trainer.steps()) + " is past the run's " +
                                    std::to_string(s.total_steps) + " steps");
      const nlohmann::json& m = state_field(ck, "metrics", "");
      metrics.load_state({{"header", state_string(m, "header", "metrics")},
                          {"w", state_bool(m, "w", "metrics")},
                          {"l", state_bool(m, "l", "metrics")}});
      metrics_bytes = state_uint(m, "bytes", "metrics");
      timing_bytes = state_uint(state_field(ck, "timing", ""), "bytes", "timing");
      initial_losses = state_field(ck, "initial_losses", "");
      if (!initial_losses.is_array() && !initial_losses.is_null())
        throw std::invalid_argument("initial_losses: expected a list of numbers or null");
      evals = state_field(ck, "evals", "");
      if (!evals.is_array()) throw std::invalid_argument("evals: expected a list");
      seconds_before = state_number(ck, "seconds", "");
      if (seconds_before < 0) throw std::invalid_argument("seconds: " + num(seconds_before) + " is negative");
      const auto& obs = state_field(ck, "observers", "");
      if (!obs.is_array() || obs.size() != s.observers.size())
        throw std::invalid_argument("observers: expected the states of the config's " +
                                    std::to_string(s.observers.size()) + " observers, got " + obs.dump().substr(0, 40));
      for (std::size_t k = 0; k < s.observers.size(); ++k) s.observers[k]->load_state(obs[k]);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(ckpt_path + ": malformed: " + e.what());
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(ckpt_path + ": " + e.what());
    }
    metrics_log = std::make_unique<AppendLog>(out_dir + "/metrics.csv", metrics_bytes);
    timing_log = std::make_unique<AppendLog>(out_dir + "/timing.csv", timing_bytes);
  } else {
    fs::remove(ckpt_path, ec);  // an earlier run's: it points into the logs emptied here
    metrics_log = std::make_unique<AppendLog>(out_dir + "/metrics.csv");
    timing_log = std::make_unique<AppendLog>(out_dir + "/timing.csv");
    timing_log->append("step,forward_us,backward_us,spatial_us,temporal_us\n");
    metrics_log->append(metrics.header() + "\n");
  }
  write_fingerprinted(out_dir, "config.json", s.resolved);
  for (auto& o : s.observers) o->open(out_dir);

  const auto t0 = Clock::now();
  auto elapsed = [&] { return seconds_before + std::chrono::duration<double>(Clock::now() - t0).count(); };
  const bool progress = options.progress && ::isatty(2);
  auto last_progress = Clock::now();

  auto checkpoint = [&] {
    // The logs first: the checkpoint records lengths that are already on disk.
    const std::uint64_t metrics_bytes = metrics_log->sync(), timing_bytes = timing_log->sync();
    nlohmann::json ck = {{"config", s.resolved},
                         {"trainer", trainer.state()},
                         {"metrics", metrics.state(metrics_bytes)},
                         {"timing", {{"bytes", timing_bytes}}},
                         {"initial_losses", initial_losses},
                         {"evals", evals},
                         {"seconds", elapsed()}};
    nlohmann::json obs = nlohmann::json::array();
    for (const auto& o : s.observers) obs.push_back(o->state());
    ck["observers"] = obs;
    write_file_atomic(ckpt_path, seal_checkpoint(ck));
  };
  // SIGINT/SIGTERM (core/interrupt.hpp) stop the run between two steps, or after the last one
  // before summary.json marks it finished: a checkpoint of that moment makes it resumable.
  auto stop_if_interrupted = [&] {
    const int signal = interrupt_signal();
    if (!signal) return;
    if (progress) std::fprintf(stderr, "\n");
    checkpoint();
    throw RunInterrupted(signal, trainer.steps(), s.cfg.checkpoint_every == 0);
  };
  stop_if_interrupted();

  while (trainer.steps() < s.total_steps) {
    if (initial_losses.is_null()) initial_losses = objective_losses(trainer);
    const StepRecord* step_record = nullptr;
    try {
      step_record = &trainer.step();
    } catch (const NonFiniteError& e) {
      // Policy "error": the run stops; summary.json says where and why (no final losses: the
      // parameters may no longer be finite). metrics.csv keeps the rows logged so far.
      nlohmann::json summary = {{"name", s.cfg.name},           {"version", version()},
                                {"status", "diverged"},         {"step", e.step},
                                {"source", e.source},           {"message", e.what()},
                                {"steps", trainer.steps()},     {"skipped_steps", trainer.skipped_steps()},
                                {"solver_capped_steps", trainer.solver_capped_steps()},
                                {"seconds", elapsed()},         {"initial_losses", initial_losses},
                                {"task_names", s.model->task_names()}};
      metrics_log->sync();
      timing_log->sync();
      write_file_atomic(out_dir + "/summary.json", summary.dump(2) + "\n");
      throw;
    }
    const StepRecord& r = *step_record;
    const std::size_t t = trainer.steps();
    if (r.solver_capped && trainer.solver_capped_steps() == 1)
      std::fprintf(stderr,
                   "%s: warning: step %zu: a solver of the aggregator '%s' stopped at its max_iter before its "
                   "tolerance (such steps are counted in summary.json's solver_capped_steps; this warning is "
                   "given once per run)\n",
                   s.cfg.name.c_str(), t, trainer.aggregator().name().c_str());
    if (t == 1 || t % s.cfg.log_every == 0 || t == s.total_steps) {
      metrics.add(r, *metrics_log);
      char buf[160];
      std::snprintf(buf, sizeof buf, "%zu,%.1f,%.1f,%.1f,%.1f\n", t, r.seconds_forward * 1e6, r.seconds_backward * 1e6,
                    r.seconds_spatial * 1e6, r.seconds_temporal * 1e6);
      timing_log->append(buf);
    }
    for (auto& o : s.observers) o->on_step(trainer, r);
    if (options.on_step) options.on_step(trainer, r);
    s.model->next_batch();
    if (s.cfg.eval_every && t % s.cfg.eval_every == 0) {
      nlohmann::json e = s.model->evaluate();
      if (!e.empty()) evals.push_back({{"step", t}, {"eval", e}});
    }
    if (s.cfg.checkpoint_every && t % s.cfg.checkpoint_every == 0 && t < s.total_steps) checkpoint();
    if (progress && std::chrono::duration<double>(Clock::now() - last_progress).count() > 0.5) {
      last_progress = Clock::now();
      const double el = elapsed(), rate = double(t) / std::max(el, 1e-9);
      std::string losses;
      for (real l : r.losses) losses += " " + num(double(float(l))).substr(0, 9);
      std::fprintf(stderr, "\r%s step %zu/%zu  losses%s  %.0f steps/s  left %s   ", s.cfg.name.c_str(), t,
                   s.total_steps, losses.c_str(), rate, format_duration(double(s.total_steps - t) / rate).c_str());
    }
    stop_if_interrupted();
  }
  if (progress) std::fprintf(stderr, "\n");

  nlohmann::json summary;
  summary["name"] = s.cfg.name;
  summary["version"] = version();
  summary["status"] = "finished";
  summary["steps"] = trainer.steps();
  summary["skipped_steps"] = trainer.skipped_steps();
  summary["solver_capped_steps"] = trainer.solver_capped_steps();
  summary["seconds"] = elapsed();
  summary["initial_losses"] = initial_losses;
  summary["final_losses"] = objective_losses(trainer);
  summary["task_names"] = s.model->task_names();
  // A model with an exactly known Pareto set: where the run ended relative to it.
  if (auto pareto = models::pareto_summary(s.cfg.model, *s.model, summary["final_losses"]); !pareto.is_null())
    summary["pareto"] = pareto;
  nlohmann::json ev = s.model->evaluate();
  if (!ev.empty()) summary["eval"] = ev;
  if (!evals.empty()) summary["eval_history"] = evals;

  metrics_log->sync();
  timing_log->sync();
  nlohmann::json params = nlohmann::json::object();
  for (const auto& p : s.model->all_parameters()) params[p.name] = tensor_to_json(p.param->value);
  write_file_atomic(out_dir + "/final_params.json", params.dump() + "\n");
  for (auto& o : s.observers) o->on_end(trainer, out_dir, summary);
  stop_if_interrupted();
  write_file_atomic(out_dir + "/summary.json", summary.dump(2) + "\n");
  if (fs::exists(ckpt_path)) fs::remove(ckpt_path, ec);
  return summary;
}

}  // namespace mtlgrad
