#pragma once
// Counts every call of the global operator new in this program (alloc_counter.cpp replaces it),
// so that the benchmark can report the heap allocations of a training step.
#include <cstddef>

namespace bench {
std::size_t allocations();
}
