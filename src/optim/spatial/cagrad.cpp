#include "mtlgrad/optim/cagrad.hpp"

#include <cmath>
#include <limits>

#include "mtlgrad/optim/solvers.hpp"

namespace mtlgrad {

CAGrad::CAGrad(real c, int rescale) : c_(c), rescale_(rescale) {
  if (!(c >= 0)) throw std::invalid_argument("cagrad: c = " + std::to_string(c) + " is out of range (expected >= 0)");
  if (rescale < 0 || rescale > 2)
    throw std::invalid_argument("cagrad: rescale = " + std::to_string(rescale) + " is out of range (expected 0, 1 or 2)");
}

void CAGrad::weigh(const Tensor& G, Rng& /*rng*/, std::vector<real>& w) {
  const std::size_t T = G.shape(0);
  const real s = rescale_ == 0 ? real(1) : rescale_ == 1 ? 1 + c_ * c_ : 1 + c_;
  w.assign(T, real(1) / (real(T) * s));
  normalized_gramian(G, real(0), real(0), Gn_);
  Gb_.assign(T, real(0));  // G b with b = 1/T: the products g_i·g_0
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) Gb_[i] += Gn_(i, j) / real(T);
  real g0_sq = 0;
  for (real v : Gb_) g0_sq += v / real(T);
  const real phi = c_ * std::sqrt(std::max(g0_sq, real(0)));
  if (!(phi > 0)) return;
  const auto quad = [&](const std::vector<real>& x, std::vector<real>* Gx) {
    real q = 0;
    for (std::size_t i = 0; i < T; ++i) {
      real r = 0;
      for (std::size_t j = 0; j < T; ++j) r += Gn_(i, j) * x[j];
      if (Gx) (*Gx)[i] = r;
      q += x[i] * r;
    }
    return std::max(q, real(0));
  };
  const solvers::SimplexObjective f = [&](const std::vector<real>& x, std::vector<real>& grad) {
    const real q = quad(x, &grad);
    const real norm = std::sqrt(q);
    real value = phi * norm;
    for (std::size_t i = 0; i < T; ++i) {
      value += x[i] * Gb_[i];
      grad[i] = Gb_[i] + (norm > 0 ? phi * grad[i] / norm : real(0));
    }
    return value;
  };
  star_.assign(T, real(1) / real(T));
  solvers::minimize_on_simplex(f, 10000, tolerance(1e-12, 1e-6), star_);
  const real gw = std::sqrt(quad(star_, nullptr));
  if (!(gw * gw > real(T) * std::numeric_limits<real>::epsilon())) return;
  for (std::size_t i = 0; i < T; ++i) w[i] += phi / gw * star_[i] / s;
}

nlohmann::json CAGrad::options() const { return {{"name", name()}, {"c", c_}, {"rescale", rescale_}}; }

}  // namespace mtlgrad
