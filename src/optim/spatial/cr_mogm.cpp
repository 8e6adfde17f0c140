#include "mtlgrad/optim/cr_mogm.hpp"

#include <cmath>

#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

CRMOGM::CRMOGM(std::unique_ptr<Aggregator> inner, real beta) : inner_(std::move(inner)), beta_(beta) {
  set_beta(beta);
  if (!inner_->weighting())
    throw std::invalid_argument("cr-mogm: the inner stage '" + inner_->name() +
                                "' reports no weights (it is not a weighting d = Jᵀw); cr-mogm averages weights");
}

void CRMOGM::set_beta(real beta) {
  detail::check_option(beta >= 0 && beta <= 1, "cr-mogm", "beta", beta, "in [0, 1]");
  beta_ = beta;
}

void CRMOGM::aggregate(const Tensor& J, Rng& rng, Aggregation& out) {
  // The inner stage gets the Gramian (the trainer's, or one computed here): it does not make its
  // own from J again, and its result is the same bit for bit (aggregate_with_gramian's contract).
  const Tensor& G = checked_gramian("cr-mogm", J, G_);
  const std::size_t T = J.shape(0);
  if (!lambda_.empty()) check_task_count("cr-mogm", lambda_.size(), T);
  inner_->aggregate_with_gramian(J, G, rng, inner_out_);
  if (inner_out_.weights.size() != T)
    throw std::logic_error("cr-mogm: the inner stage '" + inner_->name() + "' reported " +
                           std::to_string(inner_out_.weights.size()) + " weights for T = " + std::to_string(T));
  if (lambda_.empty()) {
    lambda_ = inner_out_.weights;
  } else {
    for (std::size_t i = 0; i < T; ++i) lambda_[i] = beta_ * lambda_[i] + (1 - beta_) * inner_out_.weights[i];
  }
  out.weights = lambda_;
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
  out.metrics = inner_out_.metrics;
  out.solver_capped = inner_out_.solver_capped;
  out.head_scale = inner_out_.head_scale;
}

void CRMOGM::reset() {
  inner_->reset();
  lambda_.clear();
}

nlohmann::json CRMOGM::state() const { return {{"tasks", lambda_.size()}, {"lambda", lambda_}, {"inner", inner_->state()}}; }

void CRMOGM::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::size_t T = detail::state_tasks("cr-mogm", s);
  auto lambda = detail::state_list("cr-mogm", s, "lambda", T);
  if (!s.contains("inner")) throw std::invalid_argument("cr-mogm: load_state: 'inner' is missing");
  inner_->load_state(s["inner"]);
  lambda_ = std::move(lambda);
}

namespace detail {
void register_aggregator_cr_mogm(Registry<Aggregator>& r) {
  r.add({"cr-mogm", "moving average of any weighting's weights, λ = βλ + (1−β)λ̂ (CR-MOGM, Zhou et al. 2022, NeurIPS)",
         {option<nlohmann::json>("inner", nlohmann::json{{"name", "mgda"}},
                                 "the weighting whose weights are averaged: a stage spec ({\"name\": ..., options})"),
          option<real>("beta", real(0.9), "β: the weight of the past (TorchJD's alpha)", Range::closed(0, 1))},
         [](const nlohmann::json& spec, const std::string& path) -> std::unique_ptr<Aggregator> {
           OptionReader o(spec, path);
           o.declare("name");
           const auto inner_spec = o.require<nlohmann::json>("inner");
           const real beta = o.require<real>("beta");
           o.finish();
           auto inner = make_aggregator(inner_spec, path + ".inner");
           if (!inner->weighting())
             throw ConfigError(path + ".inner: cr-mogm needs a weighting (a stage that reports weights, d = Jᵀw); '" +
                               inner->name() + "' is not one");
           try {
             return std::make_unique<CRMOGM>(std::move(inner), beta);
           } catch (const std::invalid_argument& e) {
             throw ConfigError(path + ": " + e.what());
           }
         }});
}
}  // namespace detail

}  // namespace mtlgrad
