#include "mtlgrad/optim/optimizer.hpp"

#include <stdexcept>

#include <xtensor/xnoalias.hpp>

namespace mtlgrad {

void Optimizer::lookahead(const std::vector<const Tensor*>& params, std::vector<Tensor>& out) const {
  out.resize(params.size());
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (params[k] == nullptr) throw std::invalid_argument(name() + ": lookahead: params[" + std::to_string(k) + "] is null");
    if (out[k].shape() != params[k]->shape()) out[k].resize(params[k]->shape());
    xt::noalias(out[k]) = *params[k];
  }
}

void Optimizer::set_lr(real) { throw std::logic_error(name() + ": set_lr is not supported"); }

}  // namespace mtlgrad
