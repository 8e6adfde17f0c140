#pragma once
/// @file gramian_weighting.hpp
/// The shell of every stage that is a weighting computed from the Gramian alone (mgda, cagrad,
/// imtl-g, aligned-mtl, upgrad, dualproj, nash-mtl): check J, form G = J Jᵀ, let the stage turn G
/// into w (T values), then d = Jᵀw. out.weights is w; out.pair_strength is empty.
///
/// A stage that runs an iterative solver (mgda, cagrad, upgrad, dualproj, nash-mtl) says so with
/// runs_solver() and hands each solve's report to report() inside weigh(); the shell then fills
/// Aggregation::metrics as {solver_iters, solver_residual} (the max over the step's solves: upgrad
/// runs T) and solver_capped (any solve capped). {0, 0} when the step needed no solve (zero J).
///
/// Also the two rescalings of G that the TorchJD-derived stages share (they change no direction:
/// every one of these weightings is invariant to a positive scaling of G, and the rescaling keeps
/// the small solvers away from overflow at ‖J‖ = 1e10 and underflow at 1e-10).

#include <vector>

#include "mtlgrad/optim/aggregator.hpp"
#include "mtlgrad/optim/solvers.hpp"

namespace mtlgrad {

class GramianWeighting : public Aggregator {
 public:
  void aggregate(const Tensor& J, Rng& rng, Aggregation& out) final;
  bool weighting() const override { return true; }
  /// {"solver_iters", "solver_residual"} for a stage that runs_solver(), else none.
  std::vector<std::string> metric_names() const final;

 protected:
  virtual bool runs_solver() const { return false; }
  /// Merges one solve's report into this step's (max iterations, max residual, any capped).
  void report(const solvers::SolveReport& r);
  /// w ← the weights for this Gramian (T×T, T ≥ 1, finite, symmetric PSD up to rounding).
  virtual void weigh(const Tensor& G, Rng& rng, std::vector<real>& w) = 0;

 private:
  Tensor G_;
  solvers::SolveReport step_report_;
};

/// tr(G) (= ‖J‖_F²).
real trace(const Tensor& G);
/// out = G / s + reg·I, with s = tr(G) (when tr(G) > norm_eps, else out = reg·I: TorchJD's
/// normalize + regularize).
void normalized_gramian(const Tensor& G, real norm_eps, real reg, Tensor& out);
/// A preference vector for T tasks: `pref` when non-empty (its size must be T, else
/// std::invalid_argument naming the stage), else 1/T each.
void preference(const std::string& stage, const std::vector<real>& pref, std::size_t T, std::vector<real>& u);

}  // namespace mtlgrad
