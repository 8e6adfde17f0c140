#include "mtlgrad/optim/stch.hpp"

#include <algorithm>
#include <cmath>

#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

namespace {
// The reference's guard inside its logarithms, ln(L + 1e-20) and ln(L/n + 1e-20).
constexpr real kTiny = real(1e-20);
}  // namespace

STCH::STCH(real mu, std::uint64_t warmup_steps, std::uint64_t nadir_steps, std::vector<real> nadir)
    : mu_(mu), warmup_(warmup_steps), nadir_steps_(nadir_steps), given_nadir_(std::move(nadir)) {
  if (!(mu > 0)) throw std::invalid_argument("stch: mu = " + nlohmann::json(mu).dump() + " is out of range (expected > 0)");
  if (nadir_steps == 0) throw std::invalid_argument("stch: nadir_steps = 0 is out of range (expected >= 1)");
  for (real n : given_nadir_)
    if (!(n > 0 && std::isfinite(n)))
      throw std::invalid_argument("stch: nadir holds " + nlohmann::json(n).dump() + " (expected finite numbers > 0)");
}

void STCH::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  check_input("stch", J);
  const std::vector<real>& L = losses_.take(J.shape(0));
  const std::size_t T = L.size();
  if (t_ == 0) T_ = T;
  check_task_count("stch", T_, T);
  if (!given_nadir_.empty() && given_nadir_.size() != T)
    throw std::invalid_argument("stch: nadir has " + std::to_string(given_nadir_.size()) + " values for T = " +
                                std::to_string(T) + " tasks");
  ++t_;
  out.weights.resize(T);
  const bool measuring = given_nadir_.empty() && t_ > warmup_ && t_ <= warmup_ + nadir_steps_;
  if (measuring) {
    if (sum_.empty()) sum_.assign(T, real(0));
    for (std::size_t i = 0; i < T; ++i) sum_[i] += L[i];
  }
  if (t_ <= warmup_ || measuring) {
    for (std::size_t i = 0; i < T; ++i) out.weights[i] = 1 / (L[i] + kTiny);  // ∂/∂L_i Σ ln(L + 1e-20)
  } else {
    if (nadir_.empty()) {
      if (!given_nadir_.empty()) {
        nadir_ = given_nadir_;
      } else {
        nadir_.resize(T);
        for (std::size_t i = 0; i < T; ++i) nadir_[i] = sum_[i] / real(nadir_steps_);
      }
    }
    // p = softmax(ℓ/μ), ℓ_i = ln(L_i/n_i + 1e-20); w_i = T p_i ∂ℓ_i/∂L_i = T p_i / (L_i + 1e-20 n_i).
    std::vector<real>& w = out.weights;
    for (std::size_t i = 0; i < T; ++i) w[i] = std::log(L[i] / nadir_[i] + kTiny) / mu_;
    const real top = *std::max_element(w.begin(), w.end());
    real sum = 0;
    for (real& v : w) sum += (v = std::exp(v - top));
    for (std::size_t i = 0; i < T; ++i) w[i] = real(T) * (w[i] / sum) / (L[i] + kTiny * nadir_[i]);
  }
  combine(J, out.weights, out.direction);
  out.head_scale = out.weights;
  out.pair_strength.resize({0, 0});
  out.metrics.clear();
  out.solver_capped = false;
}

void STCH::reset() {
  t_ = 0;
  T_ = 0;
  sum_.clear();
  nadir_.clear();
}

nlohmann::json STCH::state() const { return {{"t", t_}, {"tasks", T_}, {"sum", sum_}, {"nadir", nadir_}}; }

void STCH::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::uint64_t t = detail::state_count("stch", s, "t");
  const std::size_t T = detail::state_count("stch", s, "tasks");
  std::vector<real> sum = detail::state_list("stch", s, "sum", T, true);
  std::vector<real> nadir = detail::state_list("stch", s, "nadir", T, true);
  for (real n : nadir)
    if (!(n > 0)) throw std::invalid_argument("stch: load_state: 'nadir' holds " + nlohmann::json(n).dump() + ", expected > 0");
  t_ = t;
  T_ = T;
  sum_ = std::move(sum);
  nadir_ = std::move(nadir);
}

nlohmann::json STCH::options() const {
  return {{"name", name()}, {"mu", mu_}, {"warmup_steps", warmup_}, {"nadir_steps", nadir_steps_}, {"nadir", given_nadir_}};
}

namespace detail {
void register_aggregator_stch(Registry<Aggregator>& r) {
  r.add({"stch", "smooth Tchebycheff scalarisation of the log-losses over a nadir point (Lin et al. 2024, arXiv 2402.19078)",
         {option<real>("mu", 1, "μ: smoothing (→ 0: the worst task only; large: the sum of the log-losses)", Range::above(0)),
          option<std::uint64_t>("warmup_steps", 0, "steps trained on Σ ln L_i before the nadir is measured", Range::at_least(0)),
          option<std::uint64_t>("nadir_steps", 1, "steps whose mean losses form the nadir (when nadir is [])", Range::at_least(1)),
          option<std::vector<real>>("nadir", {}, "the nadir point n, one per task ([] = measured)", Range::above(0))},
         factory([](OptionReader& o) {
           const real mu = o.require<real>("mu");
           const auto warmup = o.require<std::uint64_t>("warmup_steps");
           const auto nadir_steps = o.require<std::uint64_t>("nadir_steps");
           const auto nadir = o.require<std::vector<real>>("nadir");
           return [=] { return std::make_unique<STCH>(mu, warmup, nadir_steps, nadir); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
