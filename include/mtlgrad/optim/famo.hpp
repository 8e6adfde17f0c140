#pragma once
/// @file famo.hpp
/// famo — Fast Adaptive Multitask Optimization (Liu, Liu, Jin, Stone & Liu, NeurIPS 2023,
/// arXiv 2306.03792). A weighting that tries to make every task's log-loss fall at the same rate,
/// at the cost of one softmax: with logits ξ ∈ R^T (0 at the start), z = softmax(ξ),
/// \f[ D_i = L_i - m_i + 10^{-8}, \qquad w_i = \frac{z_i / D_i}{\sum_j z_j / D_j}, \qquad d = J^T w \f]
/// (d is the gradient of Σ_i z_i ln D_i / c with c = Σ_j z_j/D_j held constant; Σ w = 1). After the
/// step, with the same tasks' losses L′ at the new parameters,
/// \f[ \delta_i = \ln D_i(L) - \ln D_i(L'), \qquad \nabla_\xi = z \odot (\delta - (z^T\delta)\,1), \f]
/// and ξ takes one Adam step (torch.optim.Adam: betas (0.9, 0.999), eps 1e-8 outside the root,
/// bias-corrected, weight decay gamma added to the gradient) on ∇_ξ.
///
/// Where L′ comes from, option `update`:
///   "after" (the paper, the authors' Cranial-XIX/FAMO and LibMTL): L′ = the same mini-batch's
///           losses after the temporal step, given by observe_losses_after_step() (the trainer's
///           extra forward pass without gradients; the CLI's "losses_after"). An aggregate() whose
///           previous step got no such losses is an error;
///   "next"  (no extra forward pass; not in the references): the update runs at the start of the
///           next aggregate() with that step's losses as L′ (another mini-batch).
/// The official trainers clip ‖d‖ ≤ 1: that is the temporal stage's job here. Options: lr = 0.025
/// (> 0), gamma = 1e-3 (≥ 0; LibMTL's default, the authors' famo.py says 0.01), update = "after",
/// min_losses m = [] (T numbers, [] = 0; D_i must stay > 0, else an error naming the task).
/// The heads are scaled by w_i (head_scale), as back-propagating the weighted loss does.
/// State {"tasks", "xi", "m", "v", "k" (Adam's steps), "previous" (L of the last step), "pending"}.

#include <string>
#include <vector>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad {

class FAMO : public Aggregator {
 public:
  enum class Update { after, next };
  FAMO(real lr = real(0.025), real gamma = real(1e-3), Update update = Update::after, std::vector<real> min_losses = {});
  std::string name() const override { return "famo"; }
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) override;
  void observe_losses(const std::vector<real>& losses) override;
  void observe_losses_after_step(const std::vector<real>& losses) override;
  bool wants_losses_after_step() const override { return update_ == Update::after; }
  bool weighting() const override { return true; }
  void reset() override;
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;
  nlohmann::json options() const override;
  /// The logits ξ (empty before the first step).
  const std::vector<real>& logits() const { return xi_; }

 private:
  /// One Adam step of ξ from the previous step's losses to `after`.
  void update(const std::vector<real>& after);
  /// D_i(L) = L_i − m_i + 1e-8 for every task, naming `what` when some D_i ≤ 0.
  void gaps(const std::vector<real>& L, const char* what, std::vector<real>& out) const;

  real lr_, gamma_;
  Update update_;
  std::vector<real> min_losses_;
  std::vector<real> losses_;
  bool fresh_ = false;
  std::size_t T_ = 0, k_ = 0;
  std::vector<real> xi_, m_, v_, previous_;
  bool pending_ = false;  ///< "after": the last step still waits for its losses after the step
  std::vector<real> z_, a_, b_;
};

}  // namespace mtlgrad
