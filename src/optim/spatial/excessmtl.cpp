#include "mtlgrad/optim/excessmtl.hpp"

#include <algorithm>
#include <cmath>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

ExcessMTL::ExcessMTL(real robust_step_size) : eta_(robust_step_size) {
  if (!(robust_step_size >= 0 && std::isfinite(robust_step_size)))
    throw std::invalid_argument("excessmtl: robust_step_size = " + nlohmann::json(robust_step_size).dump() +
                                " is out of range (expected >= 0)");
}

void ExcessMTL::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  check_input("excessmtl", J);
  const std::size_t T = J.shape(0), P = J.shape(1);
  if (t_ == 0) {
    S_ = zeros(T, P);
    lambda_.assign(T, real(1));
  } else {
    check_task_count("excessmtl", S_.shape(0), T);
    if (S_.shape(1) != P)
      throw std::invalid_argument("excessmtl: the Jacobian has P = " + std::to_string(P) +
                                  " parameters but the state holds P = " + std::to_string(S_.shape(1)) +
                                  " (reset() starts over)");
  }
  ++t_;
  e_.assign(T, real(0));
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t k = 0; k < P; ++k) {
      const real g2 = J(i, k) * J(i, k);
      S_(i, k) += g2;
      e_[i] += g2 / std::sqrt(S_(i, k) + real(1e-7));  // g_iᵀ H_i⁻¹ g_i, H_i = diag(√(S_i + 1e-7))
    }
  if (t_ == 1) {
    e0_ = e_;
  } else {
    // λ ← T softmax(ln λ + η r): the reference's λ exp(η r) renormalised to Σ λ = T.
    std::vector<real> z(T);
    for (std::size_t i = 0; i < T; ++i) z[i] = std::log(lambda_[i]) + eta_ * (e0_[i] > 0 ? e_[i] / e0_[i] : real(0));
    const real top = *std::max_element(z.begin(), z.end());
    real sum = 0;
    for (real& v : z) sum += (v = std::exp(v - top));
    for (std::size_t i = 0; i < T; ++i) lambda_[i] = real(T) * (z[i] / sum);
  }
  out.weights = lambda_;
  combine(J, out.weights, out.direction);
  out.head_scale = lambda_;
  out.pair_strength.resize({0, 0});
  out.metrics.clear();
  out.solver_capped = false;
}

void ExcessMTL::reset() {
  t_ = 0;
  S_ = zeros(0, 0);
  lambda_.clear();
  e0_.clear();
}

nlohmann::json ExcessMTL::state() const {
  nlohmann::json s{{"t", t_}};
  if (t_ > 0) {
    s["S"] = tensor_to_json(S_);
    s["lambda"] = lambda_;
    s["e0"] = e0_;
  }
  return s;
}

void ExcessMTL::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::uint64_t t = detail::state_count("excessmtl", s, "t");
  if (t == 0) return reset();
  Tensor S = state_tensor(s, "S", "excessmtl");
  const std::size_t T = S.shape(0);
  std::vector<real> lambda = detail::state_list("excessmtl", s, "lambda", T, false);
  std::vector<real> e0 = detail::state_list("excessmtl", s, "e0", T, false);
  for (real l : lambda)
    if (!(l > 0)) throw std::invalid_argument("excessmtl: load_state: 'lambda' holds " + nlohmann::json(l).dump() + ", expected > 0");
  t_ = t;
  S_ = std::move(S);
  lambda_ = std::move(lambda);
  e0_ = std::move(e0);
}

namespace detail {
void register_aggregator_excessmtl(Registry<Aggregator>& r) {
  r.add({"excessmtl", "weights by exponentiated ascent on the tasks' excess risks g_iᵀH_i⁻¹g_i, AdaGrad's H (He et al. 2024, ICML)",
         {option<real>("robust_step_size", real(1e-2), "η: step of the exponentiated ascent on the weights", Range::at_least(0))},
         factory([](OptionReader& o) {
           const real eta = o.require<real>("robust_step_size");
           return [=] { return std::make_unique<ExcessMTL>(eta); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
