#pragma once
/// @file interrupt.hpp
/// SIGINT and SIGTERM as a request to stop, not a death. The handler does nothing but record the
/// signal in a flag; the code that can stop cleanly polls it: the training loop after every step
/// (run_experiment writes a checkpoint and throws RunInterrupted), the sweep before each run, and
/// run_process() while a child runs (it kills the child and returns). `mtlgrad run` and
/// `mtlgrad sweep` install the handlers; a library user who does not install them never sees the
/// flag set, unless it calls request_interrupt() itself.
///
/// The flag is a lock-free std::atomic<int> rather than a volatile sig_atomic_t: a sweep polls it
/// from several threads, and C++17 allows lock-free atomics in a signal handler.

namespace mtlgrad {

/// Installs the recording handler for SIGINT and SIGTERM (SA_RESTART: an interrupted read or
/// write is resumed, so a write in progress completes). Idempotent.
void install_interrupt_handlers();

/// 0 while no stop was asked for, else the signal number (the first one received).
int interrupt_signal();

/// Sets the flag as the handler would (tests; a caller that wants the run to stop).
void request_interrupt(int signal);

/// Clears the flag (tests that interrupt in-process, then go on).
void clear_interrupt();

/// The conventional exit code of a process stopped by `signal`: 128 + signal (130 for SIGINT,
/// 143 for SIGTERM).
inline int interrupt_exit_code(int signal) { return 128 + signal; }

}  // namespace mtlgrad
