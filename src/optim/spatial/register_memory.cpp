#include "registry_parts.hpp"

#include <array>

#include "mtlgrad/optim/memory.hpp"
#include "mtlgrad/optim/pcgrad_momentum.hpp"

namespace mtlgrad::detail {

void register_memory_aggregators(Registry<Aggregator>& r) {
  const OptionSpec power = option<real>("power", 1, "p: the strength is λ_ij^p", Range::at_least(0));
  r.add({"ada-pcgrad", "pcgrad whose projection strength is the cumulative conflict frequency n_ij/t",
         surgery_schema({power}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real p = o.require<real>("power");
           return [=] { return std::make_unique<AdaPCGrad>(s, p); };
         })});
  r.add({"rmsprop-pcgrad", "pcgrad whose projection strength is the windowed conflict frequency (EMA, rho)",
         surgery_schema({power, option<real>("rho", real(0.9), "ρ: decay of the conflict average", Range::half_open(0, 1))}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real p = o.require<real>("power");
           const real rho = o.require<real>("rho");
           return [=] { return std::make_unique<RMSPropPCGrad>(s, p, rho); };
         })});
  r.add({"adam-pcgrad", "pcgrad whose projection strength is the signal-to-noise ratio of -cos_ij (Adam moments)",
         surgery_schema({power,
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
  r.add({"pcgrad-momentum", "pcgrad on the bias-corrected per-task first moments (conflict in the accumulated direction)",
         surgery_schema({option<real>("beta", real(0.9), "β: decay of the per-task first moments", Range::half_open(0, 1))}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real beta = o.require<real>("beta");
           return [=] { return std::make_unique<PCGradMomentum>(s, beta); };
         })});
}

}  // namespace mtlgrad::detail
