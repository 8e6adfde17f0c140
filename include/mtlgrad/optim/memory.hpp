#pragma once
/// @file memory.hpp
/// Surgery with a memory (docs/algorithms.md, "Surgery with a memory"): PCGrad whose projection of g_i against g_j has a
/// strength λ_ij(t) ∈ [0,1] remembered across steps, the way Momentum, AdaGrad, RMSProp and Adam
/// gave the step a memory. The surgery is SurgeryKernel (pcgrad.hpp), shared with pcgrad:
/// \f[ g_i'·g_j < 0 \;\Rightarrow\; g_i' \leftarrow g_i' - λ_{ij}^{\,p}\,\frac{g_i'·g_j}{\|g_j\|^2}\,g_j \f]
///
/// Per ordered pair (i ≠ j), with c = cos_ij of this step's ORIGINAL gradients (0 when a norm is
/// 0) and k = 1[g_i·g_j < 0], at step t = 1, 2, ... (the memory starts at 0):
///
/// | stage          | memory                                   | λ_ij(t)                                 |
/// |----------------|------------------------------------------|-----------------------------------------|
/// | ada-pcgrad     | n += k                                   | n / t                                   |
/// | rmsprop-pcgrad | r = ρ r + (1−ρ) k   (rho = 0.9)          | r / (1 − ρ^t)                           |
/// | adam-pcgrad    | m = β1 m + (1−β1) c; v = β2 v + (1−β2) c² | clip(−m̂ / (√v̂ + ε), 0, 1), m̂ = m/(1−β1^t), v̂ = v/(1−β2^t) |
///
/// (betas = [0.9, 0.999], eps = 1e-8.) Option power p ≥ 0 uses λ^p, with 0^0 = 1, so p = 0 is
/// PCGrad exactly; p = 1 is the default. order / reduction as for pcgrad.
///
/// A pair that conflicts at every step gets λ = 1 (projected fully; adam: when its cosine is
/// steady — a cosine that varies gives |mean c| / rms c < 1); a pair whose conflicts come and go
/// is projected in proportion to how often (ada, rmsprop: λ → 1/2 when they alternate) or how
/// consistently (adam, the conflict's signal-to-noise ratio: when the sign of a steady cosine
/// alternates, λ → (1−β1)/(1+β1) ≈ 0.053 at the conflicting steps and 0 at the others).
///
/// When eps = 0 and a pair has had only zero gradients (m = v = 0), adam-pcgrad takes λ = 0.
///
/// Equality with pcgrad. At t = 1 (and at every step when rho = 0 or betas = [0, 0], adam up to
/// ε) λ_ij = k_ij, so every pair that conflicts in the ORIGINAL gradients is projected fully and
/// the others not at all. PCGrad also projects g_i' onto a pair (i, j) that did not conflict
/// originally but conflicts after an earlier projection of g_i' ("induced" conflicts, possible
/// only for T ≥ 3): there the memory stages do not. So they equal pcgrad exactly for T = 2,
/// and for T ≥ 3 whenever no induced conflict occurs.
///
/// State (O(T²), reported by state()): {"t", "tasks", and the memory tensors}. A Jacobian whose T
/// differs from the state's is an error (reset() starts over). out.pair_strength is the T×T
/// matrix λ^p used this step (diagonal 0).

#include <cstdint>
#include <string>

#include "mtlgrad/optim/pcgrad.hpp"

namespace mtlgrad {

/// Throws std::invalid_argument("<stage>: the Jacobian has T = <got> tasks but the state holds
/// T = <expected> ...") when they differ.
void check_task_count(const std::string& stage, std::size_t expected, std::size_t got);

/// The shared shell of the three pair-memory stages: validation, t, power, the kernel.
class PairMemoryPCGrad : public Aggregator {
 public:
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) final;
  bool weighting() const override { return true; }
  bool pair_strengths() const override { return true; }
  void reset() final;
  nlohmann::json state() const final;
  void load_state(const nlohmann::json& state) final;
  nlohmann::json options() const final;

  std::uint64_t step() const { return t_; }

 protected:
  /// `stage` names the stage in the message of a bad power (name() is not yet available).
  PairMemoryPCGrad(const char* stage, SurgeryOptions o, real power);
  /// Updates the memory with this step's Gramian (t_ already counts this step) and writes λ
  /// (T×T; the diagonal is ignored).
  virtual void remember(const Tensor& G, Tensor& lambda) = 0;
  /// Zeroes the memory for T tasks.
  virtual void clear(std::size_t T) = 0;
  virtual void write_memory(nlohmann::json& state) const = 0;
  /// Reads the memory written by write_memory (T×T tensors; throws naming the key otherwise).
  virtual void read_memory(const nlohmann::json& state, std::size_t T) = 0;
  virtual void write_options(nlohmann::json& j) const = 0;

  /// A T×T tensor from state[key], or std::invalid_argument naming the stage and the key.
  Tensor read_pair_tensor(const nlohmann::json& state, const char* key, std::size_t T) const;

  std::uint64_t t_ = 0;

 private:
  SurgeryOptions o_;
  real power_;
  std::size_t T_ = 0;
  SurgeryKernel kernel_;
  Tensor G_, lambda_;
};

/// ada-pcgrad: λ = cumulative conflict frequency n_ij / t.
class AdaPCGrad : public PairMemoryPCGrad {
 public:
  explicit AdaPCGrad(SurgeryOptions o = {}, real power = 1) : PairMemoryPCGrad("ada-pcgrad", o, power) {}
  std::string name() const override { return "ada-pcgrad"; }

 private:
  void remember(const Tensor& G, Tensor& lambda) override;
  void clear(std::size_t T) override { n_ = zeros(T, T); }
  void write_memory(nlohmann::json& state) const override;
  void read_memory(const nlohmann::json& state, std::size_t T) override;
  void write_options(nlohmann::json& /*j*/) const override {}
  Tensor n_;
};

/// rmsprop-pcgrad: λ = bias-corrected exponential average of the conflict indicator.
class RMSPropPCGrad : public PairMemoryPCGrad {
 public:
  /// rho ∈ [0, 1).
  explicit RMSPropPCGrad(SurgeryOptions o = {}, real power = 1, real rho = real(0.9));
  std::string name() const override { return "rmsprop-pcgrad"; }

 private:
  void remember(const Tensor& G, Tensor& lambda) override;
  void clear(std::size_t T) override { r_ = zeros(T, T); }
  void write_memory(nlohmann::json& state) const override;
  void read_memory(const nlohmann::json& state, std::size_t T) override;
  void write_options(nlohmann::json& j) const override { j["rho"] = rho_; }
  real rho_;
  Tensor r_;
};

/// adam-pcgrad: λ = clipped signal-to-noise ratio of the negative pairwise cosine.
class AdamPCGrad : public PairMemoryPCGrad {
 public:
  /// beta1, beta2 ∈ [0, 1), eps ≥ 0.
  AdamPCGrad(SurgeryOptions o = {}, real power = 1, real beta1 = real(0.9), real beta2 = real(0.999),
             real eps = real(1e-8));
  std::string name() const override { return "adam-pcgrad"; }

 private:
  void remember(const Tensor& G, Tensor& lambda) override;
  void clear(std::size_t T) override {
    m_ = zeros(T, T);
    v_ = zeros(T, T);
  }
  void write_memory(nlohmann::json& state) const override;
  void read_memory(const nlohmann::json& state, std::size_t T) override;
  void write_options(nlohmann::json& j) const override;
  real beta1_, beta2_, eps_;
  Tensor m_, v_;
};

}  // namespace mtlgrad
