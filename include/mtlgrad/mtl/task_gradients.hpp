#pragma once
/// @file task_gradients.hpp
/// Per-task gradients of one forward pass (docs/algorithms.md, "The step pipeline", step 2).
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

#include "mtlgrad/autograd/batched.hpp"
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
  /// θ_s, then each head's in task order: the order of a flat vector under scope "all" and of the
  /// trainer's parameter list.
  std::vector<NamedParameter> all() const;
  ParameterLayout() = default;
};

struct TaskGradients {
  Tensor J;                                     ///< T × P (scope shared) or T × total (scope all)
  std::vector<std::vector<Tensor>> heads;       ///< scope shared: heads[i][k] = ∇ of head i's k-th parameter
  std::vector<real> losses;                     ///< L_i (unweighted)
  bool batched = false;                         ///< the last collection took the batched sweep
  BatchedSweep sweep;                           ///< its buffers, reused from step to step
  /// The per-task path's lists and buffers, reused from step to step.
  struct Scratch {
    std::vector<Var> wrt, task_wrt;
    std::vector<std::size_t> head_begin;
    std::vector<Tensor> g;
    Tensor seed = scalar(1);
  } scratch;
};

/// How collect_task_gradients differentiates: `automatic` takes ONE batched reverse sweep for all
/// T losses (BatchedSweep: each matrix-product VJP does one GEMM for all tasks, and the gradients
/// are written straight into the rows of J) when every op the losses depend on has a batched VJP,
/// and one reverse sweep per task otherwise; `per_task` always takes T sweeps (the reference).
enum class TaskGradientPath { automatic, per_task };

/// Differentiates each task loss w_i·L_i of one recorded forward pass and fills `out`, reusing
/// its buffers. Both paths give the same J and head gradients (up to the summation order inside BLAS).
void collect_task_gradients(Tape& tape, const std::vector<Var>& losses, const std::vector<real>& weights,
                            const ParameterLayout& layout, GradientScope scope, TaskGradients& out,
                            TaskGradientPath path = TaskGradientPath::automatic);
/// The batched path alone: returns false (and leaves J and the heads unspecified) when an op on
/// the losses' path has no batched VJP. Arguments already checked by collect_task_gradients.
bool collect_task_gradients_batched(Tape& tape, const std::vector<Var>& losses, const std::vector<real>& weights,
                                    const ParameterLayout& layout, GradientScope scope, TaskGradients& out);

/// Granularity "representation" (Sener & Koltun 2018's MGDA-UB; LibMTL's rep_grad): row i of `out.J`
/// is ∇_Z(w_i L_i), the gradient with respect to the shared representation Z (B×h, flattened), and
/// each head gets its own task's gradient. The shared parameters' gradient is then ONE backward of
/// the aggregated direction through the trunk: see shared_gradient_from_representation.
void collect_representation_gradients(Tape& tape, const std::vector<Var>& losses, const std::vector<real>& weights,
                                      const ParameterLayout& layout, Var representation, TaskGradients& out);

/// ∇_{θ_s} ⟨d, Z⟩ for a direction d (1×(B·h)) on the representation Z: one reverse sweep seeded
/// with d reshaped to Z's shape; the gradients of the shared parameters are written to `grads`.
void shared_gradient_from_representation(Tape& tape, Var representation, const Tensor& d,
                                         const ParameterLayout& layout, std::vector<Tensor>& grads);

/// Copies the slice [offset, offset + p.size) of a flat 1×N vector into a tensor of p's shape.
void unflatten(const Tensor& flat, std::size_t offset, Tensor& out);

}  // namespace mtlgrad
