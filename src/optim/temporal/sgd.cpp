#include "mtlgrad/optim/sgd.hpp"

#include "for_values.hpp"

namespace mtlgrad {

void SGDOptions::validate(const std::string& who) const {
  check_nonnegative(who, "lr", lr);
  check_nonnegative(who, "momentum", momentum);
  check_option(dampening >= 0 && dampening <= 1, who, "dampening", dampening, "0 <= dampening <= 1");
  check_nonnegative(who, "weight_decay", weight_decay);
  if (nesterov) {
    check_option(momentum > 0, who, "momentum", momentum, "> 0 with nesterov = true");
    check_option(dampening == 0, who, "dampening", dampening, "0 with nesterov = true");
  }
}

StateLayout SGD::layout() const {
  StateLayout l;
  if (o_.momentum != 0) l.tensors.push_back({"momentum_buffer"});
  return l;
}

void SGD::update(Tensor& param, const Tensor& grad, ParamState& s) {
  real* p = param.data();
  const real* g = grad.data();
  const real mu = o_.momentum, lr = o_.lr;
  if (mu == 0) {
    for_values(param.size(), [&](std::size_t i0, std::size_t i1) {
      for (std::size_t i = i0; i < i1; ++i) p[i] += -lr * g[i];
    });
    return;
  }
  real* b = s.tensors[0].data();
  const bool first = s.step == 1;  // torch: the buffer starts as the gradient, undamped
  for_values(param.size(), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) {
      b[i] = first ? g[i] : b[i] * mu + (1 - o_.dampening) * g[i];
      const real d = o_.nesterov ? g[i] + mu * b[i] : b[i];
      p[i] += -lr * d;
    }
  });
}

namespace detail {

// list order: 10
void register_optimizer_sgd(Registry<Optimizer>& r) {
  r.add(optimizer_entry<SGD, SGDOptions>(
      "sgd", "SGD with momentum/dampening/Nesterov and L2 weight decay (Robbins & Monro 1951; Polyak 1964), as torch.optim.SGD"));
}

}  // namespace detail

}  // namespace mtlgrad
