#include "mtlgrad/optim/adam.hpp"

#include <algorithm>
#include <cmath>

namespace mtlgrad {

namespace {

StateLayout adam_layout(bool amsgrad) {
  StateLayout l{{{"exp_avg"}, {"exp_avg_sq"}}, {}};
  if (amsgrad) l.tensors.push_back({"max_exp_avg_sq"});
  return l;
}

// The moment updates and the step of Adam and AdamW (torch's _single_tensor_adam order).
void adam_step(Tensor& param, const Tensor& grad, ParamState& s, const AdamOptions& o) {
  real* p = param.data();
  const real* g = grad.data();
  real* m = s.tensors[0].data();
  real* v = s.tensors[1].data();
  real* vmax = o.amsgrad ? s.tensors[2].data() : nullptr;
  const real b1 = o.betas[0], b2 = o.betas[1];
  const real t = real(s.step);
  const real step_size = o.lr / (1 - std::pow(b1, t));
  const real bc2_sqrt = std::sqrt(1 - std::pow(b2, t));
  for (std::size_t i = 0; i < param.size(); ++i) {
    m[i] = m[i] * b1 + (1 - b1) * g[i];
    v[i] = v[i] * b2 + (1 - b2) * g[i] * g[i];
    const real vhat = vmax ? (vmax[i] = std::max(vmax[i], v[i])) : v[i];
    p[i] += -step_size * m[i] / (std::sqrt(vhat) / bc2_sqrt + o.eps);
  }
}

}  // namespace

void AdamOptions::validate(const std::string& who) const {
  check_nonnegative(who, "lr", lr);
  check_below_one(who, "betas[0]", betas[0], "beta");
  check_below_one(who, "betas[1]", betas[1], "beta");
  check_nonnegative(who, "eps", eps);
  check_nonnegative(who, "weight_decay", weight_decay);
}

StateLayout Adam::layout() const { return adam_layout(o_.amsgrad); }

void Adam::update(Tensor& param, const Tensor& grad, ParamState& s) { adam_step(param, grad, s, o_); }

StateLayout AdamW::layout() const { return adam_layout(o_.amsgrad); }

void AdamW::update(Tensor& param, const Tensor& grad, ParamState& s) {
  const real keep = 1 - o_.lr * o_.weight_decay;  // decoupled: θ ← θ (1 − η λ)
  real* p = param.data();
  for (std::size_t i = 0; i < param.size(); ++i) p[i] *= keep;
  adam_step(param, grad, s, o_);
}

}  // namespace mtlgrad
