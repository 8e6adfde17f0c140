#include "mtlgrad/optim/pcgrad_momentum.hpp"

#include <cmath>

#include <xtensor/xnoalias.hpp>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/gramian.hpp"
#include "mtlgrad/optim/memory.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {

PCGradMomentum::PCGradMomentum(SurgeryOptions o, real beta) : o_(o), beta_(beta) {
  if (!(beta >= 0 && beta < 1))
    throw std::invalid_argument("pcgrad-momentum: beta = " + nlohmann::json(beta).dump() +
                                " is out of range (expected in [0, 1))");
}

void PCGradMomentum::aggregate(const Tensor& J, Rng& rng, Aggregation& out) {
  check_input("pcgrad-momentum", J);
  if (t_ == 0) {
    m_ = zeros(shape_of(J));
  } else {
    check_task_count(name(), m_.shape(0), J.shape(0));
    if (m_.shape(1) != J.shape(1))
      throw std::invalid_argument("pcgrad-momentum: the Jacobian has P = " + std::to_string(J.shape(1)) +
                                  " parameters but the state holds P = " + std::to_string(m_.shape(1)) +
                                  " (reset() starts over)");
  }
  ++t_;
  xt::noalias(m_) = beta_ * m_ + (1 - beta_) * J;
  const real correction = 1 - std::pow(beta_, real(t_));
  if (mhat_.shape() != m_.shape()) mhat_.resize(m_.shape());
  xt::noalias(mhat_) = m_ / correction;
  gramian(mhat_, G_);
  kernel_.weights(G_, SurgeryKernel::full_strength(), o_, rng, out.weights);
  combine(mhat_, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
}

void PCGradMomentum::reset() {
  t_ = 0;
  m_ = zeros(0, 0);
}

nlohmann::json PCGradMomentum::state() const {
  nlohmann::json s{{"t", t_}};
  if (t_ > 0) s["m"] = tensor_to_json(m_);
  return s;
}

void PCGradMomentum::load_state(const nlohmann::json& s) {
  if (s.is_null()) return reset();
  if (!s.is_object() || !s.contains("t") || !s["t"].is_number_integer() || s["t"].get<long long>() < 0)
    throw std::invalid_argument("pcgrad-momentum: load_state: expected {\"t\": n, \"m\": tensor}, got " +
                                s.dump().substr(0, 80));
  const auto t = s["t"].get<std::uint64_t>();
  if (t == 0) return reset();
  m_ = state_tensor(s, "m", "pcgrad-momentum");
  t_ = t;
}

nlohmann::json PCGradMomentum::options() const {
  nlohmann::json j{{"name", name()}};
  o_.write(j);
  j["beta"] = beta_;
  return j;
}

namespace detail {

// list order: 80
void register_aggregator_pcgrad_momentum(Registry<Aggregator>& r) {
  r.add({"pcgrad-momentum", "pcgrad on the bias-corrected per-task first moments (conflict in the accumulated direction)",
         surgery_schema({option<real>("beta", real(0.9), "β: decay of the per-task first moments", Range::half_open(0, 1))}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real beta = o.require<real>("beta");
           return [=] { return std::make_unique<PCGradMomentum>(s, beta); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
