#pragma once
/// @file server.hpp
/// The HTTP server of `mtlgrad serve` (cpp-httplib, Debian's libcpp-httplib-dev): every request
/// goes to Api::handle (api.hpp); bodies larger than Limits::max_body_bytes are refused with 413
/// before they are read. It listens on `host` (127.0.0.1 unless asked otherwise: the API runs
/// training steps for anyone who can reach it) and stops when interrupt_signal()
/// (core/interrupt.hpp) is set or stop() is called, after the requests in progress have answered.

#include <memory>
#include <string>

#include "mtlgrad/serve/api.hpp"

namespace mtlgrad::serve {

class HttpServer {
 public:
  explicit HttpServer(const Api& api);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds `host`:`port` (port 0: a free port) and returns the port; std::runtime_error naming the
  /// address when it cannot.
  int bind(const std::string& host, int port);
  /// Serves until interrupt_signal() or stop(); returns once every worker has finished.
  void run();
  /// Asks run() to return (any thread).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mtlgrad::serve
