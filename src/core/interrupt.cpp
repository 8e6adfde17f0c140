#include "mtlgrad/core/interrupt.hpp"

#include <atomic>
#include <csignal>

#include <signal.h>

namespace mtlgrad {
namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the interrupt flag is written by a signal handler");

extern "C" void record_signal(int signal) {
  int none = 0;
  g_signal.compare_exchange_strong(none, signal);  // the first signal is the one reported
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = record_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

int interrupt_signal() { return g_signal.load(std::memory_order_relaxed); }

void request_interrupt(int signal) { record_signal(signal); }

void clear_interrupt() { g_signal.store(0); }

}  // namespace mtlgrad
