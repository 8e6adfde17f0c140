#pragma once
/// @file pareto_mtl.hpp
/// The synthetic two-objective problem of Pareto MTL (Lin et al. 2019, "Pareto Multi-Task
/// Learning", NeurIPS, arXiv 1912.12854), docs/benchmark.md. One shared parameter "x" ∈ R^n
/// (a 1×n row), no heads:
///
///     f1 = 1 − exp(−‖x − a‖²),   f2 = 1 − exp(−‖x + a‖²),   a = (1/√n)·1  (‖a‖ = 1)
///
/// Pareto set: the segment {t·a : t ∈ [−1, 1]}; the point t·a minimises w f1 + (1 − w) f2 with
///     w = (1 + t) e₂ / ((1 − t) e₁ + (1 + t) e₂),   e₁ = exp(−(t − 1)²),  e₂ = exp(−(t + 1)²)
/// (stationarity along a). The front is concave, so no fixed weighted sum reaches its middle.
/// Hypervolume reference (1, 1), the objectives' supremum.
/// Options: "n" (default 20); "start" (default []: drawn from the seed, uniform in [−0.5, 0.5]^n,
/// where the gradients are not yet vanishing: far from ±a they decay like exp(−‖x ∓ a‖²)).

#include "mtlgrad/models/registry.hpp"

namespace mtlgrad::models {

class ParetoMtl : public MultiTaskModel {
 public:
  explicit ParetoMtl(const std::vector<real>& start);
  std::size_t num_tasks() const override { return 2; }
  std::vector<std::string> task_names() const override { return {"f1", "f2"}; }
  std::vector<NamedParameter> shared_parameters() override { return {{"x", &x_}}; }
  std::vector<NamedParameter> head_parameters(std::size_t) override { return {}; }
  void forward(Tape& tape, std::vector<Var>& losses) override;
  std::string describe() const override;

  /// f1 and f2 at a point x (1×n), recorded on the tape of x.
  static std::array<Var, 2> objectives(Var x);

 private:
  Parameter x_;
};

/// The registry entry ("pareto_mtl").
ModelRegistry::Entry pareto_mtl_entry();

}  // namespace mtlgrad::models
