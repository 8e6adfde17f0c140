#pragma once
/// @file optimizer.hpp
/// The temporal stage: turns (parameters, gradients, state) into new parameters.
///
/// PUBLIC CONTRACT (the trainer and the CLI rely on exactly this):
///   - step(params, grads): one optimizer step over a parameter list. grads[k] == nullptr means
///     "parameter k has no gradient this step" and it is skipped (as torch.optim skips p.grad None).
///     State is kept per position k, so the same list must be passed every step. The gradients are
///     never modified. A shape mismatch throws std::invalid_argument naming the optimizer, k and
///     both shapes.
///   - has_lookahead()/lookahead(): nag asks for the gradient at θ̃ = θ − η μ v; the trainer calls
///     lookahead(params, out) before computing the gradients and evaluates them at `out`.
///     Optimizers without a look-ahead return false and copy params into out.
///   - reset(), state(), load_state(): state can be cleared, saved and restored; a restored
///     optimizer continues bit-identically.
///   - options(): every option with its value, as JSON ({"name": "adam", "lr": ...}).
///   - make_optimizer(spec, path) builds one from {"name": ..., options}; optimizers() lists them.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/registry.hpp"
#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  virtual void step(const std::vector<Tensor*>& params, const std::vector<const Tensor*>& grads) = 0;
  virtual bool has_lookahead() const { return false; }
  virtual void lookahead(const std::vector<const Tensor*>& params, std::vector<Tensor>& out) const;
  virtual void reset() = 0;
  virtual nlohmann::json state() const = 0;
  virtual void load_state(const nlohmann::json& state) = 0;
  virtual nlohmann::json options() const = 0;
  /// The learning rate (the trainer's schedules and the TAG look-ahead read it).
  virtual real lr() const = 0;
  /// Changes the learning rate (for schedules); a negative or non-finite value throws
  /// std::invalid_argument naming the optimizer. The state is kept.
  virtual void set_lr(real lr);
};

/// Every registered temporal stage. A program that links mtlgrad adds its own with
/// optimizers().add(optimizer_entry<MyOpt, MyOptions>("name", "summary")) before it runs anything
/// (docs/extending.md).
Registry<Optimizer>& optimizers();
/// optimizers().create(spec, path).
std::unique_ptr<Optimizer> make_optimizer(const nlohmann::json& spec, const std::string& path = "optimizer");

}  // namespace mtlgrad
