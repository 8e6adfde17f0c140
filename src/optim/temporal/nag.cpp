#include "mtlgrad/optim/nag.hpp"

#include "for_values.hpp"

namespace mtlgrad {

void NAGOptions::validate(const std::string& who) const {
  check_nonnegative(who, "lr", lr);
  check_below_one(who, "momentum", momentum, "momentum");
}

StateLayout NAG::layout() const { return {{{"velocity"}}, {}}; }

void NAG::lookahead(const std::vector<const Tensor*>& params, std::vector<Tensor>& out) const {
  Optimizer::lookahead(params, out);  // θ̃ = θ where there is no velocity yet
  if (states_.empty()) return;
  if (states_.size() != params.size())
    throw std::invalid_argument("nag: lookahead: " + std::to_string(params.size()) +
                                " params, but the state holds " + std::to_string(states_.size()));
  const real scale = o_.lr * o_.momentum;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const ParamState& s = states_[k];
    if (!s.live) continue;
    if (s.shape != shape_of(out[k]))
      throw std::invalid_argument("nag: lookahead: params[" + std::to_string(k) + "] has shape " +
                                  shape_str(out[k]) + " but its state has shape " + shape_str(s.shape));
    real* look = out[k].data();
    const real* v = s.tensors[0].data();
    for (std::size_t i = 0; i < out[k].size(); ++i) look[i] = look[i] - scale * v[i];
  }
}

void NAG::update(Tensor& param, const Tensor& grad, ParamState& s) {
  real* p = param.data();
  const real* d = grad.data();  // evaluated at lookahead() by the caller
  real* v = s.tensors[0].data();
  for_values(param.size(), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) {
      v[i] = o_.momentum * v[i] + d[i];
      p[i] = p[i] - o_.lr * v[i];
    }
  });
}

namespace detail {

// list order: 80
void register_optimizer_nag(Registry<Optimizer>& r) {
  r.add(optimizer_entry<NAG, NAGOptions>(
      "nag", "classical Nesterov momentum, gradient taken at the look-ahead point (Nesterov 1983; Sutskever et al. 2013)"));
}

}  // namespace detail

}  // namespace mtlgrad
