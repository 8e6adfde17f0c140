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
  j["order"] = order == Order::fixed ? "fixed" : order == Order::shared ? "shared" : "random";
  j["reduction"] = reduction == Reduction::mean ? "mean" : "sum";
}

SurgeryOptions pcgrad_preset(const std::string& name) {
  using O = SurgeryOptions::Order;
  using R = SurgeryOptions::Reduction;
  const auto make = [](O order, R reduction, bool self, real eps) {
    SurgeryOptions o;
    o.order = order;
    o.reduction = reduction;
    o.self_projection = self;
    o.eps = eps;
    return o;
  };
  if (name == "paper") return make(O::random, R::sum, false, 0);
  if (name == "seed-blog") return make(O::shared, R::sum, true, real(1e-12));
  if (name == "libmtl") return make(O::random, R::sum, true, real(1e-8));
  if (name == "official-tf") return make(O::fixed, R::sum, true, 0);
  if (name == "pytorch-pcgrad") return make(O::random, R::mean, true, 0);
  throw std::invalid_argument("pcgrad: unknown preset \"" + name + "\"");
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
  if (o.order == SurgeryOptions::Order::shared) rng.permutation(T, order_);
  for (std::size_t i = 0; i < T; ++i) {
    if (o.order == SurgeryOptions::Order::random) rng.permutation(T, order_);
    std::fill(c_.begin(), c_.end(), real(0));
    c_[i] = 1;
    for (std::size_t j : order_) {
      if (j == i && !o.self_projection) continue;
      real dot = 0;  // g_i'·g_j = (c_i G)_j
      for (std::size_t k = 0; k < T; ++k) dot += c_[k] * G(k, j);
      // eps = 0 leaves ‖g_j‖² as it is, bit for bit.
      const real norm2 = G(j, j) + o.eps;
      if (dot < 0 && norm2 > 0) c_[j] -= (full || j == i ? real(1) : strength(i, j)) * dot / norm2;
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
  // Every option, a preset written out as what it set (so the written options rebuild the stage).
  j["self_projection"] = o_.self_projection;
  j["eps"] = o_.eps;
  j["preset"] = "none";
  return j;
}

namespace detail {

// list order: 40
void register_aggregator_pcgrad(Registry<Aggregator>& r) {
  OptionSchema schema = surgery_schema(
      {option<bool>("self_projection", false, "also project g_i' on its own original g_i when g_i'·g_i < 0 (most public codes)"),
       option<real>("eps", 0, "added to ‖g_j‖² in the projection", Range::at_least(0)),
       option<std::string>("preset", "none",
                           "order, reduction, self_projection and eps as one implementation does them (docs/pcgrad-implementations.md)",
                           Range::one_of({"none", "paper", "seed-blog", "libmtl", "official-tf", "pytorch-pcgrad"}))});
  schema[0] = option<std::string>("order", "random",
                                  "the order π_i of the projections: a fresh random one per task and step, 1..T, or one random one per step for every task",
                                  Range::one_of({"random", "fixed", "shared"}));
  r.add({"pcgrad", "projecting conflicting gradients (Yu et al. 2020, arXiv 2001.06782)", std::move(schema),
         factory([](OptionReader& o) {
           const std::string order = o.require<std::string>("order");
           o.check(order == "random" || order == "fixed" || order == "shared", "order",
                   "\"random\", \"fixed\" or \"shared\"");
           const std::string reduction = o.require<std::string>("reduction");
           o.check(reduction == "sum" || reduction == "mean", "reduction", "\"sum\" or \"mean\"");
           SurgeryOptions s;
           s.order = order == "fixed" ? SurgeryOptions::Order::fixed
                     : order == "shared" ? SurgeryOptions::Order::shared
                                         : SurgeryOptions::Order::random;
           s.reduction = reduction == "mean" ? SurgeryOptions::Reduction::mean : SurgeryOptions::Reduction::sum;
           s.self_projection = o.require<bool>("self_projection");
           s.eps = o.require<real>("eps");
           const std::string preset = o.require<std::string>("preset");
           o.check(preset == "none" || preset == "paper" || preset == "seed-blog" || preset == "libmtl" ||
                       preset == "official-tf" || preset == "pytorch-pcgrad",
                   "preset", "\"none\", \"paper\", \"seed-blog\", \"libmtl\", \"official-tf\" or \"pytorch-pcgrad\"");
           if (preset != "none") {
             // A preset is the whole setting: an option given beside it would be silently overridden.
             const SurgeryOptions plain;
             const bool plain_rest = s.order == plain.order && s.reduction == plain.reduction &&
                                     s.self_projection == plain.self_projection && s.eps == plain.eps;
             if (!plain_rest)
               throw ConfigError(o.key_path("preset") + ": \"" + preset +
                                 "\" sets order, reduction, self_projection and eps itself: give the preset alone");
             s = pcgrad_preset(preset);
           }
           return [=] { return std::make_unique<PCGrad>(s); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
