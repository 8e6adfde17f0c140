#include "mtlgrad/optim/db_mtl.hpp"

#include <algorithm>
#include <cmath>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"
#include "registry_parts.hpp"
#include "stage_state.hpp"

namespace mtlgrad {

namespace {
constexpr real kGuard = real(1e-8);  // the reference's ln(L + 1e-8) and ‖b_i‖ + 1e-8
}  // namespace

DBMTL::DBMTL(real beta, real beta_sigma) : beta_(beta), sigma_(beta_sigma) {
  if (!(beta >= 0 && beta <= 1))
    throw std::invalid_argument("db-mtl: beta = " + nlohmann::json(beta).dump() + " is out of range (expected in [0, 1])");
  if (!(beta_sigma >= 0))
    throw std::invalid_argument("db-mtl: beta_sigma = " + nlohmann::json(beta_sigma).dump() +
                                " is out of range (expected >= 0)");
}

void DBMTL::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  check_input("db-mtl", J);
  const std::vector<real>& L = losses_.take(J.shape(0));
  const std::size_t T = J.shape(0), P = J.shape(1);
  if (t_ == 0) {
    b_ = zeros(T, P);
  } else {
    check_task_count("db-mtl", b_.shape(0), T);
    if (b_.shape(1) != P)
      throw std::invalid_argument("db-mtl: the Jacobian has P = " + std::to_string(P) + " parameters but the state holds P = " +
                                  std::to_string(b_.shape(1)) + " (reset() starts over)");
  }
  ++t_;
  const real beta_t = beta_ / std::pow(real(t_), sigma_);
  std::vector<real> norm(T, real(0));
  for (std::size_t i = 0; i < T; ++i) {
    const real scale = 1 / (L[i] + kGuard);  // ∇ ln(L_i + 1e-8) = g_i / (L_i + 1e-8)
    real sq = 0;
    for (std::size_t k = 0; k < P; ++k) {
      const real g = J(i, k) * scale;
      b_(i, k) = g + beta_t * (b_(i, k) - g);
      sq += b_(i, k) * b_(i, k);
    }
    norm[i] = std::sqrt(sq);
  }
  const real top = *std::max_element(norm.begin(), norm.end());
  std::vector<real> a(T);
  for (std::size_t i = 0; i < T; ++i) a[i] = top / (norm[i] + kGuard);
  combine(b_, a, out.direction);
  out.weights.clear();
  out.head_scale.resize(T);
  for (std::size_t i = 0; i < T; ++i) out.head_scale[i] = 1 / (L[i] + kGuard);
  out.pair_strength.resize({0, 0});
  out.metrics.clear();
  out.solver_capped = false;
}

void DBMTL::reset() {
  t_ = 0;
  b_ = zeros(0, 0);
}

nlohmann::json DBMTL::state() const {
  nlohmann::json s{{"t", t_}};
  if (t_ > 0) s["b"] = tensor_to_json(b_);
  return s;
}

void DBMTL::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const std::uint64_t t = detail::state_count("db-mtl", s, "t");
  if (t == 0) return reset();
  b_ = state_tensor(s, "b", "db-mtl");
  t_ = t;
}

namespace detail {
void register_aggregator_db_mtl(Registry<Aggregator>& r) {
  r.add({"db-mtl", "dual balancing: log-loss gradients, EMA-buffered, scaled to the largest norm (Lin et al. 2023, arXiv 2308.12029)",
         {option<real>("beta", real(0.9), "β: decay of the gradient buffers", Range::closed(0, 1)),
          option<real>("beta_sigma", 0, "σ: the decay is β / t^σ at step t", Range::at_least(0))},
         factory([](OptionReader& o) {
           const real beta = o.require<real>("beta");
           const real sigma = o.require<real>("beta_sigma");
           return [=] { return std::make_unique<DBMTL>(beta, sigma); };
         })});
}
}  // namespace detail

}  // namespace mtlgrad
