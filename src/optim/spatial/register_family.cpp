#include "registry_parts.hpp"

namespace mtlgrad::detail {
// Filled as the stages of this family land.
void register_family_aggregators(Registry<Aggregator>& /*r*/) {}
}  // namespace mtlgrad::detail
