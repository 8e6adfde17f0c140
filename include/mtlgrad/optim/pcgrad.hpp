#pragma once
/// @file pcgrad.hpp
/// PCGrad, "Gradient Surgery for Multi-Task Learning" (Yu et al. 2020, arXiv 2001.06782,
/// Algorithm 1), computed on the Gramian, and the surgery kernel that the memory family
/// (memory.hpp, pcgrad_momentum.hpp) shares with it.
///
/// For every task i, starting from g_i' = g_i and visiting j ≠ i in the order π_i:
/// \f[ g_i'·g_j < 0 \;\Rightarrow\; g_i' \leftarrow g_i' - λ_{ij}\,\frac{g_i'·g_j}{\|g_j\|^2}\,g_j \f]
/// where g_j is always the ORIGINAL gradient, and d = Σ_i g_i' (reduction "sum") or that over T
/// ("mean"). PCGrad is λ_ij = 1.
///
/// Every g_i' stays a linear combination of the original rows, g_i' = Σ_k c_ik g_k, so
/// g_i'·g_j = (c_i G)_j with G = J Jᵀ: the kernel keeps c_i (T numbers) and needs only G —
/// O(T²) scalar work per task — and the direction is one d = Jᵀw with w = Σ_i c_i.
///
/// No epsilon by default: a projection happens only when g_i'·g_j < 0, which implies g_j ≠ 0. The
/// kernel also requires ‖g_j‖² + eps > 0, which only matters when ‖g_j‖² underflows to 0 for a
/// nonzero g_j.
///
/// Options: order "random" (default: a fresh uniform permutation π_i = rng.permutation(T) for
/// every i at every step, j = i skipped, as in the paper and TorchJD) | "fixed" (j = 0..T−1) |
/// "shared" (pcgrad only: one permutation per step, the same π for every i); reduction "sum"
/// (default) | "mean". pcgrad alone also has the options by which the public implementations
/// differ (docs/pcgrad-implementations.md):
///   - self_projection (false): j = i is visited too, g_i' projected on its own original g_i
///     when g_i'·g_i < 0 (possible from T = 3 on, once g_i' was projected on other rows);
///   - eps (0): the projection divides by ‖g_j‖² + eps;
///   - preset ("none"): "paper" | "seed-blog" | "libmtl" | "official-tf" | "pytorch-pcgrad" sets
///     order, reduction, self_projection and eps as that code does (PCGradPreset).
/// The defaults are the paper's Algorithm 1, bit-identical to pcgrad before these options.
///
///     auto a = make_aggregator({{"name", "pcgrad"}, {"order", "fixed"}});
///     a->aggregate(J, rng, out);   // out.direction, out.weights
///
/// Golden value (TorchJD): J = [[-4,1,1],[6,1,1]] → d = [0.5848, 3.8012, 3.8012],
/// w = [2.2222, 1.5789].

#include <string>
#include <vector>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

struct SurgeryOptions {
  enum class Order { random, fixed, shared };
  enum class Reduction { sum, mean };
  Order order = Order::random;
  Reduction reduction = Reduction::sum;
  bool self_projection = false;  ///< visit j = i too (pcgrad's option; the relatives keep false)
  real eps = 0;                  ///< added to ‖g_j‖² in the projection (pcgrad's option)

  /// Reads "order" ("random" or "fixed") and "reduction" (ConfigError naming the key and the
  /// allowed values).
  static SurgeryOptions read(OptionReader& r);
  /// Adds "order" and "reduction" to `j` (pcgrad adds its own self_projection and eps).
  void write(nlohmann::json& j) const;
};

/// The settings of one public PCGrad implementation, read from its code:
///   paper          random  sum   j ≠ i  eps 0      Yu et al. 2020, Algorithm 1; TorchJD; mtlgrad's default
///   seed-blog      shared  sum   j = i  eps 1e-12  the PCGrad blog post's code
///   libmtl         random  sum   j = i  eps 1e-8   LibMTL, weighting/PCGrad.py
///   official-tf    fixed   sum   j = i  eps 0      tianheyu927/PCGrad, PCGrad_tf.py (its shuffle is a no-op)
///   pytorch-pcgrad random  mean  j = i  eps 0      WeiChengTseng/Pytorch-PCGrad (mean whatever `reduction`)
/// Where a code gives NaN (official-tf on a zero row: 0/0), the preset skips the zero row as
/// every other code does. Throws std::invalid_argument for an unknown name.
SurgeryOptions pcgrad_preset(const std::string& name);

/// The surgery of Algorithm 1 on the Gramian, with a per-pair strength.
class SurgeryKernel {
 public:
  /// Writes w (T values) with d = Σ_i w_i g_i. `strength` is the T×T matrix λ (read only off
  /// the diagonal) or a 0×0 tensor for λ = 1 (PCGrad). Draws T permutations from `rng` when the
  /// order is random, none when it is fixed.
  void weights(const Tensor& G, const Tensor& strength, const SurgeryOptions& o, Rng& rng,
               std::vector<real>& w);
  /// The 0×0 strength: λ = 1 for every pair (PCGrad).
  static const Tensor& full_strength();

 private:
  std::vector<real> c_;  // the coefficients of g_i' in the original rows
  std::vector<std::size_t> order_;
};

/// PCGrad: the kernel with λ = 1; stateless.
class PCGrad : public Aggregator {
 public:
  explicit PCGrad(SurgeryOptions o = {}) : o_(o) {}
  std::string name() const override { return "pcgrad"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  nlohmann::json options() const override;

 private:
  SurgeryOptions o_;
  SurgeryKernel kernel_;
  Tensor G_;
};

}  // namespace mtlgrad
