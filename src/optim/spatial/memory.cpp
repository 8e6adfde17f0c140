#include "mtlgrad/optim/memory.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/optim/gramian.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {
namespace {

// cos_ij from the Gramian; 0 when either norm is 0.
real cosine(const Tensor& G, std::size_t i, std::size_t j) {
  const real n = std::sqrt(G(i, i)) * std::sqrt(G(j, j));
  return n > 0 ? G(i, j) / n : real(0);
}

real conflict(const Tensor& G, std::size_t i, std::size_t j) { return G(i, j) < 0 ? real(1) : real(0); }

void check_range(const std::string& stage, const char* option, real value, bool ok, const char* expected) {
  if (!ok)
    throw std::invalid_argument(stage + ": " + option + " = " + nlohmann::json(value).dump() +
                                " is out of range (expected " + expected + ")");
}

}  // namespace

void check_task_count(const std::string& stage, std::size_t expected, std::size_t got) {
  if (expected != got)
    throw std::invalid_argument(stage + ": the Jacobian has T = " + std::to_string(got) +
                                " tasks but the state holds T = " + std::to_string(expected) +
                                " (the number of tasks cannot change between steps; reset() starts over)");
}

PairMemoryPCGrad::PairMemoryPCGrad(const char* stage, SurgeryOptions o, real power) : o_(o), power_(power) {
  check_range(stage, "power", power, power >= 0, ">= 0");
}

void PairMemoryPCGrad::aggregate(const Tensor& J, Rng& rng, Aggregation& out) {
  const std::string stage = name();
  const Tensor& G = checked_gramian(stage.c_str(), J, G_);  // before any state changes
  const std::size_t T = J.shape(0);
  if (t_ == 0) {
    T_ = T;
    clear(T);
  }
  check_task_count(stage, T_, T);
  ++t_;
  if (lambda_.shape(0) != T || lambda_.shape(1) != T) lambda_.resize({T, T});
  remember(G, lambda_);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j)
      lambda_(i, j) = i == j ? real(0) : power_ == 1 ? lambda_(i, j) : std::pow(lambda_(i, j), power_);
  kernel_.weights(G, lambda_, o_, rng, out.weights);
  combine(J, out.weights, out.direction);
  out.pair_strength = lambda_;
}

void PairMemoryPCGrad::reset() {
  t_ = 0;
  T_ = 0;
  clear(0);
}

nlohmann::json PairMemoryPCGrad::state() const {
  nlohmann::json s{{"t", t_}, {"tasks", T_}};
  if (t_ > 0) write_memory(s);
  return s;
}

void PairMemoryPCGrad::load_state(const nlohmann::json& s) {
  const std::string stage = name();
  if (s.is_null()) return reset();
  const auto count = [&](const char* key) {
    return s.contains(key) && s[key].is_number_integer() && s[key].get<long long>() >= 0;
  };
  if (!s.is_object() || !count("t") || !count("tasks"))
    throw std::invalid_argument(stage + ": load_state: expected {\"t\": n, \"tasks\": T, ...}, got " +
                                s.dump().substr(0, 80));
  const auto t = s["t"].get<std::uint64_t>();
  const auto T = s["tasks"].get<std::size_t>();
  if (t == 0) return reset();
  read_memory(s, T);
  t_ = t;
  T_ = T;
}

nlohmann::json PairMemoryPCGrad::options() const {
  nlohmann::json j{{"name", name()}};
  o_.write(j);
  j["power"] = power_;
  write_options(j);
  return j;
}

Tensor PairMemoryPCGrad::read_pair_tensor(const nlohmann::json& s, const char* key, std::size_t T) const {
  return state_tensor(s, key, name(), Shape{T, T});
}

// ada-pcgrad -------------------------------------------------------------------------------------

void AdaPCGrad::remember(const Tensor& G, Tensor& lambda) {
  const std::size_t T = G.shape(0);
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) {
      n_(i, j) += conflict(G, i, j);
      lambda(i, j) = n_(i, j) / real(t_);
    }
}

void AdaPCGrad::write_memory(nlohmann::json& s) const { s["n"] = tensor_to_json(n_); }
void AdaPCGrad::read_memory(const nlohmann::json& s, std::size_t T) { n_ = read_pair_tensor(s, "n", T); }

// rmsprop-pcgrad ---------------------------------------------------------------------------------

RMSPropPCGrad::RMSPropPCGrad(SurgeryOptions o, real power, real rho) : PairMemoryPCGrad("rmsprop-pcgrad", o, power), rho_(rho) {
  check_range(name(), "rho", rho, rho >= 0 && rho < 1, "in [0, 1)");
}

void RMSPropPCGrad::remember(const Tensor& G, Tensor& lambda) {
  const std::size_t T = G.shape(0);
  const real correction = 1 - std::pow(rho_, real(t_));
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) {
      r_(i, j) = rho_ * r_(i, j) + (1 - rho_) * conflict(G, i, j);
      lambda(i, j) = std::min(real(1), r_(i, j) / correction);  // min: rounding only
    }
}

void RMSPropPCGrad::write_memory(nlohmann::json& s) const { s["r"] = tensor_to_json(r_); }
void RMSPropPCGrad::read_memory(const nlohmann::json& s, std::size_t T) { r_ = read_pair_tensor(s, "r", T); }

// adam-pcgrad ------------------------------------------------------------------------------------

AdamPCGrad::AdamPCGrad(SurgeryOptions o, real power, real beta1, real beta2, real eps)
    : PairMemoryPCGrad("adam-pcgrad", o, power), beta1_(beta1), beta2_(beta2), eps_(eps) {
  check_range(name(), "betas[0]", beta1, beta1 >= 0 && beta1 < 1, "in [0, 1)");
  check_range(name(), "betas[1]", beta2, beta2 >= 0 && beta2 < 1, "in [0, 1)");
  check_range(name(), "eps", eps, eps >= 0, ">= 0");
}

void AdamPCGrad::remember(const Tensor& G, Tensor& lambda) {
  const std::size_t T = G.shape(0);
  const real c1 = 1 - std::pow(beta1_, real(t_)), c2 = 1 - std::pow(beta2_, real(t_));
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) {
      const real c = cosine(G, i, j);
      m_(i, j) = beta1_ * m_(i, j) + (1 - beta1_) * c;
      v_(i, j) = beta2_ * v_(i, j) + (1 - beta2_) * c * c;
      const real snr = -(m_(i, j) / c1) / (std::sqrt(v_(i, j) / c2) + eps_);
      // m = v = 0 with eps = 0 (zero gradients only) gives NaN: no evidence of conflict, λ = 0.
      lambda(i, j) = std::isnan(snr) ? real(0) : std::clamp(snr, real(0), real(1));
    }
}

void AdamPCGrad::write_memory(nlohmann::json& s) const {
  s["m"] = tensor_to_json(m_);
  s["v"] = tensor_to_json(v_);
}

void AdamPCGrad::read_memory(const nlohmann::json& s, std::size_t T) {
  Tensor m = read_pair_tensor(s, "m", T);
  v_ = read_pair_tensor(s, "v", T);
  m_ = std::move(m);
}

void AdamPCGrad::write_options(nlohmann::json& j) const {
  j["betas"] = {beta1_, beta2_};
  j["eps"] = eps_;
}

namespace detail {
namespace {

OptionSpec power() { return option<real>("power", 1, "p: the strength is λ_ij^p", Range::at_least(0)); }

}  // namespace

// list order: 50
void register_aggregator_ada_pcgrad(Registry<Aggregator>& r) {
  r.add({"ada-pcgrad", "pcgrad whose projection strength is the cumulative conflict frequency n_ij/t",
         surgery_schema({power()}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real p = o.require<real>("power");
           return [=] { return std::make_unique<AdaPCGrad>(s, p); };
         })});
}

// list order: 60
void register_aggregator_rmsprop_pcgrad(Registry<Aggregator>& r) {
  r.add({"rmsprop-pcgrad", "pcgrad whose projection strength is the windowed conflict frequency (EMA, rho)",
         surgery_schema({power(), option<real>("rho", real(0.9), "ρ: decay of the conflict average", Range::half_open(0, 1))}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real p = o.require<real>("power");
           const real rho = o.require<real>("rho");
           return [=] { return std::make_unique<RMSPropPCGrad>(s, p, rho); };
         })});
}

// list order: 70
void register_aggregator_adam_pcgrad(Registry<Aggregator>& r) {
  r.add({"adam-pcgrad", "pcgrad whose projection strength is the signal-to-noise ratio of -cos_ij (Adam moments)",
         surgery_schema({power(),
                         option<std::array<real, 2>>("betas", {real(0.9), real(0.999)},
                                                     "β₁, β₂: decay of the moments of cos_ij", Range::half_open(0, 1)),
                         option<real>("eps", real(1e-8), "ε added to √v̂", Range::at_least(0))}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real p = o.require<real>("power");
           const auto betas = o.require<std::array<real, 2>>("betas");
           const real eps = o.require<real>("eps");
           return [=] { return std::make_unique<AdamPCGrad>(s, p, betas[0], betas[1], eps); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
