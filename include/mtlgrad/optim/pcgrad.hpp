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
/// No epsilon: a projection happens only when g_i'·g_j < 0, which implies g_j ≠ 0. The kernel
/// also requires G_jj > 0, which only matters when ‖g_j‖² underflows to 0 for a nonzero g_j.
///
/// Options: order "random" (default: a fresh uniform permutation π_i = rng.permutation(T) for
/// every i at every step, j = i skipped, as in the paper and TorchJD) | "fixed" (j = 0..T−1);
/// reduction "sum" (default) | "mean".
///
///     auto a = make_aggregator({{"name", "pcgrad"}, {"order", "fixed"}});
///     a->aggregate(J, rng, out);   // out.direction, out.weights
///
/// Golden value (TorchJD): J = [[-4,1,1],[6,1,1]] → d = [0.5848, 3.8012, 3.8012],
/// w = [2.2222, 1.5789].

#include <vector>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

struct SurgeryOptions {
  enum class Order { random, fixed };
  enum class Reduction { sum, mean };
  Order order = Order::random;
  Reduction reduction = Reduction::sum;

  /// Reads "order" and "reduction" (ConfigError naming the key and the allowed values).
  static SurgeryOptions read(OptionReader& r);
  /// Adds "order" and "reduction" to `j`.
  void write(nlohmann::json& j) const;
};

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
