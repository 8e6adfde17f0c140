#include "mtlgrad/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace mtlgrad::parallel {
namespace {

thread_local bool in_item = false;  // a nested call runs inline (no deadlock on the pool)

int env_threads() {
  const char* e = std::getenv("MTLGRAD_THREADS");
  if (!e || !*e) return 1;
  char* end = nullptr;
  const long v = std::strtol(e, &end, 10);
  return (end && *end == '\0' && v >= 1) ? int(std::min<long>(v, 256)) : 1;
}

// W−1 persistent workers; the caller runs part 0 of a job, worker w part w. A job is published
// under the mutex with a new generation number; each worker runs its part once per generation.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  int threads() const { return threads_.load(std::memory_order_relaxed); }
  void set_threads(int n) {
    std::lock_guard<std::mutex> d(dispatch_);
    threads_.store(std::clamp(n, 1, 256), std::memory_order_relaxed);
  }

  void run(std::size_t n, std::size_t min_items, detail::ItemsFn fn, void* ctx) {
    if (n == 0) return;
    std::size_t W = std::size_t(threads());
    W = std::min(W, std::max<std::size_t>(1, n / std::max<std::size_t>(min_items, 1)));
    std::unique_lock<std::mutex> d(dispatch_, std::defer_lock);
    if (W <= 1 || in_item || !d.try_lock()) {
      fn(ctx, 0, n);
      return;
    }
    ensure_workers(W - 1);
    {
      std::lock_guard<std::mutex> l(m_);
      fn_ = fn;
      ctx_ = ctx;
      n_ = n;
      parts_ = W;
      pending_ = W - 1;
      ++generation_;
    }
    wake_.notify_all();
    in_item = true;
    fn(ctx, 0, end_of(0, n, W));
    in_item = false;
    std::unique_lock<std::mutex> l(m_);
    done_.wait(l, [&] { return pending_ == 0; });
  }

 private:
  static std::size_t end_of(std::size_t w, std::size_t n, std::size_t W) { return n * (w + 1) / W; }

  void ensure_workers(std::size_t k) {
    std::uint64_t now;
    {
      std::lock_guard<std::mutex> l(m_);
      now = generation_;
    }
    while (workers_.size() < k) {
      const std::size_t id = workers_.size() + 1;
      workers_.emplace_back([this, id, now] { work(id, now); });
    }
  }

  // `seen`: the generation before the job the worker is started for, so that it runs that job.
  void work(std::size_t id, std::uint64_t seen) {
    in_item = true;
    for (;;) {
      detail::ItemsFn fn;
      void* ctx;
      std::size_t n, W;
      {
        std::unique_lock<std::mutex> l(m_);
        wake_.wait(l, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (id >= parts_) continue;  // a job with fewer parts than workers
        fn = fn_;
        ctx = ctx_;
        n = n_;
        W = parts_;
      }
      fn(ctx, end_of(id - 1, n, W), end_of(id, n, W));
      {
        std::lock_guard<std::mutex> l(m_);
        --pending_;
      }
      done_.notify_one();
    }
  }

  std::atomic<int> threads_{env_threads()};
  std::mutex dispatch_;  // one job at a time; held by the dispatching caller
  std::mutex m_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::uint64_t generation_ = 0;
  detail::ItemsFn fn_ = nullptr;
  void* ctx_ = nullptr;
  std::size_t n_ = 0, parts_ = 0, pending_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void set_threads(int n) { pool().set_threads(n); }
int threads() { return pool().threads(); }

namespace detail {
void run(std::size_t n, std::size_t min_items_per_thread, ItemsFn fn, void* ctx) {
  pool().run(n, min_items_per_thread, fn, ctx);
}
}  // namespace detail

}  // namespace mtlgrad::parallel
