#pragma once
/// @file module.hpp
/// Layers: Module (named parameters, zero_grad), Linear, the activations, Sequential.
///
/// A Module owns Parameters (value + grad) outside any tape. forward(tape, x) binds them to the
/// tape as leaves (Tape::param) and records its ops; tape.backward(loss) accumulates into every
/// bound Parameter's grad. Parameter names follow PyTorch: "weight", "bias", and in a Sequential
/// "0.weight", "2.bias", ...
///
/// Linear computes y = x·W + b with W of shape [in, out] — the transpose of torch.nn.Linear's
/// weight [out, in] — so that a batch [B, in] multiplies without a transpose.
/// Initialisation is PyTorch's default (kaiming_uniform with a = √5, i.e. U(−1/√in, 1/√in) for W,
/// and U(−1/√in, 1/√in) for b), drawn from an explicit Rng in row-major order of our [in, out] W.

#include <memory>
#include <string>
#include <vector>

#include "mtlgrad/autograd/ops.hpp"
#include "mtlgrad/core/rng.hpp"

namespace mtlgrad {

struct NamedParameter {
  std::string name;
  Parameter* param;
};

class Module {
 public:
  virtual ~Module() = default;
  virtual Var forward(Tape& tape, Var x) = 0;
  /// Appends this module's parameters, named prefix + local name.
  virtual void collect_parameters(const std::string& /*prefix*/, std::vector<NamedParameter>& /*out*/) {}
  /// "Linear(2, 32)", "ReLU()", ... for printing a model.
  virtual std::string describe() const = 0;

  std::vector<NamedParameter> named_parameters(const std::string& prefix = "");
  std::vector<Parameter*> parameters();
  std::size_t num_parameters();
  /// Sets every parameter's grad to zeros of its value's shape.
  void zero_grad();
};

class Linear : public Module {
 public:
  Linear(std::size_t in, std::size_t out, Rng& rng, bool bias = true);
  Var forward(Tape& tape, Var x) override;
  void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) override;
  std::string describe() const override;
  std::size_t in_features() const { return weight.value.shape(0); }
  std::size_t out_features() const { return weight.value.shape(1); }

  Parameter weight;  ///< [in, out]
  Parameter bias;    ///< [1, out]; empty (0×0) when constructed without bias
};

/// An activation with no parameters, applying one op.
class Activation : public Module {
 public:
  Activation(std::string name, Var (*op)(Var)) : name_(std::move(name)), op_(op) {}
  Var forward(Tape&, Var x) override { return op_(x); }
  std::string describe() const override { return name_ + "()"; }

 private:
  std::string name_;
  Var (*op_)(Var);
};

class ReLU : public Activation {
 public:
  ReLU() : Activation("ReLU", relu) {}
};
class Tanh : public Activation {
 public:
  Tanh() : Activation("Tanh", tanh) {}
};
class Sigmoid : public Activation {
 public:
  Sigmoid() : Activation("Sigmoid", sigmoid) {}
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(real negative_slope = real(0.01)) : slope_(negative_slope) {}
  Var forward(Tape&, Var x) override { return leaky_relu(x, slope_); }
  std::string describe() const override;

 private:
  real slope_;
};

/// Modules applied in order; parameters named "<index>.<name>" as torch.nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() = default;
  template <class M, class... A>
  M& add(A&&... args) {
    auto m = std::make_unique<M>(std::forward<A>(args)...);
    M& ref = *m;
    layers_.push_back(std::move(m));
    return ref;
  }
  void push_back(std::unique_ptr<Module> m) { layers_.push_back(std::move(m)); }
  Var forward(Tape& tape, Var x) override;
  void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) override;
  std::string describe() const override;
  std::size_t size() const { return layers_.size(); }
  Module& operator[](std::size_t i) { return *layers_.at(i); }

 private:
  std::vector<std::unique_ptr<Module>> layers_;
};

/// Builds "linear sizes[0]→sizes[1], activation, …, linear →sizes.back()" (no activation after the
/// last layer). activation: "relu", "tanh", "sigmoid", "leaky_relu"; anything else throws.
std::unique_ptr<Sequential> mlp(const std::vector<std::size_t>& sizes, const std::string& activation, Rng& rng,
                                bool activate_last = false);

}  // namespace mtlgrad
