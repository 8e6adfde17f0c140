#include "mtlgrad/optim/gradvac.hpp"

#include <algorithm>
#include <cmath>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {

GradVac::GradVac(SurgeryOptions o, real beta) : o_(o), beta_(beta) {
  if (!(beta >= 0 && beta <= 1))
    throw std::invalid_argument("gradvac: beta = " + std::to_string(beta) + " is out of range (expected in [0, 1])");
}

void GradVac::aggregate(const Tensor& J, Rng& rng, Aggregation& out) {
  const Tensor& G = checked_gramian("gradvac", J, G_);  // before any state changes
  const std::size_t T = J.shape(0);
  if (t_ == 0) T_ = T, phi_ = zeros(T, T);
  check_task_count("gradvac", T_, T);
  ++t_;
  out.weights.assign(T, real(0));
  c_.resize(T);
  Gc_.resize(T);
  order_.resize(T);
  for (std::size_t j = 0; j < T; ++j) order_[j] = j;
  for (std::size_t i = 0; i < T; ++i) {
    if (o_.order == SurgeryOptions::Order::random) rng.permutation(T, order_);
    // g_i' = Σ_k c_k g_k, kept with Gc = (g_k·g_i')_k and ‖g_i'‖² = cᵀGc, updated in O(T) per move.
    std::fill(c_.begin(), c_.end(), real(0));
    c_[i] = 1;
    for (std::size_t k = 0; k < T; ++k) Gc_[k] = G(k, i);
    real norm_i_sq = G(i, i);
    for (std::size_t j : order_) {
      if (j == i) continue;
      const real norm_i = std::sqrt(std::max(norm_i_sq, real(0))), norm_j = std::sqrt(G(j, j));
      const real cos = norm_i > 0 && norm_j > 0 ? std::clamp(Gc_[j] / (norm_i * norm_j), real(-1), real(1)) : real(0);
      const real target = phi_(i, j);
      const real room = std::sqrt(std::max(1 - target * target, real(0)));
      if (cos < target && norm_j > 0 && room > 0) {
        const real move = norm_i * (target * std::sqrt(1 - cos * cos) - cos * room) / (norm_j * room);
        c_[j] += move;
        norm_i_sq += move * (2 * Gc_[j] + move * G(j, j));
        for (std::size_t k = 0; k < T; ++k) Gc_[k] += move * G(k, j);
      }
      phi_(i, j) = (1 - beta_) * target + beta_ * cos;
    }
    for (std::size_t k = 0; k < T; ++k) out.weights[k] += c_[k];
  }
  if (o_.reduction == SurgeryOptions::Reduction::mean)
    for (real& v : out.weights) v /= real(T);
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
}

void GradVac::reset() {
  t_ = 0;
  T_ = 0;
  phi_ = zeros(0, 0);
}

nlohmann::json GradVac::state() const {
  nlohmann::json s{{"t", t_}, {"tasks", T_}};
  if (t_ > 0) s["phi"] = tensor_to_json(phi_);
  return s;
}

void GradVac::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  const auto count = [&](const char* key) {
    return s.contains(key) && s[key].is_number_integer() && s[key].get<long long>() >= 0;
  };
  if (!s.is_object() || !count("t") || !count("tasks"))
    throw std::invalid_argument("gradvac: load_state: expected {\"t\": n, \"tasks\": T, \"phi\": [...]}, got " +
                                s.dump().substr(0, 80));
  const auto t = s["t"].get<std::uint64_t>();
  const auto T = s["tasks"].get<std::size_t>();
  if (t == 0) return reset();
  phi_ = state_tensor(s, "phi", "gradvac", Shape{T, T});
  t_ = t;
  T_ = T;
}

nlohmann::json GradVac::options() const {
  nlohmann::json j{{"name", name()}};
  o_.write(j);
  j["beta"] = beta_;
  return j;
}

namespace detail {

// list order: 110
void register_aggregator_gradvac(Registry<Aggregator>& r) {
  r.add({"gradvac", "Gradient Vaccine: pcgrad towards remembered target cosines (Wang et al. 2021, arXiv 2010.05874)",
         surgery_schema({option<real>("beta", real(0.5), "β: decay of the target cosines φ̂_ij", Range::closed(0, 1))}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real beta = o.require<real>("beta");
           return [=] { return std::make_unique<GradVac>(s, beta); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
