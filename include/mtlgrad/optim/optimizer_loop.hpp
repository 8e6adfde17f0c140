#pragma once
/// @file optimizer_loop.hpp
/// The one loop every temporal stage runs (after ensmallen's "shared loop + update policy" and
/// torch.optim's per-parameter state). An optimizer only supplies its update rule: what it turns
/// (θ, g, state) into; the loop owns everything around it:
///
///   - checks first, then updates: the list lengths, null parameters, each gradient's shape
///     against its parameter, and each parameter's shape against its state are all checked before
///     any parameter changes, so a step that throws changes nothing;
///   - grads[k] == nullptr skips parameter k: neither it nor its state changes (torch skips
///     p.grad None the same way);
///   - state is created on the first gradient a parameter receives, with the tensors the rule
///     declares in layout() (zeros, or the rule's initial value, e.g. adagrad's
///     initial_accumulator_value), and a step counter per parameter, torch's state['step'],
///     incremented before the rule runs (so the rule sees t = 1 on its first step);
///   - coupled weight decay, g ← g + λ θ (torch's grad.add(param, alpha=weight_decay)), is applied
///     here, into a per-parameter scratch buffer: the caller's gradient is never modified, and the
///     buffer is allocated once, so a step allocates nothing in the steady state;
///   - reset(), state() and load_state().
///
/// State JSON: {"optimizer": name, "param_states": [null | {"step": t, "shape": [r, c],
/// <tensor>: {"shape": ..., "data": ...}, <scalar>: x}, ...]}, one entry per parameter position
/// (null: never stepped).
/// Doubles are written with round-trip precision, so a restored optimizer continues
/// bit-identically.

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/optim/optimizer.hpp"
#include "mtlgrad/optim/optimizer_options.hpp"

namespace mtlgrad {

/// What an update rule keeps per parameter, by name (the names are torch's state keys).
struct StateLayout {
  struct Entry {
    std::string name;
    real init = 0;
  };
  std::vector<Entry> tensors;  ///< each shaped like the parameter, filled with `init`
  std::vector<Entry> scalars;  ///< e.g. nadam's mu_product (init 1)
};

/// The state of one parameter position.
struct ParamState {
  bool live = false;            ///< false until the parameter's first gradient
  long long step = 0;           ///< torch's state['step']: gradients received so far
  Shape shape{0, 0};            ///< the parameter's shape, fixed by its first gradient
  std::vector<Tensor> tensors;  ///< in the order of StateLayout::tensors
  std::vector<real> scalars;    ///< in the order of StateLayout::scalars
  Tensor scratch;               ///< the weight-decayed gradient (a buffer, not state: not saved)
};

class OptimizerLoop : public Optimizer {
 public:
  std::string name() const override { return name_; }
  void step(const std::vector<Tensor*>& params, const std::vector<const Tensor*>& grads) final;
  void reset() override { states_.clear(); }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state) override;

  /// One entry per parameter position (empty before the first step and after reset()).
  const std::vector<ParamState>& param_states() const { return states_; }

 protected:
  explicit OptimizerLoop(std::string name) : name_(std::move(name)) {}

  /// The state tensors and scalars the rule keeps (may depend on the options: amsgrad, centered).
  virtual StateLayout layout() const = 0;
  /// λ of the coupled (L2) weight decay g ← g + λ θ applied before update(); 0 for none.
  virtual real coupled_weight_decay() const { return 0; }
  /// The update rule: θ ← rule(θ, g, state), with s.step already incremented (t ≥ 1).
  virtual void update(Tensor& param, const Tensor& grad, ParamState& s) = 0;

  std::vector<ParamState> states_;

 private:
  void check(const std::vector<Tensor*>& params, const std::vector<const Tensor*>& grads) const;
  ParamState fresh_state(const Shape& shape) const;

  std::string name_;
};

/// OptimizerLoop with a typed options struct (validated on construction).
template <class Options>
class OptimizerWith : public OptimizerLoop {
 public:
  nlohmann::json options() const override { return options_json(name(), o_); }
  real lr() const override { return o_.lr; }
  void set_lr(real lr) override {
    check_option(lr >= 0 && std::isfinite(double(lr)), name(), "lr", lr, ">= 0");
    o_.lr = lr;
  }
  const Options& opts() const { return o_; }

 protected:
  OptimizerWith(std::string name, Options o) : OptimizerLoop(std::move(name)), o_(std::move(o)) {
    o_.validate(this->name());
  }
  Options o_;
};

}  // namespace mtlgrad
