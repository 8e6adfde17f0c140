#pragma once
/// @file parallel.hpp
/// The threads of mtlgrad's own kernels (the trainer's Gramian, `combine`, the optimizers'
/// elementwise loops): a small pool of persistent workers and a fixed partition of the work.
///
/// Bit-identical for any thread count: a kernel splits its work into items whose boundaries do
/// not depend on the thread count (blocks of columns, chunks of values), each item is computed by
/// exactly one thread with the same arithmetic as a single thread would use, and every sum across
/// items is done afterwards by one thread in item order. Only which thread runs an item changes.
/// (OpenBLAS's own threads are another matter: its sums depend on its thread count, see
/// docs/performance.md.)
///
/// The count: set_threads(n), which the run sets from the config's `threads` (as it does OpenBLAS's)
/// and mtlgrad_bench from `--threads`; before that, the environment variable MTLGRAD_THREADS
/// (1 to 256), else 1. With one thread, for_items runs the items inline, in order, on the caller.

#include <cstddef>
#include <type_traits>

namespace mtlgrad::parallel {

/// Threads for our kernels, 1 to 256 (clamped). Workers are started on first use and kept.
void set_threads(int n);
int threads();

namespace detail {
using ItemsFn = void (*)(void* ctx, std::size_t begin, std::size_t end);
void run(std::size_t n, std::size_t min_items_per_thread, ItemsFn fn, void* ctx);
}  // namespace detail

/// Calls f(begin, end) on disjoint ranges covering [0, n), spread across the threads (thread w of
/// W gets the w-th of W near-equal consecutive ranges); returns when all are done. A range holds at
/// least `min_items` items (so small jobs run on the caller alone). f must not throw and must
/// write only memory that belongs to its items. Allocation-free; a call from inside an item, or
/// while another thread is dispatching, runs inline.
template <class F>
void for_items(std::size_t n, std::size_t min_items, F&& f) {
  detail::run(n, min_items,
              [](void* ctx, std::size_t b, std::size_t e) { (*static_cast<std::remove_reference_t<F>*>(ctx))(b, e); },
              const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace mtlgrad::parallel
