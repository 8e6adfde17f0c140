#include "mtlgrad/optim/random_weighting.hpp"

#include <algorithm>
#include <cmath>

#include "mtlgrad/optim/gramian.hpp"

#include "registry_parts.hpp"

namespace mtlgrad {

void RandomLossWeighting::aggregate(const Tensor& J, Rng& rng, Aggregation& out) {
  check_input("rlw", J);
  const std::size_t T = J.shape(0);
  out.weights.resize(T);
  for (real& v : out.weights) v = rng.normal();
  const real top = *std::max_element(out.weights.begin(), out.weights.end());
  real sum = 0;
  for (real& v : out.weights) sum += (v = std::exp(v - top));
  for (real& v : out.weights) v /= sum;
  combine(J, out.weights, out.direction);
  out.pair_strength.resize({0, 0});
}

GradDrop::GradDrop(real leak) : leak_(leak) {
  if (!(leak >= 0 && leak <= 1))
    throw std::invalid_argument("graddrop: leak = " + std::to_string(leak) + " is out of range (expected in [0, 1])");
}

void GradDrop::aggregate(const Tensor& J, Rng& rng, Aggregation& out) {
  check_input("graddrop", J);
  const std::size_t T = J.shape(0), P = J.shape(1);
  if (out.direction.shape(0) != 1 || out.direction.shape(1) != P) out.direction.resize({1, P});
  for (std::size_t k = 0; k < P; ++k) {
    real total = 0, mass = 0;
    for (std::size_t i = 0; i < T; ++i) total += J(i, k), mass += std::abs(J(i, k));
    const real purity = mass > 0 ? (1 + total / mass) / 2 : real(0.5);
    const real u = real(rng.uniform());
    real d = 0;
    for (std::size_t i = 0; i < T; ++i) {
      const real g = J(i, k);
      const bool kept = (purity > u && g > 0) || (purity < u && g < 0);
      d += (leak_ + (1 - leak_) * (kept ? real(1) : real(0))) * g;
    }
    out.direction(0, k) = d;
  }
  out.weights.clear();
  out.pair_strength.resize({0, 0});
}

namespace detail {

// list order: 160
void register_aggregator_graddrop(Registry<Aggregator>& r) {
  r.add({"graddrop", "gradient sign dropout per coordinate (Chen et al. 2020, arXiv 2010.06808)",
         {option<real>("leak", 0, "the share of a dropped sign's gradient that passes (1: the sum)", Range::closed(0, 1))},
         factory([](OptionReader& o) {
           const real leak = o.require<real>("leak");
           return [=] { return std::make_unique<GradDrop>(leak); };
         })});
}

// list order: 180
void register_aggregator_rlw(Registry<Aggregator>& r) {
  r.add({"rlw", "random loss weighting: softmax of N(0,1) draws (Lin et al. 2021, arXiv 2111.10603)",
         {}, no_options<RandomLossWeighting>()});
}

}  // namespace detail

}  // namespace mtlgrad
