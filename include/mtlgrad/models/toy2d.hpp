#pragma once
/// @file toy2d.hpp
/// The two-objective toy of CAGrad (Liu et al. 2021, "Conflict-Averse Gradient Descent for
/// Multi-task Learning", NeurIPS, arXiv 2110.14048; reused by Nash-MTL), docs/algorithms.md "The 2-D toy".
/// One shared parameter "x" = (x1, x2), no heads, natural log, LOWER = 5e-6:
///
///     f1_log = ln(max(|0.5(−x1−7) − tanh(−x2)|, LOWER)) + 6
///     f2_log = ln(max(|0.5(−x1+3) + tanh(−x2) + 2|, LOWER)) + 6
///     c1 = max(tanh(0.5 x2), 0);   c2 = max(tanh(−0.5 x2), 0)
///     f1_sq = ((−x1+7)² + 0.1(−x2−8)²)/10 − 20;   f2_sq = ((−x1−7)² + 0.1(−x2−8)²)/10 − 20
///     f1 = c1 f1_log + c2 f1_sq;   f2 = c1 f2_log + c2 f2_sq
///
/// Built from the tape's ops (abs, clamp, log, tanh), so the kinks follow PyTorch. The Pareto set
/// is the curve of the minimisers of w f1 + (1 − w) f2, w ∈ [0, 1]: x1 = 7 (2w − 1) and x2 the root
/// of a 1-D stationarity condition (src/models/toy2d.cpp), x2 = −8.3551 at x1 = 0 bending down to
/// −8.4345 at x1 = ±7 (not the straight line x2 = −8.3552 often quoted: that is its middle).
/// Hypervolume reference (0, 0). Options: "start" (default [-8.5, 7.5]).

#include <array>

#include "mtlgrad/models/registry.hpp"

namespace mtlgrad::models {

class Toy2d : public MultiTaskModel {
 public:
  explicit Toy2d(std::array<real, 2> start);
  std::size_t num_tasks() const override { return 2; }
  std::vector<std::string> task_names() const override { return {"f1", "f2"}; }
  std::vector<NamedParameter> shared_parameters() override { return {{"x", &x_}}; }
  std::vector<NamedParameter> head_parameters(std::size_t) override { return {}; }
  void forward(Tape& tape, std::vector<Var>& losses) override;
  std::string describe() const override;

  /// f1 and f2 at a point, recorded on `tape` (for walkthroughs and plots).
  static std::array<Var, 2> objectives(Var x);
  Parameter& x() { return x_; }

 private:
  Parameter x_;
};

/// f1 + f2 over [−10, 10]² and the Pareto curve (x2 ≈ −8.36 to −8.43, x1 ∈ [−7, 7]; the figure of CAGrad):
/// what run/plots draws the path of x over.
PlaneLandscape toy2d_landscape();

/// The registry entry.
ModelRegistry::Entry toy2d_entry();

}  // namespace mtlgrad::models
