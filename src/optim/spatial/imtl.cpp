#include "mtlgrad/optim/imtl.hpp"

#include <cmath>
#include <limits>

#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "mtlgrad/optim/solvers.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

void IMTLG::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) { imtl_g_weights(G, w, Gn_, V_, values_); }

void imtl_g_weights(const Tensor& G, std::vector<real>& w, Tensor& Gn_, Tensor& V_, std::vector<real>& values_) {
  const std::size_t T = G.shape(0);
  w.assign(T, real(0));
  if (!(trace(G) > 0)) return;
  normalized_gramian(G, real(0), real(0), Gn_);
  solvers::symmetric_eigen(Gn_, values_, V_);
  const real cutoff = solvers::rank_cutoff(values_);
  for (std::size_t k = 0; k < T; ++k) {
    if (!(values_[k] > cutoff)) continue;
    real coef = 0;  // V_kᵀ sqrt(diag G) / λ_k
    for (std::size_t i = 0; i < T; ++i) coef += V_(i, k) * std::sqrt(std::max(Gn_(i, i), real(0)));
    coef /= values_[k];
    for (std::size_t i = 0; i < T; ++i) w[i] += coef * V_(i, k);
  }
  real sum = 0, mass = 0;
  for (real v : w) sum += v, mass += std::abs(v);
  if (!(std::abs(sum) > real(T) * std::numeric_limits<real>::epsilon() * mass)) return w.assign(T, real(0));
  for (real& v : w) v /= sum;
}

// imtl (IMTL-L + IMTL-G) ---------------------------------------------------------------------

IMTL::IMTL(real lr) : lr_(lr) { detail::check_option(lr >= 0 && std::isfinite(lr), "imtl", "lr", lr, ">= 0"); }

void IMTL::observe_losses(const std::vector<real>& losses) {
  detail::check_losses("imtl", "observe_losses", losses);
  losses_ = losses;
  fresh_ = true;
}

void IMTL::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  const Tensor& G = checked_gramian("imtl", J, G_);
  const std::size_t T = J.shape(0);
  if (!fresh_) throw std::invalid_argument("imtl: needs this step's task losses: call observe_losses() before aggregate()");
  if (losses_.size() != T)
    throw std::invalid_argument("imtl: " + std::to_string(losses_.size()) + " losses for a Jacobian " + shape_str(J));
  if (s_.empty()) s_.assign(T, real(0));
  check_task_count("imtl", s_.size(), T);
  fresh_ = false;
  e_.resize(T);
  for (std::size_t i = 0; i < T; ++i) e_[i] = std::exp(s_[i]);
  // Ĝ = E G E: the Gramian of the scaled gradients e^{s_i} g_i.
  Gs_.resize({T, T});
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) Gs_(i, j) = e_[i] * G(i, j) * e_[j];
  if (!all_finite(Gs_)) throw std::invalid_argument("imtl: the scaled Gramian E G E overflows (s is too large)");
  imtl_g_weights(Gs_, alpha_, Gn_, V_, values_);
  out.weights.resize(T);
  for (std::size_t i = 0; i < T; ++i) out.weights[i] = alpha_[i] * e_[i];
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
  out.head_scale = e_;
  // IMTL-L: ∂/∂s_i (e^{s_i} L_i − s_i), after this step's weights.
  for (std::size_t i = 0; i < T; ++i) s_[i] -= lr_ * (e_[i] * losses_[i] - 1);
}

nlohmann::json IMTL::state() const { return {{"tasks", s_.size()}, {"s", s_}}; }

void IMTL::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::size_t T = detail::state_tasks("imtl", s);
  s_ = detail::state_list("imtl", s, "s", T);
  fresh_ = false;
}

namespace detail {

// list order: 120
void register_aggregator_imtl_g(Registry<Aggregator>& r) {
  r.add({"imtl-g", "impartial MTL, gradient part: equal projections on every unit gradient (Liu et al. 2021, ICLR)",
         {}, no_options<IMTLG>()});
}

void register_aggregator_imtl(Registry<Aggregator>& r) {
  r.add({"imtl", "impartial MTL, full: learnable loss scales e^s (IMTL-L) and equal projections (IMTL-G) (Liu et al. 2021, ICLR)",
         {option<real>("lr", real(1e-3), "learning rate of the loss scales s_i (plain SGD inside the stage)",
                       Range::at_least(0))},
         factory([](OptionReader& o) {
           const real lr = o.require<real>("lr");
           return [=] { return std::make_unique<IMTL>(lr); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
