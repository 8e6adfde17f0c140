#pragma once
/// @file imtl.hpp
/// imtl-g (below) and imtl, the full method (IMTL-L + IMTL-G, after it).
///
/// IMTL-G, the gradient part of "Towards Impartial Multi-task Learning" (Liu et al. 2021, ICLR):
/// the d = Jᵀw with Σ w = 1 whose projection onto every unit task gradient u_i = g_i/‖g_i‖ is
/// equal (d·u_i the same for all i). TorchJD's generalisation (Quinton & Rey 2024, A_IMTL-G),
/// defined also for linearly dependent rows:
/// \f[ v = G^{+} \sqrt{\operatorname{diag} G}, \qquad w = v / (1^T v) \f]
/// (then g_i·d / ‖g_i‖ = 1 / 1ᵀv for every task whose gradient is in the row space).
///
/// G⁺ is the pseudo-inverse from solvers::symmetric_eigen on G/tr(G), eigenvalues below
/// solvers::rank_cutoff counting as 0 (torch.linalg.pinv's rule). When 1ᵀv vanishes
/// (|1ᵀv| ≤ T·ε·Σ|v_i|, e.g. zero J) w = 0, as in TorchJD. No options; stateless.
/// Golden (TorchJD): J = [[-4,1,1],[6,1,1]] → d = [0.0767, 1, 1].

#include "mtlgrad/optim/gramian_weighting.hpp"

namespace mtlgrad {

/// IMTL-G's w for a Gramian G (T×T, finite, PSD up to rounding), as described above; Gn, V and
/// values are scratch buffers (reused between calls).
void imtl_g_weights(const Tensor& G, std::vector<real>& w, Tensor& Gn, Tensor& V, std::vector<real>& values);

class IMTLG : public GramianWeighting {
 public:
  std::string name() const override { return "imtl-g"; }
  nlohmann::json options() const override { return {{"name", name()}}; }

 private:
  void weigh(const Tensor& G, Rng& rng, std::vector<real>& w) override;
  Tensor Gn_, V_;
  std::vector<real> values_;
};

/// imtl — IMTL, full: IMTL-L + IMTL-G (Liu et al. 2021, ICLR), as LibMTL's IMTL.py. IMTL-L turns
/// loss i into e^{s_i} L_i − s_i with a learnable scale s_i (0 at the start); IMTL-G then makes the
/// scaled gradients' projections equal:
/// \f[ \hat g_i = e^{s_i} g_i,\quad \alpha = \text{imtl-g}(\hat G = E G E),\ E = \operatorname{diag}(e^{s}),
///     \quad w_i = \alpha_i e^{s_i},\quad d = J^T w = \textstyle\sum_i \alpha_i \hat g_i \f]
/// then s takes one SGD step on the IMTL-L loss:  s_i ← s_i − lr (e^{s_i} L_i − 1)  (fixed point
/// s_i = −ln L_i). The paper trains s with the network's optimizer; the temporal stage cannot see
/// it, so the stage trains it by plain SGD (option lr = 1e-3, ≥ 0), as uw does. LibMTL computes α
/// by the paper's anchored closed form α_{2..T} = ĝ_1 Uᵀ (D Uᵀ)⁻¹, the same as the pinv form here
/// for independent rows; the pinv form also covers dependent rows (w = 0 where imtl-g gives 0).
/// The heads get e^{s_i}·∇L_i (head_scale; the scaled losses are back-propagated). Needs the
/// step's losses. State {"tasks", "s"}.
class IMTL : public Aggregator {
 public:
  explicit IMTL(real lr = real(1e-3));
  std::string name() const override { return "imtl"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  void observe_losses(const std::vector<real>& losses) override;
  bool weighting() const override { return true; }
  void reset() override { s_.clear(); fresh_ = false; }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override { return {{"name", name()}, {"lr", lr_}}; }

 private:
  real lr_;
  std::vector<real> losses_, s_, e_, alpha_;
  bool fresh_ = false;
  Tensor G_, Gs_, Gn_, V_;
  std::vector<real> values_;
};

}  // namespace mtlgrad
