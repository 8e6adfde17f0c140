#include "mtlgrad/optim/pcgrad.hpp"

#include "mtlgrad/optim/gramian.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {

SurgeryOptions SurgeryOptions::read(OptionReader& r) {
  SurgeryOptions o;
  const std::string order = r.get<std::string>("order", "random");
  r.check(order == "random" || order == "fixed", "order", "\"random\" or \"fixed\"");
  o.order = order == "fixed" ? Order::fixed : Order::random;
  const std::string reduction = r.get<std::string>("reduction", "sum");
  r.check(reduction == "sum" || reduction == "mean", "reduction", "\"sum\" or \"mean\"");
  o.reduction = reduction == "mean" ? Reduction::mean : Reduction::sum;
  return o;
}

void SurgeryOptions::write(nlohmann::json& j) const {
  j["order"] = order == Order::fixed ? "fixed" : "random";
  j["reduction"] = reduction == Reduction::mean ? "mean" : "sum";
}

void SurgeryKernel::weights(const Tensor& G, const Tensor& strength, const SurgeryOptions& o, Rng& rng,
                            std::vector<real>& w) {
  const std::size_t T = G.shape(0);
  const bool full = strength.size() == 0;
  if (!full) check_shape("SurgeryKernel: strength", strength, Shape{T, T});
  w.assign(T, real(0));
  c_.resize(T);
  order_.resize(T);
  for (std::size_t j = 0; j < T; ++j) order_[j] = j;
  for (std::size_t i = 0; i < T; ++i) {
    if (o.order == SurgeryOptions::Order::random) rng.permutation(T, order_);
    std::fill(c_.begin(), c_.end(), real(0));
    c_[i] = 1;
    for (std::size_t j : order_) {
      if (j == i) continue;
      real dot = 0;  // g_i'·g_j = (c_i G)_j
      for (std::size_t k = 0; k < T; ++k) dot += c_[k] * G(k, j);
      if (dot < 0 && G(j, j) > 0) c_[j] -= (full ? real(1) : strength(i, j)) * dot / G(j, j);
    }
    for (std::size_t k = 0; k < T; ++k) w[k] += c_[k];
  }
  if (o.reduction == SurgeryOptions::Reduction::mean)
    for (real& v : w) v /= real(T);
}

const Tensor& SurgeryKernel::full_strength() {
  static const Tensor none = zeros(0, 0);
  return none;
}

void PCGrad::aggregate(const Tensor& J, Rng& rng, Aggregation& out) {
  const Tensor& G = checked_gramian("pcgrad", J, G_);
  kernel_.weights(G, SurgeryKernel::full_strength(), o_, rng, out.weights);
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
}

nlohmann::json PCGrad::options() const {
  nlohmann::json j{{"name", name()}};
  o_.write(j);
  return j;
}

namespace detail {

// list order: 40
void register_aggregator_pcgrad(Registry<Aggregator>& r) {
  r.add({"pcgrad", "projecting conflicting gradients (Yu et al. 2020, arXiv 2001.06782)", surgery_schema(),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           return [=] { return std::make_unique<PCGrad>(s); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
