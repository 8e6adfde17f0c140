#include "mtlgrad/optim/gls.hpp"

#include <cmath>

#include "mtlgrad/optim/gramian.hpp"
#include "registry_parts.hpp"

namespace mtlgrad {

void GLS::aggregate(const Tensor& J, Rng& /*rng*/, Aggregation& out) {
  check_input("gls", J);
  const std::vector<real>& L = losses_.take(J.shape(0));
  const std::size_t T = L.size();
  real mean_log = 0;
  for (real l : L) mean_log += std::log(l);
  mean_log /= real(T);
  // exp(mean ln L − ln L_i) / T: the ratio of the geometric mean to L_i, formed in logarithms so
  // that neither the product of the losses nor the geometric mean alone under- or overflows.
  out.weights.resize(T);
  for (std::size_t i = 0; i < T; ++i) out.weights[i] = std::exp(mean_log - std::log(L[i])) / real(T);
  combine(J, out.weights, out.direction);
  out.head_scale = out.weights;
  out.pair_strength.resize({0, 0});
  out.metrics.clear();
  out.solver_capped = false;
}

namespace detail {
void register_aggregator_gls(Registry<Aggregator>& r) {
  r.add({"gls", "geometric loss strategy: the gradient of (Π L_i)^{1/T} (Chennupati et al. 2019, CVPR Workshops)",
         {}, factory([](OptionReader&) { return [] { return std::make_unique<GLS>(); }; })});
}
}  // namespace detail

}  // namespace mtlgrad
