#include "mtlgrad/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include "for_values.hpp"

namespace mtlgrad {

namespace {

StateLayout adam_layout(bool amsgrad) {
  StateLayout l{{{"exp_avg"}, {"exp_avg_sq"}}, {}};
  if (amsgrad) l.tensors.push_back({"max_exp_avg_sq"});
  return l;
}

// The moment updates and the step of Adam and AdamW (torch's _single_tensor_adam order), over n
// values. Elementwise with no reassociation: the vectorised loop gives the scalar loop's bits.
template <bool Amsgrad>
inline void adam_loop(std::size_t n, real* __restrict p, const real* __restrict g, real* __restrict m,
                      real* __restrict v, real* __restrict vmax, real b1, real b2, real neg_step_size, real bc2_sqrt,
                      real eps) {
  const real c1 = 1 - b1, c2 = 1 - b2;
  for (std::size_t i = 0; i < n; ++i) {
    const real gi = g[i];
    const real mi = m[i] * b1 + c1 * gi;
    const real vi = v[i] * b2 + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    real vhat = vi;
    if constexpr (Amsgrad) vmax[i] = vhat = std::max(vmax[i], vi);
    p[i] += neg_step_size * mi / (std::sqrt(vhat) / bc2_sqrt + eps);
  }
}

// The loop is bound by the divider (two divisions and a square root per value); with AVX2 it
// divides four doubles at a time instead of two, ~2x faster (plain AVX2: no FMA, so the same bits).
// g++ picks the clone at load time from the CPU; elsewhere it is the plain loop.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__AVX2__)
#define MTLGRAD_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MTLGRAD_AVX2_CLONES
#endif

MTLGRAD_AVX2_CLONES void adam_values(std::size_t n, real* __restrict p, const real* __restrict g, real* __restrict m,
                                     real* __restrict v, real b1, real b2, real neg_step_size, real bc2_sqrt,
                                     real eps) {
  adam_loop<false>(n, p, g, m, v, nullptr, b1, b2, neg_step_size, bc2_sqrt, eps);
}

MTLGRAD_AVX2_CLONES void amsgrad_values(std::size_t n, real* __restrict p, const real* __restrict g,
                                        real* __restrict m, real* __restrict v, real* __restrict vmax, real b1,
                                        real b2, real neg_step_size, real bc2_sqrt, real eps) {
  adam_loop<true>(n, p, g, m, v, vmax, b1, b2, neg_step_size, bc2_sqrt, eps);
}

void adam_step(Tensor& param, const Tensor& grad, ParamState& s, const AdamOptions& o, AdamBiasCorrection& bc) {
  const real b1 = o.betas[0], b2 = o.betas[1];
  if (bc.step != s.step || bc.lr != o.lr) {  // once per step, not per tensor (std::pow is ~30 ns)
    const real t = real(s.step);
    bc.step = s.step;
    bc.lr = o.lr;
    bc.step_size = o.lr / (1 - std::pow(b1, t));
    bc.bc2_sqrt = std::sqrt(1 - std::pow(b2, t));
  }
  real* m = s.tensors[0].data();
  real* v = s.tensors[1].data();
  real* vmax = o.amsgrad ? s.tensors[2].data() : nullptr;
  real* p = param.data();
  const real* g = grad.data();
  for_values(param.size(), [&](std::size_t b, std::size_t e) {
    if (vmax)
      amsgrad_values(e - b, p + b, g + b, m + b, v + b, vmax + b, b1, b2, -bc.step_size, bc.bc2_sqrt, o.eps);
    else
      adam_values(e - b, p + b, g + b, m + b, v + b, b1, b2, -bc.step_size, bc.bc2_sqrt, o.eps);
  });
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

void Adam::update(Tensor& param, const Tensor& grad, ParamState& s) { adam_step(param, grad, s, o_, bc_); }

StateLayout AdamW::layout() const { return adam_layout(o_.amsgrad); }

void AdamW::update(Tensor& param, const Tensor& grad, ParamState& s) {
  const real keep = 1 - o_.lr * o_.weight_decay;  // decoupled: θ ← θ (1 − η λ)
  real* p = param.data();
  for_values(param.size(), [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) p[i] *= keep;
  });
  adam_step(param, grad, s, o_, bc_);
}

namespace detail {

// list order: 50
void register_optimizer_adam(Registry<Optimizer>& r) {
  r.add(optimizer_entry<Adam, AdamOptions>(
      "adam", "bias-corrected first and second moments, optional AMSGrad (Kingma & Ba 2015; Reddi et al. 2018), as torch.optim.Adam"));
}

// list order: 60
void register_optimizer_adamw(Registry<Optimizer>& r) {
  r.add(optimizer_entry<AdamW, AdamWOptions>(
      "adamw", "Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW"));
}

}  // namespace detail

}  // namespace mtlgrad
