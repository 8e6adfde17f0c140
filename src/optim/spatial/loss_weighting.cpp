#include "mtlgrad/optim/loss_weighting.hpp"

#include <algorithm>
#include <cmath>

#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {
namespace {

// A list of T finite numbers from state[key] ([] allowed when `may_be_empty`).
std::vector<real> read_list(const std::string& stage, const nlohmann::json& s, const char* key, std::size_t T,
                            bool may_be_empty) {
  const std::string what = stage + ": load_state: '" + key + "'";
  if (!s.contains(key) || !s[key].is_array()) throw std::invalid_argument(what + " is missing or not an array");
  std::vector<real> v;
  for (const auto& x : s[key]) {
    if (!x.is_number()) throw std::invalid_argument(what + " holds " + x.dump() + ", expected numbers");
    v.push_back(x.get<real>());
  }
  if (v.size() != T && !(may_be_empty && v.empty()))
    throw std::invalid_argument(what + " has " + std::to_string(v.size()) + " values, expected T = " + std::to_string(T));
  return v;
}

std::size_t read_tasks(const std::string& stage, const nlohmann::json& s) {
  if (!s.is_object() || !s.contains("tasks") || !s["tasks"].is_number_integer() || s["tasks"].get<long long>() < 0)
    throw std::invalid_argument(stage + ": load_state: expected an object with \"tasks\": T, got " + s.dump().substr(0, 80));
  return s["tasks"].get<std::size_t>();
}

}  // namespace

void LossWeighting::observe_losses(const std::vector<real>& losses) {
  if (losses.empty()) throw std::invalid_argument(name() + ": observe_losses: empty list of losses");
  for (std::size_t i = 0; i < losses.size(); ++i)
    if (!std::isfinite(losses[i]))
      throw std::invalid_argument(name() + ": observe_losses: non-finite loss of task " + std::to_string(i) + " (" +
                                  std::to_string(losses[i]) + ")");
  losses_ = losses;
  fresh_ = true;
}

void LossWeighting::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  const std::string stage = name();
  check_input(stage.c_str(), J);
  if (!fresh_)
    throw std::invalid_argument(stage + ": needs this step's task losses: call observe_losses() before aggregate()");
  if (losses_.size() != J.shape(0))
    throw std::invalid_argument(stage + ": " + std::to_string(losses_.size()) + " losses for a Jacobian " + shape_str(J));
  fresh_ = false;
  weigh(losses_, out.weights);
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
}

// dwa ------------------------------------------------------------------------------------------

DWA::DWA(real temperature) : temperature_(temperature) {
  if (!(temperature > 0))
    throw std::invalid_argument("dwa: temperature = " + std::to_string(temperature) + " is out of range (expected > 0)");
}

void DWA::weigh(const std::vector<real>& losses, std::vector<real>& w) {
  const std::size_t T = losses.size();
  if (previous_.empty()) T_ = T;
  check_task_count("dwa", T_, T);
  w.assign(T, real(1));
  if (!before_.empty()) {
    for (std::size_t i = 0; i < T; ++i) w[i] = (before_[i] > 0 ? previous_[i] / before_[i] : real(1)) / temperature_;
    const real top = *std::max_element(w.begin(), w.end());
    real sum = 0;
    for (real& v : w) sum += (v = std::exp(v - top));
    for (real& v : w) v *= real(T) / sum;
  }
  before_ = previous_;
  previous_ = losses;
}

void DWA::reset() {
  T_ = 0;
  previous_.clear();
  before_.clear();
}

nlohmann::json DWA::state() const {
  return {{"tasks", T_}, {"previous", previous_}, {"before", before_}};
}

void DWA::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::size_t T = read_tasks("dwa", s);
  std::vector<real> previous = read_list("dwa", s, "previous", T, true);
  std::vector<real> before = read_list("dwa", s, "before", T, true);
  if (previous.empty() && !before.empty())
    throw std::invalid_argument("dwa: load_state: 'before' is set but 'previous' is empty");
  T_ = T;
  previous_ = std::move(previous);
  before_ = std::move(before);
}

// uw -------------------------------------------------------------------------------------------

UncertaintyWeighting::UncertaintyWeighting(real lr, Form form) : lr_(lr), form_(form) {
  if (!(lr >= 0)) throw std::invalid_argument("uw: lr = " + std::to_string(lr) + " is out of range (expected >= 0)");
}

void UncertaintyWeighting::weigh(const std::vector<real>& losses, std::vector<real>& w) {
  const std::size_t T = losses.size();
  const bool unit = form_ == Form::unit;
  if (s_.empty()) s_.assign(T, unit ? real(0) : real(-0.5));
  check_task_count("uw", s_.size(), T);
  w.resize(T);
  for (std::size_t i = 0; i < T; ++i) {
    const real e = std::exp(-s_[i]);
    // ∂/∂s_i of k(exp(−s_i) L_i + s_i), k = 1 or ½; the weight of L_i is k·exp(−s_i).
    if (unit) {
      w[i] = e;
      s_[i] -= lr_ * (1 - e * losses[i]);
    } else {
      w[i] = e / 2;
      s_[i] -= lr_ * (1 - e * losses[i]) / 2;
    }
  }
}

nlohmann::json UncertaintyWeighting::state() const { return {{"tasks", s_.size()}, {"s", s_}}; }

void UncertaintyWeighting::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::size_t T = read_tasks("uw", s);
  s_ = read_list("uw", s, "s", T, true);
}

namespace detail {

// list order: 190
void register_aggregator_dwa(Registry<Aggregator>& r) {
  r.add({"dwa", "dynamic weight average of the loss ratios (Liu et al. 2019, CVPR)",
         {option<real>("temperature", 2, "softmax temperature of the loss ratios", Range::above(0))},
         factory([](OptionReader& o) {
           const real temperature = o.require<real>("temperature");
           return [=] { return std::make_unique<DWA>(temperature); };
         })});
}

// list order: 200
void register_aggregator_uw(Registry<Aggregator>& r) {
  r.add({"uw", "uncertainty weighting exp(-s_i), s_i trained by SGD inside the stage (Kendall et al. 2018, CVPR)",
         {option<real>("lr", real(1e-3), "learning rate of the log-variances s_i", Range::at_least(0)),
          option<std::string>("form", "unit",
                              "\"unit\": Σ exp(−s_i)L_i + s_i from s = 0; \"libmtl\": Kendall et al.'s Eq. 7 from s = −0.5",
                              Range::one_of({"unit", "libmtl"}))},
         factory([](OptionReader& o) {
           const real lr = o.require<real>("lr");
           const std::string form = o.require<std::string>("form");
           const auto f = form == "unit" ? UncertaintyWeighting::Form::unit : UncertaintyWeighting::Form::libmtl;
           return [=] { return std::make_unique<UncertaintyWeighting>(lr, f); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
