#include "mtlgrad/optim/cagrad.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mtlgrad/optim/solvers.hpp"

#include "registry_parts.hpp"

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
  // g_w* = 0 (0 in the hull of the rows that carry w*) leaves the formula's g_w*/‖g_w*‖ without a
  // value, and the projected gradient only approaches that kink (‖g_w‖ ~ 1e-6 after its stop, with
  // φ/‖g_w‖ weights of 1e5). Its limit under the objective's own smoothing (‖g_w‖ replaced by
  // √(‖g_w‖² + ε), ε → 0) is fixed by the KKT conditions: d = g_0 + φv equalises g_i·d over the
  // support S (hence g_i·d = 0 there, as Σ_S w_i g_i = 0) with φv in the span of the differences
  // g_i − g_k on S. So d = g_0 minus its projection onto that span: d = Jᵀ(b − E y), E's columns
  // e_i − e_k (i ∈ S, k the first of S), (EᵀGE) y = EᵀG b, with S the support of the exact
  // min-norm point (Wolfe) when that is 0. The candidate is taken when it is primal-optimal:
  // inside the ball ‖d − g_0‖ ≤ φ and conflicting with no task (min_i g_i·d ≥ 0 = the optimum
  // whenever 0 is in the hull), up to rounding. The official code's g_w/(‖g_w‖ + 1e-8) tends to
  // another limit, e.g. (1−c)g_0 for collinear rows, which conflicts with a task there.
  if (degenerate_limit(T, phi, s, w)) return;
  const real gw = std::sqrt(quad(star_, nullptr));
  if (gw * gw > real(T) * std::numeric_limits<real>::epsilon())
    for (std::size_t i = 0; i < T; ++i) w[i] += phi / gw * star_[i] / s;
}

bool CAGrad::degenerate_limit(std::size_t T, real phi, real s, std::vector<real>& w) {
  constexpr real eps = std::numeric_limits<real>::epsilon();
  report(solvers::min_norm_simplex(Gn_, 1000, 0, hull_));
  real q0 = 0;
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) q0 += hull_[i] * Gn_(i, j) * hull_[j];
  if (!(q0 <= real(T) * eps)) return false;  // 0 is not in the hull (tr(Gn) = 1)
  // The support of the min-norm point. Wolfe's affine solves near a singular corral leave weights
  // of ~1e-13 on rows that are not support (measured: 1.9e-13 on the fixture's 4-task case), and
  // each would add a direction to the span: a weight below √ε·max w counts as 0.
  const real cut = std::sqrt(eps) * *std::max_element(hull_.begin(), hull_.end());
  support_.clear();
  for (std::size_t i = 0; i < T; ++i)
    if (hull_[i] > cut) support_.push_back(i);
  cand_.assign(T, real(1) / real(T));
  const std::size_t m = support_.size() < 2 ? 0 : support_.size() - 1;
  if (m > 0) {
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
      cand_[support_[a + 1]] -= y_[a];
      cand_[k] += y_[a];
    }
  }
  // Primal optimality, in G: ‖d − g_0‖² = (v − b)ᵀGn(v − b) ≤ φ², (Gn v)_i ≥ 0.
  const real slack = 64 * real(T) * eps;
  real dist = 0;
  for (std::size_t i = 0; i < T; ++i) {
    real r = 0, gi = 0;
    for (std::size_t j = 0; j < T; ++j) {
      r += Gn_(i, j) * (cand_[j] - real(1) / real(T));
      gi += Gn_(i, j) * cand_[j];
    }
    if (gi < -slack) return false;
    dist += (cand_[i] - real(1) / real(T)) * r;
  }
  if (!(dist <= phi * phi * (1 + slack) + slack)) return false;
  for (std::size_t i = 0; i < T; ++i) w[i] = cand_[i] / s;
  return true;
}

nlohmann::json CAGrad::options() const { return {{"name", name()}, {"c", c_}, {"rescale", rescale_}}; }

namespace detail {

// list order: 100
void register_aggregator_cagrad(Registry<Aggregator>& r) {
  r.add({"cagrad", "conflict-averse gradient descent, the dual on the Gramian (Liu et al. 2021, arXiv 2110.14048)",
         {option<real>("c", real(0.5), "how far d may move from the mean gradient: radius c‖g_0‖", Range::at_least(0)),
          option<int>("rescale", 1, "d divided by 1, 1 + c² or 1 + c", Range::one_of({0, 1, 2}))},
         factory([](OptionReader& o) {
           const real c = o.require<real>("c");
           const int rescale = o.require<int>("rescale");
           return [=] { return std::make_unique<CAGrad>(c, rescale); };
         })});
}

}  // namespace detail

}  // namespace mtlgrad
