#include "mtlgrad/optim/famo.hpp"

#include <cmath>

#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

FAMO::FAMO(real lr, real gamma, Update update, std::vector<real> min_losses)
    : lr_(lr), gamma_(gamma), update_(update), min_losses_(std::move(min_losses)) {
  detail::check_option(lr > 0 && std::isfinite(lr), "famo", "lr", lr, "> 0");
  detail::check_option(gamma >= 0 && std::isfinite(gamma), "famo", "gamma", gamma, ">= 0");
  for (real m : min_losses_) detail::check_option(std::isfinite(m), "famo", "min_losses", m, "finite numbers");
}

void FAMO::observe_losses(const std::vector<real>& losses) {
  detail::check_losses("famo", "observe_losses", losses);
  losses_ = losses;
  fresh_ = true;
}

void FAMO::gaps(const std::vector<real>& L, const char* what, std::vector<real>& out) const {
  out.resize(T_);
  for (std::size_t i = 0; i < T_; ++i) {
    const real D = L[i] - (min_losses_.empty() ? real(0) : min_losses_[i]) + real(1e-8);
    if (!(D > 0))
      throw std::invalid_argument("famo: " + std::string(what) + ": task " + std::to_string(i) + "'s loss " +
                                  std::to_string(L[i]) + " is not above its min_losses (ln of a non-positive gap)");
    out[i] = D;
  }
}

void FAMO::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  check_input("famo", J);
  const std::size_t T = J.shape(0);
  if (!fresh_) throw std::invalid_argument("famo: needs this step's task losses: call observe_losses() before aggregate()");
  if (losses_.size() != T)
    throw std::invalid_argument("famo: " + std::to_string(losses_.size()) + " losses for a Jacobian " + shape_str(J));
  if (!min_losses_.empty() && min_losses_.size() != T)
    throw std::invalid_argument("famo: min_losses has " + std::to_string(min_losses_.size()) + " values for T = " +
                                std::to_string(T) + " tasks");
  if (T_ == 0) {
    T_ = T;
    xi_.assign(T, real(0));
    m_.assign(T, real(0));
    v_.assign(T, real(0));
  }
  check_task_count("famo", T_, T);
  if (pending_)
    throw std::invalid_argument("famo: the previous step got no losses after the step (observe_losses_after_step(), "
                                "the CLI's \"losses_after\"); update \"next\" needs none");
  fresh_ = false;
  if (update_ == Update::next && !previous_.empty()) update(losses_);
  gaps(losses_, "observe_losses", a_);
  detail::softmax(xi_, z_);
  out.weights.resize(T);
  real c = 0;
  for (std::size_t i = 0; i < T; ++i) c += (out.weights[i] = z_[i] / a_[i]);
  for (real& w : out.weights) w /= c;
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
  out.head_scale = out.weights;
  previous_ = losses_;
  pending_ = update_ == Update::after;
}

void FAMO::observe_losses_after_step(const std::vector<real>& losses) {
  detail::check_losses("famo", "observe_losses_after_step", losses);
  if (!pending_) throw std::invalid_argument("famo: observe_losses_after_step() without a step before it");
  if (losses.size() != T_)
    throw std::invalid_argument("famo: observe_losses_after_step: " + std::to_string(losses.size()) +
                                " losses for T = " + std::to_string(T_) + " tasks");
  update(losses);
  pending_ = false;
}

void FAMO::update(const std::vector<real>& after) {
  gaps(previous_, "the previous step's losses", a_);
  gaps(after, "the losses after the step", b_);
  for (std::size_t i = 0; i < T_; ++i) a_[i] = std::log(a_[i]) - std::log(b_[i]);  // δ_i
  detail::softmax(xi_, z_);
  real zd = 0;
  for (std::size_t i = 0; i < T_; ++i) zd += z_[i] * a_[i];
  // torch.optim.Adam (1.13) on ξ with the softmax's vector-Jacobian product as the gradient.
  ++k_;
  const real b1 = real(0.9), b2 = real(0.999), eps = real(1e-8);
  const real c1 = 1 - std::pow(b1, real(k_)), c2 = 1 - std::pow(b2, real(k_));
  for (std::size_t i = 0; i < T_; ++i) {
    const real g = z_[i] * (a_[i] - zd) + gamma_ * xi_[i];
    m_[i] = b1 * m_[i] + (1 - b1) * g;
    v_[i] = b2 * v_[i] + (1 - b2) * g * g;
    xi_[i] -= (lr_ / c1) * m_[i] / (std::sqrt(v_[i]) / std::sqrt(c2) + eps);
  }
}

void FAMO::reset() {
  T_ = k_ = 0;
  xi_.clear();
  m_.clear();
  v_.clear();
  previous_.clear();
  pending_ = fresh_ = false;
}

nlohmann::json FAMO::state() const {
  return {{"tasks", T_}, {"xi", xi_}, {"m", m_}, {"v", v_}, {"k", k_}, {"previous", previous_}, {"pending", pending_}};
}

void FAMO::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::size_t T = detail::state_tasks("famo", s);
  auto xi = detail::state_list("famo", s, "xi", T), m = detail::state_list("famo", s, "m", T),
       v = detail::state_list("famo", s, "v", T);
  const std::size_t k = detail::state_count("famo", s, "k");
  const bool pending = detail::state_flag("famo", s, "pending");
  const std::size_t n_prev = s.contains("previous") && s["previous"].is_array() && s["previous"].empty() ? 0 : T;
  auto previous = detail::state_list("famo", s, "previous", n_prev);
  for (real x : v)
    if (x < 0) throw std::invalid_argument("famo: load_state: 'v' holds a negative value");
  if (pending && previous.empty()) throw std::invalid_argument("famo: load_state: 'pending' without 'previous' losses");
  T_ = T;
  k_ = k;
  xi_ = std::move(xi);
  m_ = std::move(m);
  v_ = std::move(v);
  previous_ = std::move(previous);
  pending_ = pending;
  fresh_ = false;
}

nlohmann::json FAMO::options() const {
  return {{"name", name()},
          {"lr", lr_},
          {"gamma", gamma_},
          {"update", update_ == Update::after ? "after" : "next"},
          {"min_losses", min_losses_}};
}

namespace detail {
void register_aggregator_famo(Registry<Aggregator>& r) {
  r.add({"famo", "fast adaptive multitask optimization: log-losses falling at equal rates (Liu et al. 2023, arXiv 2306.03792)",
         {option<real>("lr", real(0.025), "Adam's learning rate on the logits ξ", Range::above(0)),
          option<real>("gamma", real(1e-3), "Adam's weight decay on ξ (LibMTL's; the authors' famo.py: 0.01)",
                       Range::at_least(0)),
          option<std::string>("update", "after",
                              "\"after\": ξ learns from the same batch's losses after the step (one extra forward "
                              "pass); \"next\": from the next step's losses",
                              Range::one_of({"after", "next"})),
          option<std::vector<real>>("min_losses", {}, "m_i, the lowest loss of each task ([] = 0 each)")},
         factory([](OptionReader& o) {
           const real lr = o.require<real>("lr");
           const real gamma = o.require<real>("gamma");
           const auto update = o.require<std::string>("update") == "after" ? FAMO::Update::after : FAMO::Update::next;
           const auto min_losses = o.require<std::vector<real>>("min_losses");
           return [=] { return std::make_unique<FAMO>(lr, gamma, update, min_losses); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
