#pragma once
// Shared by the spatial-stage tests: one aggregation of J by a stage built from its JSON spec.
#include <nlohmann/json.hpp>

#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad::test {

inline Aggregation run(const nlohmann::json& spec, const Tensor& J, std::uint64_t seed = 0) {
  auto a = make_aggregator(spec);
  Rng rng(seed);
  Aggregation out;
  a->aggregate(J, rng, out);
  return out;
}

/// A 1×n row from a weight vector (to compare weights with CHECK_TENSOR_NEAR).
inline Tensor as_row(const std::vector<real>& w) {
  Tensor t = zeros(1, w.size());
  for (std::size_t k = 0; k < w.size(); ++k) t(0, k) = w[k];
  return t;
}

}  // namespace mtlgrad::test
