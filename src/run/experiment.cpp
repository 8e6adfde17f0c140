#include "mtlgrad/run/experiment.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <unistd.h>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/data/data.hpp"
#include "mtlgrad/models/registry.hpp"
#include "mtlgrad/run/observer.hpp"

namespace mtlgrad {
namespace fs = std::filesystem;

const char* version() { return "0.1.0"; }

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
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    value = text;  // not JSON: a string (so --set aggregator.name=pcgrad works unquoted)
  }
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

Setup build(const nlohmann::json& config) {
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
  s.trainer = std::make_unique<Trainer>(*s.model, std::move(agg), std::move(opt), s.cfg.trainer, trainer_rng);
  s.total_steps = s.cfg.epochs ? s.cfg.epochs * s.model->batches_per_epoch() : s.cfg.steps;
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

/// metrics.csv: one row per logged step; every column a pure function of config and seed.
class MetricsTable {
 public:
  MetricsTable(MultiTaskModel& model, const ParameterLayout& layout) : names_(model.task_names()) {
    std::size_t total = layout.total_size;
    log_params_ = total <= 16;  // small models (the toy): log the parameters, for trajectories
    auto all = model.all_parameters();
    for (const auto& p : all) params_.push_back(p);
  }

  void header_from(const StepRecord& r) {
    const std::size_t T = names_.size();
    std::vector<std::string> h = {"step"};
    for (const auto& n : names_) h.push_back("loss_" + n);
    for (const auto& n : names_) h.push_back("gnorm_" + n);
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t j = i + 1; j < T; ++j) h.push_back("cos_" + names_[i] + "_" + names_[j]);
    h.push_back("conflicts");
    h.push_back("dnorm");
    has_weights_ = !r.weights.empty();
    if (has_weights_)
      for (const auto& n : names_) h.push_back("w_" + n);
    has_lambda_ = r.pair_strength.size() > 0;
    if (has_lambda_)
      for (std::size_t i = 0; i < T; ++i)
        for (std::size_t j = 0; j < T; ++j)
          if (i != j) h.push_back("lambda_" + names_[i] + "_" + names_[j]);
    if (log_params_)
      for (const auto& p : params_)
        for (std::size_t k = 0; k < p.param->value.size(); ++k) h.push_back(p.name + "_" + std::to_string(k));
    h.push_back("skipped");
    header_ = join(h, ",");
  }

  void add(const StepRecord& r) {
    if (header_.empty()) header_from(r);
    const std::size_t T = names_.size();
    std::string line = std::to_string(r.step);
    auto put = [&](double v) { line += "," + num(v); };
    for (real v : r.losses) put(v);
    for (real v : r.grad_norms) put(v);
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t j = i + 1; j < T; ++j) put(r.cos(i, j));
    line += "," + std::to_string(r.conflicts);
    put(r.direction_norm);
    if (has_weights_)
      for (std::size_t i = 0; i < T; ++i) put(i < r.weights.size() ? r.weights[i] : NAN);
    if (has_lambda_)
      for (std::size_t i = 0; i < T; ++i)
        for (std::size_t j = 0; j < T; ++j)
          if (i != j) put(r.pair_strength.size() ? r.pair_strength(i, j) : NAN);
    if (log_params_)
      for (const auto& p : params_)
        for (real v : p.param->value) put(v);
    line += r.skipped ? ",1" : ",0";
    rows_.push_back(line);
  }

  std::string csv() const {
    std::string s = header_ + "\n";
    for (const auto& r : rows_) s += r + "\n";
    return s;
  }
  nlohmann::json state() const { return {{"header", header_}, {"rows", rows_}, {"w", has_weights_}, {"l", has_lambda_}}; }
  void load_state(const nlohmann::json& j) {
    header_ = j.at("header").get<std::string>();
    rows_ = j.at("rows").get<std::vector<std::string>>();
    has_weights_ = j.at("w").get<bool>();
    has_lambda_ = j.at("l").get<bool>();
  }

 private:
  std::vector<std::string> names_;
  std::vector<NamedParameter> params_;
  bool log_params_ = false, has_weights_ = false, has_lambda_ = false;
  std::string header_;
  std::vector<std::string> rows_;
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

std::vector<std::string> config_task_names(const nlohmann::json& config) { return build(config).model->task_names(); }

nlohmann::json run_experiment(const nlohmann::json& config, const std::string& out_dir, const RunOptions& options) {
  using Clock = std::chrono::steady_clock;
  Setup s = build(config);
  Trainer& trainer = *s.trainer;
  // OpenBLAS with the config's thread count for this run, the caller's count restored after.
  struct BlasThreads {
    int before = 0;
    ~BlasThreads() {
      if (before) blas::set_threads(before);
    }
  } blas_threads;
  if (options.set_blas_threads) {
    blas_threads.before = blas::threads();
    blas::set_threads(s.cfg.threads);
  }
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error("cannot create run directory " + out_dir + ": " + ec.message());
  remove_stale_temporaries(out_dir);  // a killed earlier run's half-written files
  const std::string ckpt_path = out_dir + "/checkpoint.cbor";

  MetricsTable metrics(*s.model, trainer.layout());
  std::string timing = "step,forward_us,backward_us,spatial_us,temporal_us\n";
  nlohmann::json initial_losses = nullptr;
  double seconds_before = 0;
  nlohmann::json evals = nlohmann::json::array();

  if (options.resume) {
    if (!fs::exists(ckpt_path)) throw std::runtime_error("--resume: no checkpoint in " + out_dir + " (" + ckpt_path + ")");
    const std::string bytes = read_file(ckpt_path);
    nlohmann::json ck;
    try {
      ck = nlohmann::json::from_cbor(bytes);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(ckpt_path + ": not a readable checkpoint: " + e.what());
    }
    if (ck.value("config", nlohmann::json()) != s.resolved)
      throw std::runtime_error("--resume: the checkpoint in " + out_dir + " was written by a different config");
    trainer.load_state(ck.at("trainer"));
    metrics.load_state(ck.at("metrics"));
    timing = ck.at("timing").get<std::string>();
    initial_losses = ck.at("initial_losses");
    evals = ck.at("evals");
    seconds_before = ck.at("seconds").get<double>();
    const auto& obs = ck.at("observers");
    if (obs.size() != s.observers.size()) throw std::runtime_error(ckpt_path + ": observer count differs from the config's");
    for (std::size_t k = 0; k < s.observers.size(); ++k) s.observers[k]->load_state(obs[k]);
  }
  write_file_atomic(out_dir + "/config.json", s.resolved.dump(2) + "\n");

  const auto t0 = Clock::now();
  auto elapsed = [&] { return seconds_before + std::chrono::duration<double>(Clock::now() - t0).count(); };
  const bool progress = options.progress && ::isatty(2);
  auto last_progress = Clock::now();

  auto checkpoint = [&] {
    nlohmann::json ck = {{"config", s.resolved},     {"trainer", trainer.state()}, {"metrics", metrics.state()},
                         {"timing", timing},         {"initial_losses", initial_losses},
                         {"evals", evals},           {"seconds", elapsed()}};
    nlohmann::json obs = nlohmann::json::array();
    for (const auto& o : s.observers) obs.push_back(o->state());
    ck["observers"] = obs;
    const auto bytes = nlohmann::json::to_cbor(ck);
    write_file_atomic(ckpt_path, std::string(bytes.begin(), bytes.end()));
    write_file_atomic(out_dir + "/metrics.csv", metrics.csv());
  };

  while (trainer.steps() < s.total_steps) {
    if (initial_losses.is_null()) initial_losses = objective_losses(trainer);
    const StepRecord& r = trainer.step();
    const std::size_t t = trainer.steps();
    if (t == 1 || t % s.cfg.log_every == 0 || t == s.total_steps) {
      metrics.add(r);
      char buf[160];
      std::snprintf(buf, sizeof buf, "%zu,%.1f,%.1f,%.1f,%.1f\n", t, r.seconds_forward * 1e6, r.seconds_backward * 1e6,
                    r.seconds_spatial * 1e6, r.seconds_temporal * 1e6);
      timing += buf;
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
  }
  if (progress) std::fprintf(stderr, "\n");

  nlohmann::json summary;
  summary["name"] = s.cfg.name;
  summary["version"] = version();
  summary["steps"] = trainer.steps();
  summary["skipped_steps"] = trainer.skipped_steps();
  summary["seconds"] = elapsed();
  nlohmann::json params = nlohmann::json::object();
  for (const auto& p : s.model->all_parameters()) params[p.name] = flat_json(p.param->value);
  summary["final_params"] = params;
  summary["initial_losses"] = initial_losses;
  summary["final_losses"] = objective_losses(trainer);
  summary["task_names"] = s.model->task_names();
  nlohmann::json ev = s.model->evaluate();
  if (!ev.empty()) summary["eval"] = ev;
  if (!evals.empty()) summary["eval_history"] = evals;

  write_file_atomic(out_dir + "/metrics.csv", metrics.csv());
  write_file_atomic(out_dir + "/timing.csv", timing);
  for (auto& o : s.observers) o->on_end(trainer, out_dir, summary);
  write_file_atomic(out_dir + "/summary.json", summary.dump(2) + "\n");
  if (fs::exists(ckpt_path)) fs::remove(ckpt_path, ec);
  return summary;
}

}  // namespace mtlgrad
