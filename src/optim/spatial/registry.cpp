#include "registry_parts.hpp"

// Generated from the register_aggregator_<id> functions of this folder's sources.
#include "aggregator_list.hpp"

namespace mtlgrad {

Registry<Aggregator>& aggregators() {
  static Registry<Aggregator> r = [] {
    Registry<Aggregator> reg("aggregator");
    detail::register_listed_aggregators(reg);
    return reg;
  }();
  return r;
}

std::unique_ptr<Aggregator> make_aggregator(const nlohmann::json& spec, const std::string& path) {
  return aggregators().create(spec, path);
}

}  // namespace mtlgrad
