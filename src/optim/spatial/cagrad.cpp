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
  report(solvers::minimize_on_simplex(f, 10000, tolerance(1e-12, 1e-6), star_));
  const real gw = std::sqrt(quad(star_, nullptr));
  if (gw * gw > real(T) * std::numeric_limits<real>::epsilon()) {
    for (std::size_t i = 0; i < T; ++i) w[i] += phi / gw * star_[i] / s;
    return;
  }
  // g_w* = 0: 0 is in the hull of the supporting rows S = {i : w*_i > 0}, and the formula's
  // g_w*/‖g_w*‖ has no value. Its limit under the objective's own smoothing (‖g_w‖ replaced by
  // √(‖g_w‖² + ε), ε → 0) is fixed by the KKT conditions: d = g_0 + φv equalises g_i·d over S
  // (hence g_i·d = 0 there, as Σ_S w*_i g_i = 0) with φv in the span of the differences g_i − g_k
  // on S. So d = g_0 minus its projection onto that span: d = Jᵀ(b − E y), E's columns e_i − e_k
  // (i ∈ S, k the first of S), (EᵀGE) y = EᵀG b. This d attains the primal optimum 0 of
  // max_{‖d−g_0‖≤φ} min_i g_i·d and conflicts with no supporting task; the official code's
  // g_w/(‖g_w‖ + 1e-8) instead tends to a unit vector of the smoothed minimiser, e.g. (1−c)g_0
  // for collinear rows, which conflicts with a task there.
  support_.clear();
  for (std::size_t i = 0; i < T; ++i)
    if (star_[i] > 0) support_.push_back(i);
  const std::size_t m = support_.size() < 2 ? 0 : support_.size() - 1;
  if (m == 0) return;  // one supporting row, g_k = 0: d = g_0 / s
  const std::size_t k = support_[0];
  if (A_.shape(0) != m || A_.shape(1) != m) A_.resize({m, m});
  y_.resize(m);
  for (std::size_t a = 0; a < m; ++a) {
    const std::size_t i = support_[a + 1];
    for (std::size_t b = 0; b < m; ++b) {
      const std::size_t j = support_[b + 1];
      A_(a, b) = Gn_(i, j) - Gn_(i, k) - Gn_(k, j) + Gn_(k, k);
    }
    y_[a] = Gb_[i] - Gb_[k];
  }
  solvers::symmetric_pinv_solve(A_, y_);
  for (std::size_t a = 0; a < m; ++a) {
    w[support_[a + 1]] -= y_[a] / s;
    w[k] += y_[a] / s;
  }
}

nlohmann::json CAGrad::options() const { return {{"name", name()}, {"c", c_}, {"rescale", rescale_}}; }

}  // namespace mtlgrad
