#include "registry_parts.hpp"

#include <array>

#include "mtlgrad/optim/memory.hpp"
#include "mtlgrad/optim/pcgrad_momentum.hpp"

namespace mtlgrad::detail {
namespace {

nlohmann::json defaults(const char* name, nlohmann::json extra) {
  nlohmann::json j{{"name", name}, {"order", "random"}, {"reduction", "sum"}};
  j.update(extra);
  return j;
}

}  // namespace

void register_memory_aggregators(Registry<Aggregator>& r) {
  r.add({"ada-pcgrad", "pcgrad whose projection strength is the cumulative conflict frequency n_ij/t",
         defaults("ada-pcgrad", {{"power", 1.0}}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real p = o.get<real>("power", 1);
           return [=] { return std::make_unique<AdaPCGrad>(s, p); };
         })});
  r.add({"rmsprop-pcgrad", "pcgrad whose projection strength is the windowed conflict frequency (EMA, rho)",
         defaults("rmsprop-pcgrad", {{"power", 1.0}, {"rho", 0.9}}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real p = o.get<real>("power", 1);
           const real rho = o.get<real>("rho", real(0.9));
           return [=] { return std::make_unique<RMSPropPCGrad>(s, p, rho); };
         })});
  r.add({"adam-pcgrad", "pcgrad whose projection strength is the signal-to-noise ratio of -cos_ij (Adam moments)",
         defaults("adam-pcgrad", {{"power", 1.0}, {"betas", {0.9, 0.999}}, {"eps", 1e-8}}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real p = o.get<real>("power", 1);
           const auto betas = o.get<std::array<real, 2>>("betas", {real(0.9), real(0.999)});
           const real eps = o.get<real>("eps", real(1e-8));
           return [=] { return std::make_unique<AdamPCGrad>(s, p, betas[0], betas[1], eps); };
         })});
  r.add({"pcgrad-momentum", "pcgrad on the bias-corrected per-task first moments (conflict in the accumulated direction)",
         defaults("pcgrad-momentum", {{"beta", 0.9}}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real beta = o.get<real>("beta", real(0.9));
           return [=] { return std::make_unique<PCGradMomentum>(s, beta); };
         })});
}

}  // namespace mtlgrad::detail
