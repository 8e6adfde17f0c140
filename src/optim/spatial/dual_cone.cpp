#include "mtlgrad/optim/dual_cone.hpp"

#include "mtlgrad/optim/solvers.hpp"

#include "registry_parts.hpp"

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

void DualConeWeighting::project_rows(Tensor& X) { report(solvers::nonneg_qp_rows(Q_, u_, X)); }

void UPGrad::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  const std::size_t T = G.shape(0);
  prepare(G);
  // All T projections in one call: the solver shares its work between the rows (solvers.hpp).
  project_rows(X_);
  w.assign(T, real(0));
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t k = 0; k < T; ++k) w[k] += (k == i ? u_[i] : real(0)) + X_(i, k);
}

void DualProj::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  prepare(G);
  project(u_, w);
}

namespace detail {
namespace {

template <class Stage>
Registry<Aggregator>::Factory dual_cone() {
  return factory([](OptionReader& o) {
    const auto pref = o.require<std::vector<real>>("weights");
    const real norm_eps = o.require<real>("norm_eps");
    const real reg_eps = o.require<real>("reg_eps");
    return [=] { return std::make_unique<Stage>(pref, norm_eps, reg_eps); };
  });
}

OptionSchema dual_cone_schema() {
  return {preference(),
          option<real>("norm_eps", 0, "a J with ‖J‖_F² < norm_eps counts as zero (the preference combination is returned)", Range::at_least(0)),
          option<real>("reg_eps", real(1e-4), "Q = G/tr(G) + reg_eps·I: the QP needs Q positive definite", Range::above(0))};
}

}  // namespace

// list order: 140
void register_aggregator_upgrad(Registry<Aggregator>& r) {
  r.add({"upgrad", "every row projected onto the dual cone of the rows, summed (Quinton & Rey 2024, arXiv 2406.16232)",
         dual_cone_schema(), dual_cone<UPGrad>()});
}

// list order: 150
void register_aggregator_dualproj(Registry<Aggregator>& r) {
  r.add({"dualproj", "the mean projected onto the dual cone of the rows (Quinton & Rey 2024; GEM, Lopez-Paz & Ranzato 2017)",
         dual_cone_schema(), dual_cone<DualProj>()});
}

}  // namespace detail

}  // namespace mtlgrad
