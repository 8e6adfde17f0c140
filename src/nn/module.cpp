#include "mtlgrad/nn/module.hpp"

#include <cmath>
#include <sstream>

namespace mtlgrad {

std::vector<NamedParameter> Module::named_parameters(const std::string& prefix) {
  std::vector<NamedParameter> out;
  collect_parameters(prefix, out);
  return out;
}

std::vector<Parameter*> Module::parameters() {
  std::vector<Parameter*> out;
  for (const auto& np : named_parameters()) out.push_back(np.param);
  return out;
}

std::size_t Module::num_parameters() {
  std::size_t n = 0;
  for (Parameter* p : parameters()) n += p->value.size();
  return n;
}

void Module::zero_grad() {
  for (Parameter* p : parameters()) p->zero_grad();
}

Linear::Linear(std::size_t in, std::size_t out, Rng& rng, bool bias) {
  if (in == 0 || out == 0)
    throw std::invalid_argument("Linear: sizes must be positive, got in = " + std::to_string(in) +
                                ", out = " + std::to_string(out));
  const real bound = real(1) / std::sqrt(real(in));
  weight.name = "weight";
  weight.value = rng.uniform_tensor(in, out, -bound, bound);
  if (bias) {
    this->bias.name = "bias";
    this->bias.value = rng.uniform_tensor(1, out, -bound, bound);
  }
}

Var Linear::forward(Tape& tape, Var x) {
  if (x.cols() != in_features())
    throw std::invalid_argument("Linear(" + std::to_string(in_features()) + ", " + std::to_string(out_features()) +
                                "): input " + shape_str(x.value()) + " has " + std::to_string(x.cols()) +
                                " columns, expected " + std::to_string(in_features()));
  Var W = tape.param(weight);
  if (bias.value.size() == 0) return matmul(x, W);
  return affine(x, W, tape.param(bias));
}

void Linear::collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) {
  out.push_back({prefix + "weight", &weight});
  if (bias.value.size()) out.push_back({prefix + "bias", &bias});
}

std::string Linear::describe() const {
  return "Linear(" + std::to_string(in_features()) + ", " + std::to_string(out_features()) + ")";
}

std::string LeakyReLU::describe() const {
  std::ostringstream s;
  s << "LeakyReLU(" << slope_ << ")";
  return s.str();
}

Var Sequential::forward(Tape& tape, Var x) {
  for (auto& m : layers_) x = m->forward(tape, x);
  return x;
}

void Sequential::collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    layers_[i]->collect_parameters(prefix + std::to_string(i) + ".", out);
}

std::string Sequential::describe() const {
  std::string s = "Sequential(";
  for (std::size_t i = 0; i < layers_.size(); ++i) s += (i ? ", " : "") + layers_[i]->describe();
  return s + ")";
}

std::unique_ptr<Sequential> mlp(const std::vector<std::size_t>& sizes, const std::string& activation, Rng& rng,
                                bool activate_last) {
  if (sizes.size() < 2) throw std::invalid_argument("mlp: need at least two sizes (input and output)");
  auto act = [&]() -> std::unique_ptr<Module> {
    if (activation == "relu") return std::make_unique<ReLU>();
    if (activation == "tanh") return std::make_unique<Tanh>();
    if (activation == "sigmoid") return std::make_unique<Sigmoid>();
    if (activation == "leaky_relu") return std::make_unique<LeakyReLU>();
    throw std::invalid_argument("mlp: unknown activation '" + activation +
                                "'; available: relu, tanh, sigmoid, leaky_relu");
  };
  // Validate the name even when no activation layer is built (two sizes, activate_last false).
  (void)act();
  auto seq = std::make_unique<Sequential>();
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    seq->add<Linear>(sizes[i], sizes[i + 1], rng);
    if (i + 2 < sizes.size() || activate_last) seq->push_back(act());
  }
  return seq;
}

}  // namespace mtlgrad
