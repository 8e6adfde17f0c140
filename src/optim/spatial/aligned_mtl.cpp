#include "mtlgrad/optim/aligned_mtl.hpp"

#include <cmath>

#include "mtlgrad/optim/solvers.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {

void AlignedMTL::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  const std::size_t T = G.shape(0);
  preference(name(), pref_, T, u_);
  w = u_;
  if (!(trace(G) > 0)) return;  // rank 0: B = I
  normalized_gramian(G, real(0), real(0), Gn_);
  solvers::symmetric_eigen(Gn_, values_, V_);
  const real cutoff = solvers::rank_cutoff(values_);
  real smallest = 0;
  for (real v : values_)
    if (v > cutoff && (smallest == 0 || v < smallest)) smallest = v;
  if (smallest == 0) return;
  w.assign(T, real(0));
  for (std::size_t k = 0; k < T; ++k) {
    if (!(values_[k] > cutoff)) continue;
    real coef = 0;  // √λ_r · V_kᵀ u / √λ_k
    for (std::size_t i = 0; i < T; ++i) coef += V_(i, k) * u_[i];
    coef *= std::sqrt(smallest / values_[k]);
    for (std::size_t i = 0; i < T; ++i) w[i] += coef * V_(i, k);
  }
}

nlohmann::json AlignedMTL::options() const {
  return {{"name", name()}, {"weights", pref_}};
}

namespace detail {

// list order: 130
void register_aggregator_aligned_mtl(Registry<Aggregator>& r) {
  r.add({"aligned-mtl", "aligned MTL: gradients made orthonormal by the Gramian's eigen-decomposition (Senushkin et al. 2023)",
         {preference()}, factory([](OptionReader& o) {
           const auto pref = o.require<std::vector<real>>("weights");
           return [=] { return std::make_unique<AlignedMTL>(pref); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
