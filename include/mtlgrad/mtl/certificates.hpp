#pragma once
/// @file certificates.hpp
/// Per-step certificates of a spatial stage's direction d against the task Jacobian J (T×P, row i
/// = g_i), computed from the Gramian G = J Jᵀ, the vector J d and ‖d‖² only — O(T²) plus one
/// O(T·P) product J d the caller makes (docs/diagnostics.md has every formula and an example):
///
///   margin     min_i cos(g_i, d), cos = g_i·d / (‖g_i‖‖d‖) (0 when a norm is 0). > 0: to first
///              order the step lowers every task's loss.
///   hurt       #{i : g_i·d < 0}: tasks whose loss the step is expected to increase.
///   gap        ‖Jᵀα*‖ / max_i ‖g_i‖ with α* = argmin_{α∈Δ} αᵀGα (min_norm_simplex, MGDA's exact
///              solver): 0 iff 0 is in the convex hull of the g_i, i.e. the point is
///              Pareto-stationary (Désidéri 2012). 0 when every g_i is 0.
///   induced    #{i : g_i·d < 0 and g_i·s ≥ 0}, s = Σ_j g_j the step without surgery: tasks the
///              stage's surgery turned against the step.
///   resolved   #{i : g_i·d ≥ 0 and g_i·s < 0}: tasks whose conflict with the plain sum the
///              surgery removed.
///   grad_ratio max_i ‖g_i‖ / min_i ‖g_i‖ (inf when some g_i = 0 and another is not; 1 when all are 0).
///   loss_ratio max_i |L_i| / min_i |L_i| (the same conventions).
///
/// group_conflict_rates: the per-layer conflict map, for each group of columns [b, e) of J the
/// fraction of the T(T−1)/2 pairs i < j with g_i[b:e]·g_j[b:e] < 0 (0 for T = 1).

#include <cstddef>
#include <string>
#include <vector>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

struct Certificate {
  real margin = 0;
  std::size_t hurt = 0;
  real gap = 0;
  std::size_t induced = 0, resolved = 0;
  real grad_ratio = 1, loss_ratio = 1;
};

/// The column names of a Certificate in metrics.csv and replay.csv, in the order of certificate_values().
const std::vector<std::string>& certificate_names();
/// The Certificate's values in the order of certificate_names().
std::vector<real> certificate_values(const Certificate& c);

/// Owns the solver's buffer; reuse one per run.
class Certifier {
 public:
  /// G is T×T (J Jᵀ), Jd holds the T values g_i·d, dd = ‖d‖², losses T values (or empty: ratio 1).
  /// Throws std::invalid_argument when the sizes disagree.
  void certify(const Tensor& G, const std::vector<real>& Jd, real dd, const std::vector<real>& losses,
               Certificate& out);
  /// Jd ← J d (d is 1×P or P×1 with P = J's columns).
  static void jacobian_times(const Tensor& J, const Tensor& d, std::vector<real>& Jd);

 private:
  std::vector<real> alpha_, norms_, abs_losses_;  // reused: no allocation per step once sized
};

/// The threshold of the scale warning: a step whose grad_ratio or loss_ratio exceeds it.
constexpr real kScaleWarningRatio = 100;
/// The spatial stages whose direction depends on the tasks' gradient scales (named by the warning).
const std::vector<std::string>& scale_sensitive_stages();
/// The warning's one line for a step, or "" when neither ratio exceeds kScaleWarningRatio.
std::string scale_warning(const Certificate& c, std::size_t step, const std::string& stage);

struct ColumnGroup {
  std::string name;
  std::size_t begin = 0, end = 0;  ///< columns [begin, end) of J
};

/// rates[k] = the conflict rate of group k (above). Groups must lie inside J's columns.
void group_conflict_rates(const Tensor& J, const std::vector<ColumnGroup>& groups, std::vector<real>& rates);

}  // namespace mtlgrad
