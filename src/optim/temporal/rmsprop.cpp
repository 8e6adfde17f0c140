#include "mtlgrad/optim/rmsprop.hpp"

#include "for_values.hpp"

#include <cmath>

namespace mtlgrad {

void RMSpropOptions::validate(const std::string& who) const {
  check_nonnegative(who, "lr", lr);
  check_option(alpha >= 0 && alpha <= 1, who, "alpha", alpha, "0 <= alpha <= 1");
  check_nonnegative(who, "eps", eps);
  check_nonnegative(who, "weight_decay", weight_decay);
  check_nonnegative(who, "momentum", momentum);
}

StateLayout RMSprop::layout() const {
  StateLayout l{{{"square_avg"}}, {}};
  if (o_.momentum > 0) l.tensors.push_back({"momentum_buffer"});
  if (o_.centered) l.tensors.push_back({"grad_avg"});
  return l;
}

void RMSprop::update(Tensor& param, const Tensor& grad, ParamState& s) {
  real* p = param.data();
  const real* g = grad.data();
  real* v = s.tensors[0].data();
  real* b = o_.momentum > 0 ? s.tensors[1].data() : nullptr;
  real* gbar = o_.centered ? s.tensors.back().data() : nullptr;
  const real alpha = o_.alpha, lr = o_.lr;
  for_values(param.size(), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) {
      v[i] = v[i] * alpha + (1 - alpha) * g[i] * g[i];
      real avg;
      if (gbar) {
        gbar[i] = gbar[i] * alpha + (1 - alpha) * g[i];
        avg = std::sqrt(v[i] - gbar[i] * gbar[i]);
      } else {
        avg = std::sqrt(v[i]);
      }
      avg += o_.eps;
      if (b) {
        b[i] = b[i] * o_.momentum + g[i] / avg;
        p[i] += -lr * b[i];
      } else {
        p[i] += -lr * g[i] / avg;
      }
    }
  });
}

namespace detail {

// list order: 40
void register_optimizer_rmsprop(Registry<Optimizer>& r) {
  r.add(optimizer_entry<RMSprop, RMSpropOptions>(
      "rmsprop", "steps scaled by a running RMS of the gradient, optionally centered (Hinton 2012; Graves 2013), as torch.optim.RMSprop"));
}

}  // namespace detail

}  // namespace mtlgrad
