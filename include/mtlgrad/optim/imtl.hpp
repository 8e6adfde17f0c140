#pragma once
/// @file imtl.hpp
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

class IMTLG : public GramianWeighting {
 public:
  std::string name() const override { return "imtl-g"; }
  nlohmann::json options() const override { return {{"name", name()}}; }

 private:
  void weigh(const Tensor& G, Rng& rng, std::vector<real>& w) override;
  Tensor Gn_, V_;
  std::vector<real> values_;
};

}  // namespace mtlgrad
