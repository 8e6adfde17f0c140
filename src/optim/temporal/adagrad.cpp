#include "mtlgrad/optim/adagrad.hpp"

#include "for_values.hpp"

#include <cmath>

namespace mtlgrad {

void AdagradOptions::validate(const std::string& who) const {
  check_nonnegative(who, "lr", lr);
  check_nonnegative(who, "lr_decay", lr_decay);
  check_nonnegative(who, "weight_decay", weight_decay);
  check_nonnegative(who, "initial_accumulator_value", initial_accumulator_value);
  check_nonnegative(who, "eps", eps);
}

StateLayout Adagrad::layout() const { return {{{"sum", o_.initial_accumulator_value}}, {}}; }

void Adagrad::update(Tensor& param, const Tensor& grad, ParamState& s) {
  real* p = param.data();
  const real* g = grad.data();
  real* sum = s.tensors[0].data();
  const real clr = o_.lr / (1 + real(s.step - 1) * o_.lr_decay);
  for_values(param.size(), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) {
      sum[i] += g[i] * g[i];
      p[i] += -clr * g[i] / (std::sqrt(sum[i]) + o_.eps);
    }
  });
}

namespace detail {

// list order: 20
void register_optimizer_adagrad(Registry<Optimizer>& r) {
  r.add(optimizer_entry<Adagrad, AdagradOptions>(
      "adagrad", "per-coordinate steps scaled by the root of summed squared gradients (Duchi et al. 2011), as torch.optim.Adagrad"));
}

}  // namespace detail

}  // namespace mtlgrad
