#pragma once
/// @file gradcheck.hpp
/// Checks a function's gradients against central differences, on the whole Jacobian.
///
/// For f: (x_1, …, x_n) ↦ y (any shapes), the numeric Jacobian column for input element e is
/// (f(x + h·e) − f(x − h·e)) / 2h, and the analytic row for output element m is the backward of the
/// one-hot seed e_m. Both M×N matrices are built in full and compared elementwise with
/// |a − n| ≤ atol + rtol·|n| (the rule of flashlight's Jacobian test).
///
///     auto r = gradcheck([](Tape& t, const std::vector<Var>& x) { return tanh(matmul(x[0], x[1])); },
///                        {rng.normal_tensor(3, 4), rng.normal_tensor(4, 2)});
///     CHECK(r.ok);   // r.report says where it failed

#include <functional>
#include <string>
#include <vector>

#include "mtlgrad/autograd/tape.hpp"

namespace mtlgrad {

struct GradcheckOptions {
  real step = tolerance(1e-6, 1e-2);   ///< h
  real atol = tolerance(1e-7, 1e-2);
  real rtol = tolerance(1e-6, 1e-2);
};

struct GradcheckResult {
  bool ok = true;
  Tensor analytic;   ///< M×N: ∂y_m/∂x_n by backward
  Tensor numeric;    ///< M×N: by central differences
  double max_abs_err = 0;
  std::string report;  ///< the worst entry, as text ("d y[0,1] / d x1[2,0]: analytic ..., numeric ...")
};

using GradcheckFn = std::function<Var(Tape&, const std::vector<Var>&)>;

/// Builds both Jacobians of f at `inputs` and compares them.
GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

}  // namespace mtlgrad
