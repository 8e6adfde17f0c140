#include "mtlgrad/optim/adadelta.hpp"

#include "for_values.hpp"

#include <cmath>

namespace mtlgrad {

void AdadeltaOptions::validate(const std::string& who) const {
  check_nonnegative(who, "lr", lr);
  check_option(rho >= 0 && rho <= 1, who, "rho", rho, "0 <= rho <= 1");
  check_nonnegative(who, "eps", eps);
  check_nonnegative(who, "weight_decay", weight_decay);
}

StateLayout Adadelta::layout() const { return {{{"square_avg"}, {"acc_delta"}}, {}}; }

void Adadelta::update(Tensor& param, const Tensor& grad, ParamState& s) {
  real* p = param.data();
  const real* g = grad.data();
  real* v = s.tensors[0].data();
  real* u = s.tensors[1].data();
  const real rho = o_.rho, eps = o_.eps;
  for_values(param.size(), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) {
      v[i] = v[i] * rho + (1 - rho) * g[i] * g[i];
      const real delta = std::sqrt(u[i] + eps) / std::sqrt(v[i] + eps) * g[i];
      u[i] = u[i] * rho + (1 - rho) * delta * delta;
      p[i] += -o_.lr * delta;
    }
  });
}

namespace detail {

// list order: 30
void register_optimizer_adadelta(Registry<Optimizer>& r) {
  r.add(optimizer_entry<Adadelta, AdadeltaOptions>(
      "adadelta", "unit-corrected steps from running averages of g² and Δ² (Zeiler 2012), as torch.optim.Adadelta"));
}

}  // namespace detail

}  // namespace mtlgrad
