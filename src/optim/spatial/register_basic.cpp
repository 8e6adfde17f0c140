#include "registry_parts.hpp"

#include "mtlgrad/optim/basic.hpp"
#include "mtlgrad/optim/pcgrad.hpp"

namespace mtlgrad::detail {

void register_basic_aggregators(Registry<Aggregator>& r) {
  using K = FixedWeighting::Kind;
  const auto fixed = [](K kind) {
    return factory([kind](OptionReader& o) {
      std::vector<real> w;
      if (kind == K::weighted) {
        w = o.require<std::vector<real>>("weights");
        o.check(!w.empty(), "weights", "one weight per task, a non-empty list");
      }
      return [kind, w] { return std::make_unique<FixedWeighting>(kind, w); };
    });
  };
  r.add({"sum", "d = Σ_i g_i", {}, fixed(K::sum)});
  r.add({"mean", "d = Σ_i g_i / T", {}, fixed(K::mean)});
  r.add({"weighted", "d = Σ_i c_i g_i with fixed c (option weights, one per task)",
         {required_option<std::vector<real>>("weights", "c_i, one per task")}, fixed(K::weighted)});
  r.add({"pcgrad", "projecting conflicting gradients (Yu et al. 2020, arXiv 2001.06782)", surgery_schema(),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           return [=] { return std::make_unique<PCGrad>(s); };
         })});
}

}  // namespace mtlgrad::detail
