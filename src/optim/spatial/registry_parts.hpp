#pragma once
// Each family of spatial stages registers itself in its own function, called by registry.cpp in
// this order (the order of `mtlgrad list`).
#include "mtlgrad/optim/aggregator.hpp"

namespace mtlgrad::detail {
void register_basic_aggregators(Registry<Aggregator>& r);   // sum, mean, weighted, pcgrad
void register_memory_aggregators(Registry<Aggregator>& r);  // ada-, rmsprop-, adam-pcgrad, pcgrad-momentum
void register_family_aggregators(Registry<Aggregator>& r);  // mgda, cagrad, gradvac, ... (ALGORITHMS §2)
}  // namespace mtlgrad::detail
