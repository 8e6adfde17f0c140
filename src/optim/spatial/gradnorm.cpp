#include "mtlgrad/optim/gradnorm.hpp"

#include <cmath>

#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

GradNorm::GradNorm(real alpha, real lr, std::size_t warmup_steps) : alpha_(alpha), lr_(lr), warmup_(warmup_steps) {
  detail::check_option(alpha >= 0 && std::isfinite(alpha), "gradnorm", "alpha", alpha, ">= 0");
  detail::check_option(lr >= 0 && std::isfinite(lr), "gradnorm", "lr", lr, ">= 0");
}

void GradNorm::observe_losses(const std::vector<real>& losses) {
  detail::check_losses("gradnorm", "observe_losses", losses);
  losses_ = losses;
  fresh_ = true;
}

void GradNorm::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  const Tensor& G = checked_gramian("gradnorm", J, G_);
  const std::size_t T = J.shape(0);
  if (!fresh_)
    throw std::invalid_argument("gradnorm: needs this step's task losses: call observe_losses() before aggregate()");
  if (losses_.size() != T)
    throw std::invalid_argument("gradnorm: " + std::to_string(losses_.size()) + " losses for a Jacobian " + shape_str(J));
  if (T_ == 0) {
    T_ = T;
    s_.assign(T, real(0));
    initial_.assign(T, real(0));
  }
  check_task_count("gradnorm", T_, T);
  fresh_ = false;
  ++t_;
  out.pair_strength.resize({0, 0});
  if (t_ <= warmup_) {  // warm-up: w = 1 while L⁰ is averaged
    for (std::size_t i = 0; i < T; ++i) initial_[i] += losses_[i];
    if (t_ == warmup_)
      for (real& l : initial_) l /= real(warmup_);
    out.weights.assign(T, real(1));
    combine(J, out.weights, out.direction);
    return;
  }
  if (warmup_ == 0 && t_ == 1) initial_ = losses_;
  for (std::size_t i = 0; i < T; ++i)
    if (!(initial_[i] > 0))
      throw std::invalid_argument("gradnorm: the initial loss L0 of task " + std::to_string(i) + " is " +
                                  std::to_string(initial_[i]) + " (the loss ratios need L0 > 0)");
  detail::softmax(s_, z_);
  out.weights.resize(T);
  for (std::size_t i = 0; i < T; ++i) out.weights[i] = real(T) * z_[i];
  combine(J, out.weights, out.direction);

  // One SGD step of s on Σ_i |G_i − C_i| with the targets C_i held constant.
  norms_.resize(T);
  ratio_.resize(T);
  real mean_G = 0, mean_r = 0;
  for (std::size_t i = 0; i < T; ++i) {
    norms_[i] = std::sqrt(std::max(G(i, i), real(0)));
    mean_G += out.weights[i] * norms_[i];
    mean_r += (ratio_[i] = losses_[i] / initial_[i]);
  }
  mean_G /= real(T);
  mean_r /= real(T);
  grad_.assign(T, real(0));
  for (std::size_t i = 0; i < T; ++i) {
    const real r = mean_r > 0 ? ratio_[i] / mean_r : real(1);  // all losses 0: no imbalance to correct
    const real Gi = out.weights[i] * norms_[i];
    const real C = mean_G * std::pow(std::max(r, real(0)), alpha_);
    const real sign = Gi > C ? real(1) : Gi < C ? real(-1) : real(0);
    if (sign == 0) continue;
    for (std::size_t k = 0; k < T; ++k)
      grad_[k] += sign * norms_[i] * out.weights[i] * ((i == k ? real(1) : real(0)) - z_[k]);
  }
  for (std::size_t k = 0; k < T; ++k) s_[k] -= lr_ * grad_[k];
}

void GradNorm::reset() {
  T_ = t_ = 0;
  s_.clear();
  initial_.clear();
  fresh_ = false;
}

nlohmann::json GradNorm::state() const { return {{"tasks", T_}, {"s", s_}, {"initial", initial_}, {"t", t_}}; }

void GradNorm::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::size_t T = detail::state_tasks("gradnorm", s);
  auto sv = detail::state_list("gradnorm", s, "s", T), initial = detail::state_list("gradnorm", s, "initial", T);
  const std::size_t t = detail::state_count("gradnorm", s, "t");
  if ((T == 0) != (t == 0)) throw std::invalid_argument("gradnorm: load_state: 't' and 'tasks' disagree");
  T_ = T;
  t_ = t;
  s_ = std::move(sv);
  initial_ = std::move(initial);
  fresh_ = false;
}

namespace detail {
void register_aggregator_gradnorm(Registry<Aggregator>& r) {
  r.add({"gradnorm", "GradNorm: w = T·softmax(s), s trained by SGD to equalise the weighted gradient norms (Chen et al. 2018, ICML)",
         {option<real>("alpha", real(1.5), "α: how strongly a slow task's norm target is raised (r_i^α)", Range::at_least(0)),
          option<real>("lr", real(1e-3), "learning rate of s (plain SGD inside the stage)", Range::at_least(0)),
          option<std::size_t>("warmup_steps", 0, "W steps with w = 1 whose mean loss is L0 (0: L0 = the first step's)")},
         factory([](OptionReader& o) {
           const real alpha = o.require<real>("alpha");
           const real lr = o.require<real>("lr");
           const auto warmup = o.require<std::size_t>("warmup_steps");
           return [=] { return std::make_unique<GradNorm>(alpha, lr, warmup); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
