#pragma once
/// @file quadratics.hpp
/// Three convex quadratics with a known Pareto set (docs/benchmark.md). One shared parameter
/// "x" ∈ R^d (a 1×d row, d ≥ 3), no heads:
///
///     f_i = (s_i / 2)·‖x − a_i‖²,   i = 1, 2, 3,   a_i = e_i (the i-th unit vector of R^d)
///
/// Pareto set: the triangle conv{a_1, a_2, a_3}, for any scales s_i > 0 (the minimiser of
/// Σ w_i f_i is Σ w_i s_i a_i / Σ w_i s_i). The point with barycentric coordinates β minimises
/// Σ w_i f_i for w_i ∝ β_i / s_i. On the set f_i ≤ s_i; hypervolume reference r_i = 1.1·s_i.
/// Options: "d" (default 3); "scales" (default [1, 1, 1]; [1, 10, 100] is the ill-scaled variant,
/// where a method that follows the largest gradient lands near a_3); "start" (default []: drawn
/// from the seed, uniform in [−2, 2]^d).

#include "mtlgrad/models/registry.hpp"

namespace mtlgrad::models {

class Quadratics : public MultiTaskModel {
 public:
  Quadratics(const std::vector<real>& start, std::array<real, 3> scales);
  std::size_t num_tasks() const override { return 3; }
  std::vector<std::string> task_names() const override { return {"f1", "f2", "f3"}; }
  std::vector<NamedParameter> shared_parameters() override { return {{"x", &x_}}; }
  std::vector<NamedParameter> head_parameters(std::size_t) override { return {}; }
  void forward(Tape& tape, std::vector<Var>& losses) override;
  std::string describe() const override;

  /// f1, f2, f3 at a point x (1×d), recorded on the tape of x.
  static std::array<Var, 3> objectives(Var x, const std::array<real, 3>& scales);
  const std::array<real, 3>& scales() const { return scales_; }

 private:
  Parameter x_;
  std::array<real, 3> scales_;
};

/// The registry entry ("quadratics").
ModelRegistry::Entry quadratics_entry();

}  // namespace mtlgrad::models
