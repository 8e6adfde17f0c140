#pragma once
/// @file agreement.hpp
/// Gradient agreement, or task relatedness as the optimizer sees it (docs/algorithms.md, "Gradient agreement").
///
/// AgreementTracker: fed one StepRecord per step, it keeps for every pair (i, j)
///   - c_ij(t) = cos(g_i, g_j) of the ORIGINAL task gradients (StepRecord::cos; 0 when a norm is 0)
///   - k_ij(t) = 1[g_i·g_j < 0] = 1[c_ij(t) < 0]
/// and reports, over the n recorded steps,
///   - plain means         c̄_ij = (1/n) Σ_t c_ij(t)   (the agreement matrix)
///                         k̄_ij = (1/n) Σ_t k_ij(t)   (the conflict-rate matrix)
///   - running means (EMA) e ← β e + (1−β) x from e = 0, reported BIAS-CORRECTED as
///                         ê = e / (1 − βⁿ)  (as Adam's moments), so ê is a weighted mean of the
///                         n values with weights ∝ β^(n−t) from the first step on, and a constant
///                         input x gives ê = x exactly (up to rounding) at every n. β = 0 is the last value.
///   - the history: (step, c_ij for i < j) of every recorded step whose number is a multiple of
///     history_every (0: no history).
/// Skipped steps (StepRecord::skipped, non-finite gradients) are not recorded.
///
/// best_grouping(A, k): the partition of the T tasks into exactly k non-empty groups that
/// maximises the mean agreement inside groups,
/// \f[ \mathrm{score}(\pi) = \frac{1}{|W_\pi|} \sum_{(i,j) \in W_\pi} \tfrac12 (A_{ij} + A_{ji}),
///     \qquad W_\pi = \{ (i, j) : i < j,\ \pi(i) = \pi(j) \} \f]
/// i.e. the mean over ALL within-group pairs, pooled over the groups (a group of m tasks brings
/// m(m−1)/2 pairs; singletons bring none). Only for k = T is W empty; that single partition
/// scores 0. Exhaustive over the S(T, k) set partitions (restricted growth strings, T ≤ 10:
/// at most 42 525 partitions); ties go to the first partition in lexicographic order of the
/// group labels, which are numbered by first appearance (task 0 is in group 0).
///
/// TagAffinity: the look-ahead affinity of TAG (Fifty et al. 2021, "Efficiently Identifying Task
/// Groupings for Multi-Task Learning", NeurIPS, arXiv 2109.04617, eq. 3):
/// \f[ Z_{i \to j} = 1 - \frac{L_j(\theta_s - \eta\, \nabla_{\theta_s} L_i,\ \theta_j)}{L_j(\theta_s, \theta_j)} \f]
/// one SGD step of the shared parameters on task i alone (unweighted L_i, heads untouched), on
/// the model's current batch, at the model's current parameters: the gradients are recomputed
/// there (one forward + T reverse sweeps) and each row i costs one more forward. The parameters
/// are restored bit-exactly. Z_{i→i} is kept (the step's own progress). Z > 0: a step on i lowers
/// L_j. A pair whose L_j(θ_s) is 0 or whose look-ahead loss is not finite gives no value that
/// time; the tracker averages each pair over the times it has a value.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/mtl/trainer.hpp"

namespace mtlgrad {

struct AgreementOptions {
  real beta = real(0.99);          ///< EMA decay, in [0, 1)
  std::size_t history_every = 1;   ///< keep every n-th step's cosines (by step number); 0: none

  /// Throws std::invalid_argument naming the option ("agreement: beta = 1 is out of range [0, 1)").
  void validate() const;
};

/// One history entry: the step number and c_ij for i < j, row by row.
struct AgreementSample {
  std::size_t step = 0;
  std::vector<real> cos;
};

class AgreementTracker {
 public:
  explicit AgreementTracker(AgreementOptions o = {});

  /// Records one step (ignored if r.skipped). The first record fixes T; a record with another T
  /// (cos not T×T) throws std::invalid_argument naming both.
  void record(const StepRecord& r);
  /// Adds one TAG affinity matrix (T×T). Entries that are not finite are not counted.
  void record_tag(const Tensor& Z);

  std::size_t tasks() const { return T_; }
  std::size_t count() const { return n_; }      ///< recorded steps
  std::size_t tag_count() const { return tag_n_; }  ///< TAG matrices recorded

  Tensor mean_cos() const;        ///< c̄ (T×T; diagonal 1 where a gradient was nonzero)
  Tensor conflict_rate() const;   ///< k̄ (T×T; diagonal 0)
  Tensor ema_cos() const;         ///< bias-corrected EMA of c
  Tensor ema_conflict() const;    ///< bias-corrected EMA of k
  Tensor mean_tag() const;        ///< Z averaged per pair over its values (0 where none)
  const std::vector<AgreementSample>& history() const { return history_; }
  const AgreementOptions& options() const { return o_; }

  /// Everything, for checkpoints: a restored tracker continues bit-identically.
  nlohmann::json state() const;
  /// Throws std::invalid_argument ("agreement state: ...") on a malformed state.
  void load_state(const nlohmann::json& state);

 private:
  void init(std::size_t T);
  Tensor corrected(const Tensor& ema) const;

  AgreementOptions o_;
  std::size_t T_ = 0, n_ = 0, tag_n_ = 0;
  real beta_pow_ = 1;  ///< βⁿ
  Tensor sum_cos_, sum_conflict_, ema_cos_, ema_conflict_, tag_sum_, tag_count_;
  std::vector<AgreementSample> history_;
};

struct Grouping {
  std::vector<std::size_t> group;  ///< task → group id in [0, k), numbered by first appearance
  real score = 0;                  ///< the mean within-group agreement (above)
  std::size_t pairs = 0;           ///< |W|
};

/// The best partition of the tasks of A (T×T) into k groups. Throws std::invalid_argument when A
/// is not square, k is not in [1, T], or T > 10 (the exhaustive search would be too large).
Grouping best_grouping(const Tensor& A, std::size_t k);
/// score(π) of a given partition (group ids per task), for checks and reports.
real grouping_score(const Tensor& A, const std::vector<std::size_t>& group, std::size_t* pairs = nullptr);

/// TAG's Z at the model's current parameters on its current batch. Owns its buffers.
class TagAffinity {
 public:
  /// Writes Z (T×T). lr is η (> 0). Throws std::invalid_argument for lr <= 0 or a model whose
  /// number of losses disagrees with the layout.
  void compute(MultiTaskModel& model, const ParameterLayout& layout, real lr, Tensor& Z);

 private:
  void restore(const ParameterLayout& layout);

  Tape tape_;
  std::vector<Var> losses_;
  TaskGradients grads_;
  std::vector<Tensor> saved_;
  std::vector<real> base_, ones_;
};

}  // namespace mtlgrad
