#pragma once
/// @file sdmgrad.hpp
/// sdmgrad — Stochastic Direction-oriented Multi-objective Gradient descent (Xiao, Ban & Ji,
/// NeurIPS 2023, arXiv 2305.18409), as LibMTL's SDMGrad.py runs it: w on the simplex Δ minimises
/// ½‖Jᵀw‖² + λ⟨Jᵀw, ḡ⟩ (ḡ the mean gradient) by momentum SGD with projection, warm-started from
/// the previous step's w, and d leans towards ḡ:
/// \f[ A = J_a J_b^T,\ \ \sigma = \operatorname{mean}_i \sqrt{\max(A_{ii},0)},\ \ A \leftarrow
///     \frac{A}{\sigma^2 + 10^{-8}},\ \ a = A\,\tfrac{1}{T}\mathbf 1 \f]
///     repeat n_iter:  q = A w + λ a;  b = q (first) else μ b + q;  w = Π_Δ(w − lr·b)
/// \f[ \tilde\lambda = \frac{w + \lambda/T}{1 + \lambda}, \qquad d = J^T \tilde\lambda \f]
/// J_a, J_b are the Jacobians of two more independent mini-batches at the same parameters
/// (observe_extra_jacobians(); the trainer draws them from the run's sampler, the CLI reads
/// "extra_steps"); without them A = J Jᵀ (single-batch mode, deterministic). The official
/// OptMN-Lab/sdmgrad uses lr 10 and σ = mean √(A_ii + 1e-4) without the clamp and the +1e-8; we
/// follow LibMTL. With lr 5–10 the loop can amplify rounding strongly on an ill-conditioned A.
/// Options: lambda = 0.3 (≥ 0), lr = 5 (> 0), momentum μ = 0.5 ([0, 1)), n_iter = 20 (≥ 1).
/// The heads keep their own ∇L_i of the main batch (LibMTL sums the three batches'). State
/// {"tasks", "w"} (b restarts every step).

#include <string>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

class SDMGrad : public Aggregator {
 public:
  SDMGrad(real lambda = real(0.3), real lr = 5, real momentum = real(0.5), std::size_t n_iter = 20);
  std::string name() const override { return "sdmgrad"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  void observe_extra_jacobians(const Tensor& J_a, const Tensor& J_b) override;
  bool wants_extra_jacobians() const override { return true; }
  bool weighting() const override { return true; }
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override {
    return {{"name", name()}, {"lambda", lambda_}, {"lr", lr_}, {"momentum", momentum_}, {"n_iter", n_iter_}};
  }

 private:
  real lambda_, lr_, momentum_;
  std::size_t n_iter_;
  std::size_t T_ = 0;
  std::vector<real> w_;
  Tensor Ja_, Jb_, A_, G_;
  bool extra_ = false;
  std::vector<real> a_, b_, q_;
};

}  // namespace mtlgrad
