#include "mtlgrad/mtl/certificates.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "mtlgrad/core/blas.hpp"
#include "mtlgrad/optim/solvers.hpp"

namespace mtlgrad {
namespace {
// max/min of non-negative values with the header's conventions (all 0: 1; a 0 among non-zeros: inf).
real ratio(const std::vector<real>& v) {
  if (v.empty()) return 1;
  const real hi = *std::max_element(v.begin(), v.end()), lo = *std::min_element(v.begin(), v.end());
  if (hi == 0) return 1;
  if (lo == 0) return std::numeric_limits<real>::infinity();
  return hi / lo;
}
}  // namespace

const std::vector<std::string>& certificate_names() {
  static const std::vector<std::string> n = {"cert_margin",  "cert_hurt",       "cert_gap",       "cert_induced",
                                             "cert_resolved", "cert_grad_ratio", "cert_loss_ratio"};
  return n;
}

std::vector<real> certificate_values(const Certificate& c) {
  return {c.margin, real(c.hurt), c.gap, real(c.induced), real(c.resolved), c.grad_ratio, c.loss_ratio};
}

void Certifier::jacobian_times(const Tensor& J, const Tensor& d, std::vector<real>& Jd) {
  const std::size_t T = J.shape(0), P = J.shape(1);
  if (d.size() != P)
    throw std::invalid_argument("certificates: d has " + std::to_string(d.size()) + " values but J has " +
                                std::to_string(P) + " columns");
  Jd.resize(T);
  for (std::size_t i = 0; i < T; ++i) Jd[i] = blas::dot(P, J.data() + i * P, d.data());
}

void Certifier::certify(const Tensor& G, const std::vector<real>& Jd, real dd, const std::vector<real>& losses,
                        Certificate& out) {
  const std::size_t T = G.shape(0);
  if (G.shape(1) != T || Jd.size() != T || (!losses.empty() && losses.size() != T))
    throw std::invalid_argument("certificates: G is " + shape_str(G) + ", J d has " + std::to_string(Jd.size()) +
                                " values and there are " + std::to_string(losses.size()) + " losses");
  out = Certificate{};
  if (T == 0) return;
  const real dnorm = std::sqrt(std::max(dd, real(0)));
  std::vector<real>& norms = norms_;
  norms.resize(T);
  real max_norm = 0;
  out.margin = std::numeric_limits<real>::infinity();
  for (std::size_t i = 0; i < T; ++i) {
    norms[i] = std::sqrt(std::max(G(i, i), real(0)));
    max_norm = std::max(max_norm, norms[i]);
    const real n = norms[i] * dnorm;
    out.margin = std::min(out.margin, n > 0 ? Jd[i] / n : real(0));
    real s = 0;  // g_i·Σ_j g_j
    for (std::size_t j = 0; j < T; ++j) s += G(i, j);
    const bool hurt = Jd[i] < 0;
    out.hurt += hurt;
    out.induced += hurt && s >= 0;
    out.resolved += !hurt && s < 0;
  }
  out.grad_ratio = ratio(norms);
  abs_losses_.resize(losses.size());
  for (std::size_t i = 0; i < losses.size(); ++i) abs_losses_[i] = std::abs(losses[i]);
  out.loss_ratio = ratio(abs_losses_);
  if (max_norm == 0) return;  // every g_i = 0: stationary, gap 0
  // MGDA's defaults (mgda.hpp): the exact min-norm point, up to its duality-gap tolerance.
  solvers::min_norm_simplex(G, 1000, real(1e-8), alpha_);
  real q = 0;
  for (std::size_t i = 0; i < T; ++i)
    for (std::size_t j = 0; j < T; ++j) q += alpha_[i] * G(i, j) * alpha_[j];
  out.gap = std::sqrt(std::max(q, real(0))) / max_norm;
}

const std::vector<std::string>& scale_sensitive_stages() {
  static const std::vector<std::string> s = {"sum",      "mean",   "weighted", "pcgrad",  "cagrad",
                                             "gradvac",  "mgda",   "graddrop", "upgrad",  "dualproj"};
  return s;
}

std::string scale_warning(const Certificate& c, std::size_t step, const std::string& stage) {
  // An infinite ratio means a task with a zero gradient or loss (a task weighted 0, as in the
  // single-task baselines, or one already solved), not tasks of different scales: no warning.
  const auto above = [](real r) { return std::isfinite(r) && r > kScaleWarningRatio; };
  if (!above(c.grad_ratio) && !above(c.loss_ratio)) return "";
  char buf[160];
  std::snprintf(buf, sizeof buf, "step %zu: the task gradients' norms differ by a factor %.3g and the losses by %.3g (above %g)",
                step, double(c.grad_ratio), double(c.loss_ratio), double(kScaleWarningRatio));
  std::string names;
  for (const auto& n : scale_sensitive_stages()) names += (names.empty() ? "" : ", ") + n;
  const auto& s = scale_sensitive_stages();
  const bool sensitive = std::find(s.begin(), s.end(), stage) != s.end();
  return std::string(buf) + "; the stage '" + stage + "' " + (sensitive ? "is" : "is not") +
         " among those known to be sensitive to scale (" + names +
         "): consider task_weights or a scale-invariant stage (imtl-g, aligned-mtl, nash-mtl)";
}

void group_conflict_rates(const Tensor& J, const std::vector<ColumnGroup>& groups, std::vector<real>& rates) {
  const std::size_t T = J.shape(0), P = J.shape(1);
  rates.assign(groups.size(), real(0));
  const std::size_t pairs = T * (T - 1) / 2;
  if (pairs == 0) return;
  for (std::size_t k = 0; k < groups.size(); ++k) {
    const auto& g = groups[k];
    if (g.begin > g.end || g.end > P)
      throw std::invalid_argument("group_conflict_rates: group " + g.name + " [" + std::to_string(g.begin) + ", " +
                                  std::to_string(g.end) + ") is outside J's " + std::to_string(P) + " columns");
    std::size_t n = 0;
    for (std::size_t i = 0; i < T; ++i)
      for (std::size_t j = i + 1; j < T; ++j)
        n += blas::dot(g.end - g.begin, J.data() + i * P + g.begin, J.data() + j * P + g.begin) < 0;
    rates[k] = real(n) / real(pairs);
  }
}

}  // namespace mtlgrad
