#include "mtlgrad/optim/dual_cone.hpp"

#include "mtlgrad/optim/solvers.hpp"

namespace mtlgrad {

DualConeWeighting::DualConeWeighting(const char* stage, std::vector<real> pref, real norm_eps, real reg_eps)
    : pref_(std::move(pref)), norm_eps_(norm_eps), reg_eps_(reg_eps) {
  if (!(norm_eps >= 0))
    throw std::invalid_argument(std::string(stage) + ": norm_eps = " + std::to_string(norm_eps) +
                                " is out of range (expected >= 0)");
  if (!(reg_eps > 0))
    throw std::invalid_argument(std::string(stage) + ": reg_eps = " + std::to_string(reg_eps) +
                                " is out of range (expected > 0: the QP needs a positive definite Gramian)");
}

void DualConeWeighting::prepare(const Tensor& G) {
  preference(name(), pref_, G.shape(0), u_);
  normalized_gramian(G, norm_eps_, reg_eps_, Q_);
}

void DualConeWeighting::project(const std::vector<real>& target, std::vector<real>& v) {
  const std::size_t T = Q_.shape(0);
  q_.assign(T, real(0));  // Q target
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) q_[i] += Q_(i, j) * target[j];
  report(solvers::nonneg_qp(Q_, q_, x_));
  v = target;
  for (std::size_t i = 0; i < T; ++i) v[i] += x_[i];
}

nlohmann::json DualConeWeighting::options() const {
  return {{"name", name()}, {"weights", pref_}, {"norm_eps", norm_eps_}, {"reg_eps", reg_eps_}};
}

void UPGrad::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  const std::size_t T = G.shape(0);
  prepare(G);
  w.assign(T, real(0));
  for (std::size_t i = 0; i < T; ++i) {
    e_.assign(T, real(0));
    e_[i] = u_[i];
    project(e_, v_);
    for (std::size_t k = 0; k < T; ++k) w[k] += v_[k];
  }
}

void DualProj::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  prepare(G);
  project(u_, w);
}

}  // namespace mtlgrad
