#include "registry_parts.hpp"

#include "mtlgrad/optim/aligned_mtl.hpp"
#include "mtlgrad/optim/cagrad.hpp"
#include "mtlgrad/optim/dual_cone.hpp"
#include "mtlgrad/optim/gradvac.hpp"
#include "mtlgrad/optim/imtl.hpp"
#include "mtlgrad/optim/loss_weighting.hpp"
#include "mtlgrad/optim/mgda.hpp"
#include "mtlgrad/optim/nash_mtl.hpp"
#include "mtlgrad/optim/random_weighting.hpp"

namespace mtlgrad::detail {
namespace {

using Factory = Registry<Aggregator>::Factory;

template <class Stage>
Factory no_options() {
  return factory([](OptionReader&) { return [] { return std::make_unique<Stage>(); }; });
}

template <class Stage>
Factory dual_cone() {
  return factory([](OptionReader& o) {
    const auto pref = o.get<std::vector<real>>("weights", {});
    const real norm_eps = o.get<real>("norm_eps", 0);
    const real reg_eps = o.get<real>("reg_eps", real(1e-4));
    return [=] { return std::make_unique<Stage>(pref, norm_eps, reg_eps); };
  });
}

}  // namespace

void register_family_aggregators(Registry<Aggregator>& r) {
  using nlohmann::json;
  r.add({"mgda", "min-norm point of the convex hull of the task gradients (Desideri 2012; Sener & Koltun 2018)",
         {{"name", "mgda"}, {"max_iter", 1000}, {"tol", 1e-8}}, factory([](OptionReader& o) {
           const auto max_iter = o.get<std::size_t>("max_iter", 1000);
           const real tol = o.get<real>("tol", real(1e-8));
           return [=] { return std::make_unique<MGDA>(max_iter, tol); };
         })});
  r.add({"cagrad", "conflict-averse gradient descent, the dual on the Gramian (Liu et al. 2021, arXiv 2110.14048)",
         {{"name", "cagrad"}, {"c", 0.5}, {"rescale", 1}}, factory([](OptionReader& o) {
           const real c = o.get<real>("c", real(0.5));
           const int rescale = o.get<int>("rescale", 1);
           return [=] { return std::make_unique<CAGrad>(c, rescale); };
         })});
  r.add({"gradvac", "Gradient Vaccine: pcgrad towards remembered target cosines (Wang et al. 2021, arXiv 2010.05874)",
         {{"name", "gradvac"}, {"order", "random"}, {"reduction", "sum"}, {"beta", 0.5}}, factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real beta = o.get<real>("beta", real(0.5));
           return [=] { return std::make_unique<GradVac>(s, beta); };
         })});
  r.add({"imtl-g", "impartial MTL, gradient part: equal projections on every unit gradient (Liu et al. 2021, ICLR)",
         {{"name", "imtl-g"}}, no_options<IMTLG>()});
  r.add({"aligned-mtl", "aligned MTL: gradients made orthonormal by the Gramian's eigen-decomposition (Senushkin et al. 2023)",
         {{"name", "aligned-mtl"}, {"weights", json::array()}}, factory([](OptionReader& o) {
           const auto pref = o.get<std::vector<real>>("weights", {});
           return [=] { return std::make_unique<AlignedMTL>(pref); };
         })});
  r.add({"upgrad", "every row projected onto the dual cone of the rows, summed (Quinton & Rey 2024, arXiv 2406.16232)",
         {{"name", "upgrad"}, {"weights", json::array()}, {"norm_eps", 0}, {"reg_eps", 1e-4}}, dual_cone<UPGrad>()});
  r.add({"dualproj", "the mean projected onto the dual cone of the rows (Quinton & Rey 2024; GEM, Lopez-Paz & Ranzato 2017)",
         {{"name", "dualproj"}, {"weights", json::array()}, {"norm_eps", 0}, {"reg_eps", 1e-4}}, dual_cone<DualProj>()});
  r.add({"graddrop", "gradient sign dropout per coordinate (Chen et al. 2020, arXiv 2010.06808)",
         {{"name", "graddrop"}, {"leak", 0}}, factory([](OptionReader& o) {
           const real leak = o.get<real>("leak", 0);
           return [=] { return std::make_unique<GradDrop>(leak); };
         })});
  r.add({"nash-mtl", "Nash bargaining solution G a = 1/a, scaled to max_norm (Navon et al. 2022, arXiv 2202.01017)",
         {{"name", "nash-mtl"}, {"max_norm", 1}, {"reg_eps", 1e-8}}, factory([](OptionReader& o) {
           const real max_norm = o.get<real>("max_norm", 1);
           const real reg_eps = o.get<real>("reg_eps", real(1e-8));
           return [=] { return std::make_unique<NashMTL>(max_norm, reg_eps); };
         })});
  r.add({"rlw", "random loss weighting: softmax of N(0,1) draws (Lin et al. 2021, arXiv 2111.10603)",
         {{"name", "rlw"}}, no_options<RandomLossWeighting>()});
  r.add({"dwa", "dynamic weight average of the loss ratios (Liu et al. 2019, CVPR)",
         {{"name", "dwa"}, {"temperature", 2}}, factory([](OptionReader& o) {
           const real temperature = o.get<real>("temperature", 2);
           return [=] { return std::make_unique<DWA>(temperature); };
         })});
  r.add({"uw", "uncertainty weighting exp(-s_i), s_i trained by SGD inside the stage (Kendall et al. 2018, CVPR)",
         {{"name", "uw"}, {"lr", 1e-3}, {"form", "unit"}}, factory([](OptionReader& o) {
           const real lr = o.get<real>("lr", real(1e-3));
           const std::string form = o.get<std::string>("form", "unit");
           o.check(form == "unit" || form == "libmtl", "form", "\"unit\" or \"libmtl\"");
           const auto f = form == "unit" ? UncertaintyWeighting::Form::unit : UncertaintyWeighting::Form::libmtl;
           return [=] { return std::make_unique<UncertaintyWeighting>(lr, f); };
         })});
}

}  // namespace mtlgrad::detail
