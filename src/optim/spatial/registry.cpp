#include "registry_parts.hpp"

namespace mtlgrad {

Registry<Aggregator>& aggregators() {
  static Registry<Aggregator> r = [] {
    Registry<Aggregator> reg("aggregator");
    detail::register_basic_aggregators(reg);
    detail::register_memory_aggregators(reg);
    detail::register_family_aggregators(reg);
    return reg;
  }();
  return r;
}

std::unique_ptr<Aggregator> make_aggregator(const nlohmann::json& spec, const std::string& path) {
  return aggregators().create(spec, path);
}

}  // namespace mtlgrad
