#include "mtlgrad/optim/imtl.hpp"

#include <cmath>
#include <limits>

#include "mtlgrad/optim/solvers.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {

void IMTLG::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  const std::size_t T = G.shape(0);
  w.assign(T, real(0));
  if (!(trace(G) > 0)) return;
  normalized_gramian(G, real(0), real(0), Gn_);
  solvers::symmetric_eigen(Gn_, values_, V_);
  const real cutoff = solvers::rank_cutoff(values_);
  for (std::size_t k = 0; k < T; ++k) {
    if (!(values_[k] > cutoff)) continue;
    real coef = 0;  // V_kᵀ sqrt(diag G) / λ_k
    for (std::size_t i = 0; i < T; ++i) coef += V_(i, k) * std::sqrt(std::max(Gn_(i, i), real(0)));
    coef /= values_[k];
    for (std::size_t i = 0; i < T; ++i) w[i] += coef * V_(i, k);
  }
  real sum = 0, mass = 0;
  for (real v : w) sum += v, mass += std::abs(v);
  if (!(std::abs(sum) > real(T) * std::numeric_limits<real>::epsilon() * mass)) return w.assign(T, real(0));
  for (real& v : w) v /= sum;
}

namespace detail {

// list order: 120
void register_aggregator_imtl_g(Registry<Aggregator>& r) {
  r.add({"imtl-g", "impartial MTL, gradient part: equal projections on every unit gradient (Liu et al. 2021, ICLR)",
         {}, no_options<IMTLG>()});
}

}  // namespace detail

}  // namespace mtlgrad
