#include "registry_parts.hpp"

namespace mtlgrad {

Registry<Aggregator>& aggregators() {
  static Registry<Aggregator> r = [] {
    Registry<Aggregator> reg("aggregator");
    detail::register_basic_aggregators(reg);
    detail::register_memory_aggregators(reg);
    detail::register_family_aggregators(reg);
    detail::register_aggregator_fairgrad(reg);
    detail::register_aggregator_config(reg);
    detail::register_aggregator_m_config(reg);
    detail::register_aggregator_excessmtl(reg);
    detail::register_aggregator_db_mtl(reg);
    detail::register_aggregator_stch(reg);
    detail::register_aggregator_gls(reg);
    return reg;
  }();
  return r;
}

std::unique_ptr<Aggregator> make_aggregator(const nlohmann::json& spec, const std::string& path) {
  return aggregators().create(spec, path);
}

}  // namespace mtlgrad
