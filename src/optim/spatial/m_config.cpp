#include "mtlgrad/optim/m_config.hpp"

#include <array>
#include <cmath>
#include <numeric>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/config.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

MomentumConFIG::MomentumConFIG(real beta1, real beta2, Rows rows) : beta1_(beta1), beta2_(beta2), rows_(rows) {
  for (real b : {beta1, beta2})
    if (!(b >= 0 && b < 1))
      throw std::invalid_argument("m-config: betas = [" + nlohmann::json(beta1).dump() + ", " + nlohmann::json(beta2).dump() +
                                  "] is out of range (expected each in [0, 1))");
}

void MomentumConFIG::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  check_input("m-config", J);
  const std::size_t T = J.shape(0), P = J.shape(1);
  if (n_.empty()) {
    n_.assign(T, 0);
    m_ = zeros(T, P);
    f_ = zeros(1, P);
    s_ = zeros(1, P);
  } else {
    check_task_count("m-config", n_.size(), T);
    if (m_.shape(1) != P)
      throw std::invalid_argument("m-config: the Jacobian has P = " + std::to_string(P) + " parameters but the state holds P = " +
                                  std::to_string(m_.shape(1)) + " (reset() starts over)");
  }
  // Every call updates one row ("cycle") or all: the calls so far are Σ n_i ("cycle").
  const std::uint64_t calls = std::accumulate(n_.begin(), n_.end(), std::uint64_t(0));
  const std::size_t first = rows_ == Rows::all ? 0 : std::size_t(calls % T);
  const std::size_t last = rows_ == Rows::all ? T : first + 1;
  for (std::size_t i = first; i < last; ++i) {
    ++n_[i];
    for (std::size_t k = 0; k < P; ++k) m_(i, k) = beta1_ * m_(i, k) + (1 - beta1_) * J(i, k);
  }
  out.weights.clear();
  out.head_scale.clear();
  out.pair_strength.resize({0, 0});
  out.metrics.clear();
  out.solver_capped = false;
  out.direction = zeros(1, P);
  for (std::uint64_t c : n_)
    if (c == 0) return;  // a task without a moment yet: no step
  ++t_;
  if (mhat_.shape() != m_.shape()) mhat_.resize(m_.shape());
  for (std::size_t i = 0; i < T; ++i) {
    const real correction = 1 - std::pow(beta1_, real(n_[i]));
    for (std::size_t k = 0; k < P; ++k) mhat_(i, k) = m_(i, k) / correction;
  }
  gramian(mhat_, G_);
  config_weights(G_, std::vector<real>(T, real(1)), lambda_);
  Tensor& d = out.direction;
  combine(mhat_, lambda_, d);  // g_c
  const real f_scale = 1 - std::pow(beta1_, real(t_));
  const real s_correction = 1 - std::pow(beta2_, real(t_));
  for (std::size_t k = 0; k < P; ++k) {
    const real f_new = d(0, k) * f_scale;
    const real q = (f_new - beta1_ * f_(0, k)) / (1 - beta1_);
    f_(0, k) = f_new;
    s_(0, k) = beta2_ * s_(0, k) + (1 - beta2_) * q * q;
    d(0, k) /= std::sqrt(s_(0, k) / s_correction) + real(1e-8);
  }
}

void MomentumConFIG::reset() {
  t_ = 0;
  n_.clear();
  m_ = zeros(0, 0);
  f_ = zeros(0, 0);
  s_ = zeros(0, 0);
}

nlohmann::json MomentumConFIG::state() const {
  nlohmann::json s{{"t", t_}, {"n", n_}};
  if (!n_.empty()) {
    s["m"] = tensor_to_json(m_);
    s["f"] = tensor_to_json(f_);
    s["s"] = tensor_to_json(s_);
  }
  return s;
}

void MomentumConFIG::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::uint64_t t = detail::state_count("m-config", s, "t");
  if (!s.contains("n") || !s["n"].is_array())
    throw std::invalid_argument("m-config: load_state: 'n' is missing or not an array");
  std::vector<std::uint64_t> n;
  for (const auto& x : s["n"]) {
    if (!x.is_number_integer() || x.get<long long>() < 0)
      throw std::invalid_argument("m-config: load_state: 'n' holds " + x.dump() + ", expected non-negative integers");
    n.push_back(x.get<std::uint64_t>());
  }
  if (n.empty()) return reset();
  const std::size_t T = n.size();
  Tensor m = state_tensor(s, "m", "m-config");
  if (m.shape(0) != T)
    throw std::invalid_argument("m-config: load_state: 'm' has shape " + shape_str(m) + " for " + std::to_string(T) + " counts 'n'");
  const Shape row{1, m.shape(1)};
  Tensor f = state_tensor(s, "f", "m-config", row);
  Tensor sq = state_tensor(s, "s", "m-config", row);
  t_ = t;
  n_ = std::move(n);
  m_ = std::move(m);
  f_ = std::move(f);
  s_ = std::move(sq);
}

nlohmann::json MomentumConFIG::options() const {
  return {{"name", name()}, {"betas", {beta1_, beta2_}}, {"rows", rows_ == Rows::all ? "all" : "cycle"}};
}

namespace detail {
void register_aggregator_m_config(Registry<Aggregator>& r) {
  r.add({"m-config", "momentum ConFIG: config on the per-task first moments, divided by a pseudo-gradient second moment (Liu et al. 2025)",
         {option<std::array<real, 2>>("betas", {real(0.9), real(0.999)}, "β₁, β₂: decay of the first and second moments",
                                      Range::half_open(0, 1)),
          option<std::string>("rows", "all", "the rows used per step: every task's, or task (k − 1) mod T at the k-th step",
                              Range::one_of({"all", "cycle"}))},
         factory([](OptionReader& o) {
           const auto betas = o.require<std::array<real, 2>>("betas");
           const auto rows = o.require<std::string>("rows") == "all" ? MomentumConFIG::Rows::all : MomentumConFIG::Rows::cycle;
           return [=] { return std::make_unique<MomentumConFIG>(betas[0], betas[1], rows); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
