#include "mtlgrad/optim/moco.hpp"

#include <cmath>
#include <numeric>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "mtlgrad/optim/solvers.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

MoCo::MoCo(real beta, real beta_sigma, real gamma, real gamma_sigma, real rho, Projection projection)
    : beta_(beta), beta_sigma_(beta_sigma), gamma_(gamma), gamma_sigma_(gamma_sigma), rho_(rho), projection_(projection) {
  detail::check_option(beta >= 0 && beta <= 1, "moco", "beta", beta, "in [0, 1]");
  detail::check_option(beta_sigma >= 0 && std::isfinite(beta_sigma), "moco", "beta_sigma", beta_sigma, ">= 0");
  detail::check_option(gamma >= 0 && std::isfinite(gamma), "moco", "gamma", gamma, ">= 0");
  detail::check_option(gamma_sigma >= 0 && std::isfinite(gamma_sigma), "moco", "gamma_sigma", gamma_sigma, ">= 0");
  detail::check_option(rho >= 0 && std::isfinite(rho), "moco", "rho", rho, ">= 0");
}

void MoCo::observe_losses(const std::vector<real>& losses) {
  detail::check_losses("moco", "observe_losses", losses);
  losses_ = losses;
  fresh_ = true;
}

void MoCo::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  const Tensor& G = checked_gramian("moco", J, G_);
  const std::size_t T = J.shape(0), P = J.shape(1);
  if (!fresh_) throw std::invalid_argument("moco: needs this step's task losses: call observe_losses() before aggregate()");
  if (losses_.size() != T)
    throw std::invalid_argument("moco: " + std::to_string(losses_.size()) + " losses for a Jacobian " + shape_str(J));
  if (T_ == 0) {
    T_ = T;
    y_ = zeros(T, P);
    lambda_.assign(T, real(1) / real(T));
  }
  check_task_count("moco", T_, T);
  if (y_.shape(1) != P)
    throw std::invalid_argument("moco: the Jacobian has P = " + std::to_string(P) + " columns but the state holds " +
                                std::to_string(y_.shape(1)) + " (reset() first)");
  fresh_ = false;
  ++t_;
  const real step_y = beta_ / std::pow(real(t_), beta_sigma_);
  for (std::size_t i = 0; i < T; ++i) {
    const real c = losses_[i] / (std::sqrt(std::max(G(i, i), real(0))) + real(1e-8));
    for (std::size_t k = 0; k < P; ++k) y_(i, k) -= step_y * (y_(i, k) - J(i, k) * c);
  }
  gramian_unchecked(y_, YY_);
  const real step_l = gamma_ / std::pow(real(t_), gamma_sigma_);
  arg_.resize(T);
  for (std::size_t i = 0; i < T; ++i) {
    real s = rho_ * lambda_[i];
    for (std::size_t j = 0; j < T; ++j) s += YY_(i, j) * lambda_[j];
    arg_[i] = lambda_[i] - step_l * s;
  }
  if (!std::isfinite(std::accumulate(arg_.begin(), arg_.end(), real(0))))
    throw std::invalid_argument("moco: the λ update overflows (the tracked gradients are too large)");
  if (projection_ == Projection::softmax) {
    detail::softmax(arg_, lambda_);
  } else {
    solvers::project_simplex(arg_);
    lambda_ = arg_;
  }
  combine(y_, lambda_, out.direction);
  out.weights.clear();
  out.pair_strength.resize({0, 0});
}

void MoCo::reset() {
  T_ = t_ = 0;
  y_ = Tensor();
  lambda_.clear();
  fresh_ = false;
}

nlohmann::json MoCo::state() const {
  return {{"tasks", T_}, {"t", t_}, {"y", T_ ? tensor_to_json(y_) : nlohmann::json(nullptr)}, {"lambda", lambda_}};
}

void MoCo::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::size_t T = detail::state_tasks("moco", s);
  const std::size_t t = detail::state_count("moco", s, "t");
  auto lambda = detail::state_list("moco", s, "lambda", T);
  Tensor y;
  if (T > 0) {
    y = state_tensor(s, "y", "moco");
    if (y.shape(0) != T)
      throw std::invalid_argument("moco: load_state: 'y' has " + std::to_string(y.shape(0)) + " rows, expected T = " +
                                  std::to_string(T));
  }
  T_ = T;
  t_ = t;
  lambda_ = std::move(lambda);
  y_ = std::move(y);
  fresh_ = false;
}

nlohmann::json MoCo::options() const {
  return {{"name", name()},         {"beta", beta_}, {"beta_sigma", beta_sigma_}, {"gamma", gamma_},
          {"gamma_sigma", gamma_sigma_}, {"rho", rho_},   {"projection", projection_ == Projection::softmax ? "softmax" : "simplex"}};
}

namespace detail {
void register_aggregator_moco(Registry<Aggregator>& r) {
  r.add({"moco", "MoCo: tracked normalised task gradients and weights updated by a gradient step (Fernando et al. 2023, ICLR)",
         {option<real>("beta", real(0.5), "β: step of the gradient tracking Y, divided by t^beta_sigma", Range::closed(0, 1)),
          option<real>("beta_sigma", real(0.5), "decay exponent of β's step", Range::at_least(0)),
          option<real>("gamma", real(0.1), "γ: step of the weights λ, divided by t^gamma_sigma", Range::at_least(0)),
          option<real>("gamma_sigma", real(0.5), "decay exponent of γ's step", Range::at_least(0)),
          option<real>("rho", 0, "ρ: the regularisation ρI added to Y Yᵀ", Range::at_least(0)),
          option<std::string>("projection", "softmax",
                              "back onto the simplex by softmax (LibMTL, the authors' code) or Euclidean projection (the paper)",
                              Range::one_of({"softmax", "simplex"}))},
         factory([](OptionReader& o) {
           const real beta = o.require<real>("beta"), beta_sigma = o.require<real>("beta_sigma");
           const real gamma = o.require<real>("gamma"), gamma_sigma = o.require<real>("gamma_sigma");
           const real rho = o.require<real>("rho");
           const auto projection =
               o.require<std::string>("projection") == "softmax" ? MoCo::Projection::softmax : MoCo::Projection::simplex;
           return [=] { return std::make_unique<MoCo>(beta, beta_sigma, gamma, gamma_sigma, rho, projection); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
