#pragma once
/// @file task_gradients.hpp
/// Per-task gradients of one forward pass (ALGORITHMS.md §1, step 2).
///
/// Row i of the Jacobian J is g_i = ∇_{θ_s}(w_i L_i): the gradients of the shared parameters,
/// each flattened row-major and concatenated in shared_parameters() order. Each head θ_i receives
/// ∇_{θ_i}(w_i L_i) only (scope "shared", the default).
///
/// Scope "all" reproduces the PCGrad blog post's PyTorch code: every parameter (shared, then the
/// heads of task 0, 1, ...) is flattened into one vector, task i's row holds zeros for the other
/// tasks' heads, and surgery runs on the whole vector — so a head can receive components of other
/// tasks' projections. It exists to teach the difference.

#include <string>
#include <vector>

#include "mtlgrad/mtl/model.hpp"

namespace mtlgrad {

enum class GradientScope { shared, all };
GradientScope parse_scope(const std::string& s, const std::string& path);
std::string to_string(GradientScope s);

/// The parameter layout of one model: which parameters are shared and which belong to each head,
/// and where each sits in a flat vector.
struct ParameterLayout {
  std::vector<NamedParameter> shared;
  std::vector<std::vector<NamedParameter>> heads;  ///< heads[i] = task i's parameters
  std::size_t shared_size = 0;                     ///< P
  std::size_t total_size = 0;                      ///< P + Σ head sizes

  explicit ParameterLayout(MultiTaskModel& model);
  ParameterLayout() = default;
};

struct TaskGradients {
  Tensor J;                                     ///< T × P (scope shared) or T × total (scope all)
  std::vector<std::vector<Tensor>> heads;       ///< scope shared: heads[i][k] = ∇ of head i's k-th parameter
  std::vector<real> losses;                     ///< L_i (unweighted)
};

/// Differentiates each task loss w_i·L_i of one recorded forward pass (one reverse sweep per
/// task over the same tape) and fills `out`, reusing its buffers.
void collect_task_gradients(Tape& tape, const std::vector<Var>& losses, const std::vector<real>& weights,
                            const ParameterLayout& layout, GradientScope scope, TaskGradients& out);

/// Copies the slice [offset, offset + p.size) of a flat 1×N vector into a tensor of p's shape.
void unflatten(const Tensor& flat, std::size_t offset, Tensor& out);

}  // namespace mtlgrad
