#include "mtlgrad/mtl/trainer.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/core/detail/assign.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/core/stored_state.hpp"
#include "mtlgrad/optim/gramian.hpp"

namespace mtlgrad {
namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// A non-finite value for a message: "nan" (std::to_string may print "-nan"), "inf" or "-inf".
std::string nonfinite_text(real v) { return std::isnan(v) ? "nan" : std::to_string(v); }
// metrics.csv's columns are the stage's metric_names(): a stage that reports another count is a bug.
void check_metric_count(const Aggregator& a, const Aggregation& agg) {
  const std::size_t n = a.metric_names().size();
  if (agg.metrics.size() != n)
    throw std::logic_error("aggregator '" + a.name() + "' reported " + std::to_string(agg.metrics.size()) +
                           " metrics but declares " + std::to_string(n) + " (metric_names())");
}
}  // namespace

Granularity parse_granularity(const std::string& s, const std::string& path) {
  if (s == "whole") return Granularity::whole;
  if (s == "per_layer") return Granularity::per_layer;
  if (s == "representation") return Granularity::representation;
  const std::vector<std::string> all = {"whole", "per_layer", "representation"};
  throw ConfigError(path + ": unknown granularity '" + s + "'" + did_you_mean(s, all) + "; allowed: " + join(all));
}

std::string to_string(Granularity g) {
  return g == Granularity::whole ? "whole" : g == Granularity::per_layer ? "per_layer" : "representation";
}

Trainer::Trainer(MultiTaskModel& model, std::unique_ptr<Aggregator> aggregator, std::unique_ptr<Optimizer> optimizer,
                 TrainerOptions options, Rng rng)
    : model_(model),
      optimizer_(std::move(optimizer)),
      options_(std::move(options)),
      rng_(rng),
      layout_(model) {
  const std::size_t T = model_.num_tasks();
  if (T == 0) throw std::invalid_argument("trainer: the model has no tasks");
  weights_ = options_.task_weights.empty() ? std::vector<real>(T, real(1)) : options_.task_weights;
  if (weights_.size() != T)
    throw std::invalid_argument("trainer: task_weights has " + std::to_string(weights_.size()) +
                                " values but the model has " + std::to_string(T) + " tasks");
  // The temporal stage sees every parameter: shared first, then each head (the layout's order).
  for (const auto& p : layout_.all()) params_.push_back(&p.param->value);
  aggregators_.push_back(std::move(aggregator));
  if (options_.granularity == Granularity::representation && options_.scope != GradientScope::shared)
    throw std::invalid_argument("trainer: granularity \"representation\" needs scope \"shared\"");
  if (options_.granularity == Granularity::per_layer) {
    // Groups: consecutive parameters sharing the name prefix before the last '.'.
    const auto all = options_.scope == GradientScope::all ? layout_.all() : layout_.shared;
    std::size_t col = 0;
    for (const auto& p : all) {
      const auto dot = p.name.rfind('.');
      const std::string g = dot == std::string::npos ? p.name : p.name.substr(0, dot);
      if (groups_.empty() || groups_.back().name != g) groups_.push_back({g, col, col});
      col += p.param->value.size();
      groups_.back().end = col;
    }
    // One stage instance (and state) per group, all built from the same options.
    for (std::size_t k = 1; k < groups_.size(); ++k)
      aggregators_.push_back(make_aggregator(aggregators_.front()->options(), "aggregator"));
  }
  flat_grads_.resize(params_.size());
  for (std::size_t k = 0; k < params_.size(); ++k) flat_grads_[k] = zeros(shape_of(*params_[k]));
  grad_ptrs_.resize(params_.size());
}

const StepRecord& Trainer::step() {
  const std::size_t T = model_.num_tasks();
  record_.step = step_ + 1;
  record_.skipped = false;

  // nag: the gradients of this step are taken at the look-ahead point θ̃.
  const bool look = optimizer_->has_lookahead();
  if (look) {
    std::vector<const Tensor*> cp(params_.begin(), params_.end());
    optimizer_->lookahead(cp, lookahead_);
    saved_values_.resize(params_.size());
    for (std::size_t k = 0; k < params_.size(); ++k) {
      saved_values_[k] = *params_[k];
      *params_[k] = lookahead_[k];
    }
    at_lookahead_ = true;
  }

  auto t0 = Clock::now();
  tape_.clear();
  model_.forward(tape_, losses_);
  if (losses_.size() != T)
    throw std::invalid_argument("trainer: the model returned " + std::to_string(losses_.size()) + " losses for " +
                                std::to_string(T) + " tasks");
  record_.seconds_forward = seconds_since(t0);

  t0 = Clock::now();
  Var z;
  if (options_.granularity == Granularity::representation) {
    z = model_.representation();
    if (!z.valid())
      throw std::invalid_argument("trainer: granularity \"representation\" needs a model with a shared "
                                  "representation (e.g. hps_mlp); this model has none");
    collect_representation_gradients(tape_, losses_, weights_, layout_, z, grads_);
  } else {
    collect_task_gradients(tape_, losses_, weights_, layout_, options_.scope, grads_);
  }
  record_.seconds_backward = seconds_since(t0);
  record_.losses = grads_.losses;
  compute_pair_metrics();  // first: check_finite scans only the rows of J whose G_ii is not finite
  check_finite();
  ++step_;
  if (record_.skipped) {
    skip_step();
    return record_;
  }

  // Policy "skip": what the stages change, kept until d, the step and θ' have proven finite.
  const bool keep = options_.nonfinite == NonFinitePolicy::skip;
  if (keep) {
    saved_aggregator_ = aggregator_state();
    saved_rng_ = rng_;
  }
  t0 = Clock::now();
  aggregate();
  record_.seconds_spatial = seconds_since(t0);
  record_.weights = agg_.weights;
  record_.pair_strength = agg_.pair_strength;
  record_.stage_metrics = agg_.metrics;
  record_.solver_capped = agg_.solver_capped;
  if (agg_.solver_capped) ++solver_capped_;
  record_.direction_norm = std::sqrt(blas_norm2(agg_.direction));
  // ‖d‖² is finite only if every entry of d is (its overflow on finite entries is told apart by
  // the scan, which runs only then).
  std::string problem;
  if (!std::isfinite(record_.direction_norm) && !direction_finite(problem)) {
    restore_after_lookahead();
    if (!keep) {
      --step_;  // not taken
      throw NonFiniteError(step_ + 1, "aggregator " + aggregators_.front()->name(), problem);
    }
    aggregator_load_state(saved_aggregator_);
    rng_ = saved_rng_;
    skip_step();
    return record_;
  }
  if (options_.granularity == Granularity::representation) {
    // One backward of the aggregated direction on Z through the trunk (at the look-ahead point for
    // nag, whose parameters are still in place).
    t0 = Clock::now();
    shared_gradient_from_representation(tape_, z, agg_.direction, layout_, rep_grads_);
    record_.seconds_backward += seconds_since(t0);
  }
  if (look) restore_after_lookahead();

  // Temporal stage: d for the shared parameters (scope all: for every parameter); each head its own
  // task's gradient (scope shared).
  t0 = Clock::now();
  std::size_t off = 0, k = 0;
  const std::size_t n_flat = options_.scope == GradientScope::shared ? layout_.shared.size() : params_.size();
  for (; k < n_flat; ++k) {
    if (options_.granularity == Granularity::representation) {
      grad_ptrs_[k] = &rep_grads_[k];
      continue;
    }
    unflatten(agg_.direction, off, flat_grads_[k]);
    off += flat_grads_[k].size();
    grad_ptrs_[k] = &flat_grads_[k];
  }
  if (!agg_.head_scale.empty() && agg_.head_scale.size() != T)
    throw std::logic_error("aggregator '" + aggregators_.front()->name() + "' reported " +
                           std::to_string(agg_.head_scale.size()) + " head scales for " + std::to_string(T) + " tasks");
  if (options_.scope == GradientScope::shared)
    for (std::size_t i = 0; i < T; ++i)
      for (Tensor& g : grads_.heads[i]) {
        if (!agg_.head_scale.empty()) g *= agg_.head_scale[i];  // the stage's transformed loss reaches the head too
        grad_ptrs_[k++] = &g;
      }
  if (keep) {
    saved_params_.resize(params_.size());
    for (std::size_t q = 0; q < params_.size(); ++q) assign_in_place(saved_params_[q], *params_[q]);
    saved_optimizer_ = optimizer_->state();
  }
  optimizer_->step(params_, grad_ptrs_);
  record_.seconds_temporal = seconds_since(t0);
  // θ' finite (θ was: its losses were) means the step θ' − θ is finite too.
  if (!params_finite(problem)) {
    if (!keep) {
      --step_;  // not taken (θ' stays, for a look at what went wrong)
      throw NonFiniteError(step_ + 1, "optimizer " + optimizer_->name(), problem);
    }
    for (std::size_t q = 0; q < params_.size(); ++q) assign_in_place(*params_[q], saved_params_[q]);
    optimizer_->load_state(saved_optimizer_);
    aggregator_load_state(saved_aggregator_);
    rng_ = saved_rng_;
    skip_step();
    return record_;
  }
  if (aggregators_.front()->wants_losses_after_step()) losses_after_step();

  for (auto& cb : callbacks_) cb(record_);
  return record_;
}

real Trainer::blas_norm2(const Tensor& t) { return blas::dot(t.size(), t.data(), t.data()); }

void Trainer::skip_step() {
  restore_after_lookahead();
  ++skipped_;
  // The stage's outputs of a skipped step are discarded: NaN, not the previous step's.
  const std::size_t T = model_.num_tasks();
  record_.skipped = true;
  record_.weights.clear();
  record_.pair_strength.resize({0, 0});
  record_.stage_metrics.clear();
  record_.direction_norm = std::numeric_limits<real>::quiet_NaN();
  if (records_weights()) record_.weights.assign(T, std::numeric_limits<real>::quiet_NaN());
  if (records_pair_strength()) {
    record_.pair_strength.resize({T, T});
    std::fill_n(record_.pair_strength.data(), T * T, std::numeric_limits<real>::quiet_NaN());
  }
  record_.stage_metrics.assign(stage_metric_names().size(), std::numeric_limits<real>::quiet_NaN());
  for (auto& cb : callbacks_) cb(record_);
}

bool Trainer::direction_finite(std::string& problem) const {
  const Tensor& d = agg_.direction;
  for (std::size_t c = 0; c < d.size(); ++c)
    if (!std::isfinite(d.data()[c])) {
      std::string where = "d[" + std::to_string(c) + "]";
      for (const auto& g : groups_)
        if (c >= g.begin && c < g.end) where += " (parameter group " + g.name + ")";
      problem = "the aggregator '" + aggregators_.front()->name() + "' returned a non-finite direction (" + where +
                " = " + nonfinite_text(d.data()[c]) + ")";
      return false;
    }
  return true;
}

bool Trainer::params_finite(std::string& problem) const {
  for (const Tensor* v : params_)
    if (!all_finite(*v)) {
      // params_ is the layout's order: shared, then each head. Name the first non-finite entry.
      for (const auto& p : layout_.all())
        for (std::size_t c = 0; c < p.param->value.size(); ++c)
          if (!std::isfinite(p.param->value.data()[c])) {
            problem = "the optimizer '" + optimizer_->name() + "' made a non-finite step: parameter " + p.name + "[" +
                      std::to_string(c) + "] became " + nonfinite_text(p.param->value.data()[c]);
            return false;
          }
      return false;
    }
  return true;
}

bool Trainer::records_weights() const { return groups_.empty() && aggregators_.front()->weighting(); }

bool Trainer::records_pair_strength() const { return groups_.empty() && aggregators_.front()->pair_strengths(); }

std::vector<std::string> Trainer::stage_metric_names() const {
  const auto names = aggregators_.front()->metric_names();
  if (groups_.empty()) return names;
  std::vector<std::string> out;
  for (const auto& g : groups_)
    for (const auto& n : names) out.push_back(g.name + "." + n);
  return out;
}

void Trainer::restore_after_lookahead() {
  if (!at_lookahead_) return;
  for (std::size_t k = 0; k < params_.size(); ++k) *params_[k] = saved_values_[k];
  at_lookahead_ = false;
}

void Trainer::losses_after_step() {
  // The same mini-batch at the updated parameters: one forward pass, no backward (FAMO).
  extra_tape_.clear();
  model_.forward(extra_tape_, extra_losses_);
  after_losses_.resize(extra_losses_.size());
  for (std::size_t i = 0; i < extra_losses_.size(); ++i) after_losses_[i] = extra_losses_[i].item();
  for (auto& a : aggregators_) a->observe_losses_after_step(after_losses_);
}

void Trainer::extra_jacobians() {
  // Two more mini-batches at the same parameters: the sampler's next two, after which the data
  // order is put back, so the run's own batches are unchanged and a resumed run draws the same.
  struct Restore {  // also when a forward pass or a gradient throws
    MultiTaskModel& model;
    const nlohmann::json data;
    ~Restore() { model.load_data_state(data); }
  } restore{model_, model_.data_state()};
  for (TaskGradients& g : extra_grads_) {
    model_.next_batch();
    extra_tape_.clear();
    model_.forward(extra_tape_, extra_losses_);
    if (options_.granularity == Granularity::representation)
      collect_representation_gradients(extra_tape_, extra_losses_, weights_, layout_, model_.representation(), g);
    else
      collect_task_gradients(extra_tape_, extra_losses_, weights_, layout_, options_.scope, g);
  }
}

void Trainer::aggregate() {
  for (auto& a : aggregators_) a->observe_losses(grads_.losses);
  const bool extra = aggregators_.front()->wants_extra_jacobians();
  if (extra) extra_jacobians();
  agg_.head_scale.clear();
  if (groups_.empty()) {
    if (extra) aggregators_.front()->observe_extra_jacobians(extra_grads_[0].J, extra_grads_[1].J);
    // compute_pair_metrics() made J's Gramian: the stage takes it instead of passing over J again.
    aggregators_.front()->aggregate_with_gramian(grads_.J, gramian_, rng_, agg_);
    check_metric_count(*aggregators_.front(), agg_);
    return;
  }
  // per_layer: each group's columns of J through its own stage; d is their concatenation.
  const std::size_t T = grads_.J.shape(0), P = grads_.J.shape(1);
  if (agg_.direction.shape(0) != 1 || agg_.direction.shape(1) != P) agg_.direction.resize({1, P});
  agg_.weights.clear();
  agg_.pair_strength.resize({0, 0});
  agg_.metrics.clear();
  agg_.solver_capped = false;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::size_t b = groups_[g].begin, n = groups_[g].end - b;
    if (group_J_.shape(0) != T || group_J_.shape(1) != n) group_J_.resize({T, n});
    for (std::size_t i = 0; i < T; ++i) std::copy_n(grads_.J.data() + i * P + b, n, group_J_.data() + i * n);
    if (extra) {
      for (std::size_t e = 0; e < 2; ++e) {
        const Tensor& X = extra_grads_[e].J;
        if (group_extra_[e].shape(0) != T || group_extra_[e].shape(1) != n) group_extra_[e].resize({T, n});
        for (std::size_t i = 0; i < T; ++i) std::copy_n(X.data() + i * P + b, n, group_extra_[e].data() + i * n);
      }
      aggregators_[g]->observe_extra_jacobians(group_extra_[0], group_extra_[1]);
    }
    aggregators_[g]->aggregate(group_J_, rng_, group_agg_);
    std::copy_n(group_agg_.direction.data(), n, agg_.direction.data() + b);
    check_metric_count(*aggregators_[g], group_agg_);
    agg_.metrics.insert(agg_.metrics.end(), group_agg_.metrics.begin(), group_agg_.metrics.end());
    agg_.solver_capped = agg_.solver_capped || group_agg_.solver_capped;
  }
}

void Trainer::check_finite() {
  auto name = [this](std::size_t i) { return model_.task_names()[i]; };  // only for a message
  std::string problem;
  std::size_t task = 0;
  for (std::size_t i = 0; i < grads_.losses.size() && problem.empty(); ++i)
    if (!std::isfinite(grads_.losses[i])) {
      task = i;
      problem = "loss of task " + std::to_string(i) + " (" + name(i) + ") is " + std::to_string(grads_.losses[i]);
    }
  const std::size_t P = grads_.J.shape(1);
  // Row i holds a NaN or ±inf only if G_ii = ‖g_i‖² is not finite (compute_pair_metrics ran first).
  for (std::size_t i = 0; i < grads_.J.shape(0) && problem.empty(); ++i)
    for (std::size_t c = 0; c < P && !std::isfinite(gramian_(i, i)); ++c) {
      const real v = grads_.J(i, c);
      if (std::isfinite(v)) continue;
      task = i;
      // Name the parameter that column c belongs to.
      std::size_t off = 0;
      std::string pname = "?";
      for (const auto& p : layout_.all()) {
        if (c < off + p.param->value.size()) {
          pname = p.name + "[" + std::to_string(c - off) + "]";
          break;
        }
        off += p.param->value.size();
      }
      problem = "gradient of task " + std::to_string(i) + " (" + name(i) + ") with respect to " + pname + " is " +
                std::to_string(v);
      break;
    }
  for (std::size_t i = 0; i < grads_.heads.size() && problem.empty(); ++i)
    for (std::size_t k = 0; k < grads_.heads[i].size() && problem.empty(); ++k)
      if (!all_finite(grads_.heads[i][k])) {
        task = i;
        problem = "gradient of task " + std::to_string(i) + " (" + name(i) + ") with respect to its head parameter " +
                  layout_.heads[i][k].name + " is not finite";
      }
  if (problem.empty()) return;
  if (options_.nonfinite == NonFinitePolicy::error) {
    restore_after_lookahead();
    throw NonFiniteError(step_ + 1, "task " + name(task), problem);
  }
  record_.skipped = true;
}

void Trainer::compute_pair_metrics() {
  const std::size_t T = grads_.J.shape(0);
  gramian_unchecked(grads_.J, gramian_);  // a non-finite J is check_finite's to report
  record_.grad_norms.resize(T);
  for (std::size_t i = 0; i < T; ++i) record_.grad_norms[i] = std::sqrt(std::max(gramian_(i, i), real(0)));
  if (record_.cos.shape(0) != T) record_.cos.resize({T, T});
  record_.conflicts = 0;
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) {
      const real n = record_.grad_norms[i] * record_.grad_norms[j];
      record_.cos(i, j) = n > 0 ? gramian_(i, j) / n : real(0);
      if (i < j && gramian_(i, j) < 0) ++record_.conflicts;
    }
}

void Trainer::aggregator_load_state(const nlohmann::json& a) {
  if (groups_.empty()) {
    aggregators_.front()->load_state(a);
    return;
  }
  if (!a.is_array() || a.size() != aggregators_.size())
    throw std::invalid_argument("checkpoint: expected the states of " + std::to_string(aggregators_.size()) +
                                " per-layer aggregators");
  for (std::size_t g = 0; g < aggregators_.size(); ++g) aggregators_[g]->load_state(a[g]);
}

nlohmann::json Trainer::aggregator_state() const {
  if (groups_.empty()) return aggregators_.front()->state();
  nlohmann::json a = nlohmann::json::array();
  for (const auto& g : aggregators_) a.push_back(g->state());
  return a;
}

nlohmann::json Trainer::state() const {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& p : layout_.all()) params[p.name] = tensor_to_json(p.param->value);
  return {{"step", step_},
          {"skipped", skipped_},
          {"solver_capped", solver_capped_},
          {"params", params},
          {"aggregator", aggregator_state()},
          {"optimizer", optimizer_->state()},
          {"rng", rng_.state()},
          {"data", model_.data_state()}};
}

void Trainer::load_state(const nlohmann::json& s) {
  try {
    const auto& params = state_field(s, "params", "trainer");
    for (const auto& p : layout_.all()) {
      Tensor v = state_tensor(params, p.name, "trainer", shape_of(p.param->value));
      p.param->value = v;
    }
    const auto& a = state_field(s, "aggregator", "trainer");
    // A stage's state records its task count T where it has one (0 before its first step): it
    // must be the model's.
    const std::size_t T = model_.num_tasks();
    const auto check_tasks = [&](const nlohmann::json& st) {
      if (st.is_object() && st.contains("tasks") && st["tasks"] != 0 && st["tasks"] != nlohmann::json(T))
        throw std::invalid_argument("trainer.aggregator.tasks: " + st["tasks"].dump() + ", but the model has " +
                                    std::to_string(T) + " tasks");
    };
    if (groups_.empty()) {
      check_tasks(a);
    } else if (a.is_array()) {
      for (const auto& g : a) check_tasks(g);
    }
    aggregator_load_state(a);
    const std::uint64_t step = state_uint(s, "step", "trainer"), skipped = state_uint(s, "skipped", "trainer");
    if (skipped > step)
      throw std::invalid_argument("trainer.skipped: " + std::to_string(skipped) + " skipped steps of " +
                                  std::to_string(step));
    // The optimizer's per-parameter states: none before its first step, after it one per
    // parameter (null for one that got no gradient) with that parameter's shape.
    const auto& opt = state_field(s, "optimizer", "trainer");
    if (opt.is_object() && opt.contains("param_states") && opt["param_states"].is_array()) {
      const auto& list = opt["param_states"];
      if (step > skipped && list.size() != params_.size())
        throw std::invalid_argument("trainer.optimizer.param_states: " + std::to_string(list.size()) +
                                    " states after " + std::to_string(step - skipped) + " steps, but the model has " +
                                    std::to_string(params_.size()) + " parameters");
      for (std::size_t k = 0; k < list.size() && k < params_.size(); ++k)
        if (list[k].is_object() && list[k].contains("shape") &&
            list[k]["shape"] != nlohmann::json{params_[k]->shape(0), params_[k]->shape(1)})
          throw std::invalid_argument("trainer.optimizer.param_states[" + std::to_string(k) + "].shape: " +
                                      list[k]["shape"].dump() + ", but the parameter has shape " +
                                      shape_str(*params_[k]));
    }
    optimizer_->load_state(opt);
    rng_.load_state(state_field(s, "rng", "trainer"));
    model_.load_data_state(state_field(s, "data", "trainer"));
    step_ = step;
    skipped_ = skipped;
    solver_capped_ = state_uint(s, "solver_capped", "trainer");
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("checkpoint: malformed trainer state: ") + e.what());
  }
}

}  // namespace mtlgrad
