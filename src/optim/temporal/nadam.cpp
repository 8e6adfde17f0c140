#include "mtlgrad/optim/nadam.hpp"

#include "for_values.hpp"

#include <cmath>

namespace mtlgrad {

void NAdamOptions::validate(const std::string& who) const {
  check_nonnegative(who, "lr", lr);
  check_below_one(who, "betas[0]", betas[0], "beta");
  check_below_one(who, "betas[1]", betas[1], "beta");
  check_nonnegative(who, "eps", eps);
  check_nonnegative(who, "weight_decay", weight_decay);
  check_nonnegative(who, "momentum_decay", momentum_decay);
}

StateLayout NAdam::layout() const { return {{{"exp_avg"}, {"exp_avg_sq"}}, {{"mu_product", 1}}}; }

void NAdam::update(Tensor& param, const Tensor& grad, ParamState& s) {
  real* p = param.data();
  const real* g = grad.data();
  real* m = s.tensors[0].data();
  real* v = s.tensors[1].data();
  real& mu_product = s.scalars[0];
  const real b1 = o_.betas[0], b2 = o_.betas[1], t = real(s.step);
  const real bias_correction2 = 1 - std::pow(b2, t);
  const real mu = b1 * (1 - real(0.5) * std::pow(real(0.96), t * o_.momentum_decay));
  const real mu_next = b1 * (1 - real(0.5) * std::pow(real(0.96), (t + 1) * o_.momentum_decay));
  mu_product *= mu;
  const real mu_product_next = mu_product * mu * mu_next;
  const real grad_coef = -o_.lr * (1 - mu) / (1 - mu_product);
  const real avg_coef = -o_.lr * mu_next / (1 - mu_product_next);
  for_values(param.size(), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) {
      m[i] = m[i] * b1 + (1 - b1) * g[i];
      v[i] = v[i] * b2 + (1 - b2) * g[i] * g[i];
      const real denom = std::sqrt(v[i] / bias_correction2) + o_.eps;
      p[i] += grad_coef * g[i] / denom;
      p[i] += avg_coef * m[i] / denom;
    }
  });
}

namespace detail {

// list order: 70
void register_optimizer_nadam(Registry<Optimizer>& r) {
  r.add(optimizer_entry<NAdam, NAdamOptions>(
      "nadam", "Adam with Nesterov momentum and a momentum schedule (Dozat 2016), as torch.optim.NAdam"));
}

}  // namespace detail

}  // namespace mtlgrad
