#pragma once
/// @file gradvac.hpp
/// Gradient Vaccine, "Gradient Vaccine: Investigating and Improving Multi-task Optimization in
/// Massively Multilingual Models" (Wang et al. 2021, ICLR, arXiv 2010.05874, Algorithm 1).
/// PCGrad's loop with a remembered target cosine φ̂_ij per ordered pair: for every task i, starting
/// from g_i' = g_i and visiting j ≠ i in the order π_i (as pcgrad: option order),
/// \f[ φ = \cos(g_i', g_j);\quad φ < φ̂_{ij} \Rightarrow g_i' \leftarrow g_i' + g_j\,
///     \frac{\|g_i'\|\,(φ̂_{ij}\sqrt{1-φ^2} - φ\sqrt{1-φ̂_{ij}^2})}{\|g_j\|\sqrt{1-φ̂_{ij}^2}};
///     \quad φ̂_{ij} \leftarrow (1-β)\,φ̂_{ij} + β\,φ \f]
/// (g_j the ORIGINAL gradient; φ̂ updated whether or not g_i' moved, as in the official code and
/// LibMTL), then d = Σ_i g_i' (reduction "sum", or "mean"). Targets start at 0, where the update is
/// exactly pcgrad's projection, so a fresh gradvac equals pcgrad with the same order and Rng.
///
/// Computed on the Gramian like pcgrad (g_i' = Σ_k c_k g_k, so ‖g_i'‖² = cᵀGc, g_i'·g_j = (Gc)_j).
/// Conventions: cos = 0 when either norm is 0 (then nothing moves unless φ̂ > 0, and a zero g_j
/// never moves g_i'); a target with 1 − φ̂² = 0 moves nothing (its formula divides by 0).
///
/// Options: beta = 0.5 ∈ [0, 1], order "random" | "fixed", reduction "sum" | "mean". State:
/// {"t", "tasks", "phi": T×T} (reset() zeroes it; a change of T is an error). The whole-model vs
/// per-layer granularity of the paper is the trainer's concern (it decides what J holds).

#include <cstdint>

#include "mtlgrad/optim/pcgrad.hpp"

namespace mtlgrad {

class GradVac : public Aggregator {
 public:
  explicit GradVac(SurgeryOptions o = {}, real beta = real(0.5));
  std::string name() const override { return "gradvac"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  bool weighting() const override { return true; }
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override;

  const Tensor& targets() const { return phi_; }

 private:
  SurgeryOptions o_;
  real beta_;
  std::uint64_t t_ = 0;
  std::size_t T_ = 0;
  Tensor phi_, G_;
  std::vector<real> c_, Gc_;
  std::vector<std::size_t> order_;
};

}  // namespace mtlgrad
