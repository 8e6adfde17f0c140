// The temporal stages: each defines register_optimizer_<id> in its own source; the generated
// list (cmake/stage_list.cmake) calls them in `mtlgrad list` order.
#include "mtlgrad/optim/optimizer.hpp"

#include "optimizer_list.hpp"

namespace mtlgrad {

Registry<Optimizer>& optimizers() {
  static Registry<Optimizer> r = [] {
    Registry<Optimizer> reg("optimizer");
    detail::register_listed_optimizers(reg);
    return reg;
  }();
  return r;
}

std::unique_ptr<Optimizer> make_optimizer(const nlohmann::json& spec, const std::string& path) {
  return optimizers().create(spec, path);
}

}  // namespace mtlgrad
