#pragma once
/// @file moco.hpp
/// moco — MoCo, "Mitigating Gradient Bias in Multi-objective Learning: A Provably Convergent
/// Approach" (Fernando, Shen, Liu, Chaudhury, Murugesan & Chen, ICLR 2023), as LibMTL's MoCo.py
/// (written from the authors' code) runs it. It tracks the task gradients in Y ∈ R^{T×P} (0 at the
/// start) and the weights λ (1/T), at step t = 1, 2, …:
/// \f[ h_i = \frac{g_i}{\lVert g_i\rVert + 10^{-8}} L_i, \qquad
///     Y \leftarrow Y - \frac{\beta}{t^{\sigma_\beta}} (Y - H), \f]
/// \f[ \lambda \leftarrow \operatorname{softmax}\Bigl(\lambda - \frac{\gamma}{t^{\sigma_\gamma}}
///     (Y Y^T + \rho I)\lambda\Bigr), \qquad d = Y^T \lambda . \f]
/// The paper's Algorithm 1 tracks g_i itself and projects λ onto the simplex; the authors' code and
/// LibMTL track the normalised gradient times the loss and take the softmax of the argument (of λ
/// itself, not ln λ: not mirror descent). Option projection picks "softmax" (LibMTL, default) or
/// "simplex" (Π_Δ of the same argument, the paper). A zero row gives h_i = 0. d combines the
/// tracked Y, not this step's J: not a weighting. The heads keep ∇L_i. Needs the step's losses.
/// Options: beta = 0.5, beta_sigma = 0.5, gamma = 0.1, gamma_sigma = 0.5, rho = 0 (all ≥ 0;
/// beta ≤ 1). State {"tasks", "t", "y" (T×P), "lambda"}.

#include <string>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

class MoCo : public Aggregator {
 public:
  enum class Projection { softmax, simplex };
  MoCo(real beta = real(0.5), real beta_sigma = real(0.5), real gamma = real(0.1), real gamma_sigma = real(0.5),
       real rho = 0, Projection projection = Projection::softmax);
  std::string name() const override { return "moco"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  void observe_losses(const std::vector<real>& losses) override;
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override;

 private:
  real beta_, beta_sigma_, gamma_, gamma_sigma_, rho_;
  Projection projection_;
  std::vector<real> losses_;
  bool fresh_ = false;
  std::size_t T_ = 0, t_ = 0;
  Tensor y_, YY_, G_;
  std::vector<real> lambda_, arg_;
};

}  // namespace mtlgrad
