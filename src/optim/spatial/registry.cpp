#include "registry_parts.hpp"

namespace mtlgrad {

Registry<Aggregator>& aggregators() {
  static Registry<Aggregator> r = [] {
    Registry<Aggregator> reg("aggregator");
    detail::register_basic_aggregators(reg);
    detail::register_memory_aggregators(reg);
    detail::register_family_aggregators(reg);
    detail::register_aggregator_famo(reg);
    detail::register_aggregator_gradnorm(reg);
    detail::register_aggregator_sdmgrad(reg);
    detail::register_aggregator_imtl(reg);
    detail::register_aggregator_moco(reg);
    detail::register_aggregator_cr_mogm(reg);
    return reg;
  }();
  return r;
}

std::unique_ptr<Aggregator> make_aggregator(const nlohmann::json& spec, const std::string& path) {
  return aggregators().create(spec, path);
}

}  // namespace mtlgrad
