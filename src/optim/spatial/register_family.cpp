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
    const auto pref = o.require<std::vector<real>>("weights");
    const real norm_eps = o.require<real>("norm_eps");
    const real reg_eps = o.require<real>("reg_eps");
    return [=] { return std::make_unique<Stage>(pref, norm_eps, reg_eps); };
  });
}

OptionSpec preference() {
  return option<std::vector<real>>("weights", {}, "the preference u, one per task ([] = 1/T each)");
}

OptionSchema dual_cone_schema() {
  return {preference(),
          option<real>("norm_eps", 0, "a J with ‖J‖_F² < norm_eps counts as zero (the preference combination is returned)", Range::at_least(0)),
          option<real>("reg_eps", real(1e-4), "Q = G/tr(G) + reg_eps·I: the QP needs Q positive definite", Range::above(0))};
}

}  // namespace

void register_family_aggregators(Registry<Aggregator>& r) {
  r.add({"mgda", "min-norm point of the convex hull of the task gradients (Desideri 2012; Sener & Koltun 2018)",
         {option<std::size_t>("max_iter", 1000, "iterations of the min-norm-point solver (T > 2)", Range::at_least(1)),
          option<real>("tol", real(1e-8), "the solver's tolerance", Range::at_least(0))},
         factory([](OptionReader& o) {
           const auto max_iter = o.require<std::size_t>("max_iter");
           const real tol = o.require<real>("tol");
           return [=] { return std::make_unique<MGDA>(max_iter, tol); };
         })});
  r.add({"cagrad", "conflict-averse gradient descent, the dual on the Gramian (Liu et al. 2021, arXiv 2110.14048)",
         {option<real>("c", real(0.5), "how far d may move from the mean gradient: radius c‖g_0‖", Range::at_least(0)),
          option<int>("rescale", 1, "d divided by 1, 1 + c² or 1 + c", Range::one_of({0, 1, 2}))},
         factory([](OptionReader& o) {
           const real c = o.require<real>("c");
           const int rescale = o.require<int>("rescale");
           return [=] { return std::make_unique<CAGrad>(c, rescale); };
         })});
  r.add({"gradvac", "Gradient Vaccine: pcgrad towards remembered target cosines (Wang et al. 2021, arXiv 2010.05874)",
         surgery_schema({option<real>("beta", real(0.5), "β: decay of the target cosines φ̂_ij", Range::closed(0, 1))}),
         factory([](OptionReader& o) {
           const SurgeryOptions s = SurgeryOptions::read(o);
           const real beta = o.require<real>("beta");
           return [=] { return std::make_unique<GradVac>(s, beta); };
         })});
  r.add({"imtl-g", "impartial MTL, gradient part: equal projections on every unit gradient (Liu et al. 2021, ICLR)",
         {}, no_options<IMTLG>()});
  r.add({"aligned-mtl", "aligned MTL: gradients made orthonormal by the Gramian's eigen-decomposition (Senushkin et al. 2023)",
         {preference()}, factory([](OptionReader& o) {
           const auto pref = o.require<std::vector<real>>("weights");
           return [=] { return std::make_unique<AlignedMTL>(pref); };
         })});
  r.add({"upgrad", "every row projected onto the dual cone of the rows, summed (Quinton & Rey 2024, arXiv 2406.16232)",
         dual_cone_schema(), dual_cone<UPGrad>()});
  r.add({"dualproj", "the mean projected onto the dual cone of the rows (Quinton & Rey 2024; GEM, Lopez-Paz & Ranzato 2017)",
         dual_cone_schema(), dual_cone<DualProj>()});
  r.add({"graddrop", "gradient sign dropout per coordinate (Chen et al. 2020, arXiv 2010.06808)",
         {option<real>("leak", 0, "the share of a dropped sign's gradient that passes (1: the sum)", Range::closed(0, 1))},
         factory([](OptionReader& o) {
           const real leak = o.require<real>("leak");
           return [=] { return std::make_unique<GradDrop>(leak); };
         })});
  r.add({"nash-mtl", "Nash bargaining solution G a = 1/a, scaled to max_norm (Navon et al. 2022, arXiv 2202.01017)",
         {option<real>("max_norm", 1, "‖d‖ is scaled down to at most max_norm (0: off)", Range::at_least(0)),
          option<real>("reg_eps", real(1e-8), "reg_eps·‖g_i‖² added to G_ii: α stays finite on a rank-deficient J",
                       Range::above(0))},
         factory([](OptionReader& o) {
           const real max_norm = o.require<real>("max_norm");
           const real reg_eps = o.require<real>("reg_eps");
           return [=] { return std::make_unique<NashMTL>(max_norm, reg_eps); };
         })});
  r.add({"rlw", "random loss weighting: softmax of N(0,1) draws (Lin et al. 2021, arXiv 2111.10603)",
         {}, no_options<RandomLossWeighting>()});
  r.add({"dwa", "dynamic weight average of the loss ratios (Liu et al. 2019, CVPR)",
         {option<real>("temperature", 2, "softmax temperature of the loss ratios", Range::above(0))},
         factory([](OptionReader& o) {
           const real temperature = o.require<real>("temperature");
           return [=] { return std::make_unique<DWA>(temperature); };
         })});
  r.add({"uw", "uncertainty weighting exp(-s_i), s_i trained by SGD inside the stage (Kendall et al. 2018, CVPR)",
         {option<real>("lr", real(1e-3), "learning rate of the log-variances s_i", Range::at_least(0)),
          option<std::string>("form", "unit",
                              "\"unit\": Σ exp(−s_i)L_i + s_i from s = 0; \"libmtl\": Kendall et al.'s Eq. 7 from s = −0.5",
                              Range::one_of({"unit", "libmtl"}))},
         factory([](OptionReader& o) {
           const real lr = o.require<real>("lr");
           const std::string form = o.require<std::string>("form");
           const auto f = form == "unit" ? UncertaintyWeighting::Form::unit : UncertaintyWeighting::Form::libmtl;
           return [=] { return std::make_unique<UncertaintyWeighting>(lr, f); };
         })});
}

}  // namespace mtlgrad::detail
