#pragma once
// The optimizers' elementwise updates on mtlgrad's threads (core/parallel.hpp).
#include <cstddef>

#include "mtlgrad/core/parallel.hpp"

namespace mtlgrad {

/// Runs f(begin, end) over consecutive ranges of [0, n) on mtlgrad's threads, for an optimizer's
/// elementwise update: each value's arithmetic is the same however the values are split, so the
/// result is bit-identical for any thread count. Fewer than 16 384 values per thread run on the
/// caller (a dispatch costs a few µs).
template <class F>
void for_values(std::size_t n, F&& f) {
  parallel::for_items(n, 16384, f);
}

}  // namespace mtlgrad
