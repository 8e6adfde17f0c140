// The HTTP transport of `mtlgrad serve`: cpp-httplib (Debian's libcpp-httplib-dev) carries each
// request to Api::handle and its answer back. Compiled with the library's pkg-config flags
// (CMakeLists.txt), which set the layout of its structs.
#include "mtlgrad/serve/server.hpp"

#include <atomic>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include <httplib.h>

#include "mtlgrad/core/interrupt.hpp"

namespace mtlgrad::serve {

struct HttpServer::Impl {
  const Api& api;
  httplib::Server server;
  std::atomic<bool> stop{false};
  bool loopback = false;  ///< bound to 127.0.0.1, ::1 or localhost: only those names are answered
  explicit Impl(const Api& a) : api(a) {}
};

namespace {

bool is_loopback_name(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]";
}

// The Host header's name without its port ("127.0.0.1:8080" → "127.0.0.1", "[::1]:80" → "[::1]").
std::string host_name(const std::string& header) {
  if (!header.empty() && header[0] == '[') return header.substr(0, header.find(']') + 1);
  return header.substr(0, header.find(':'));
}

}  // namespace

HttpServer::HttpServer(const Api& api) : impl_(std::make_unique<Impl>(api)) {
  auto& s = impl_->server;
  const Api* a = &api;
  Impl* impl = impl_.get();
  auto forward = [a, impl](const httplib::Request& req, httplib::Response& res) {
    // A server on the loopback answers only requests addressed to the loopback: a web page whose
    // own host name was re-pointed at 127.0.0.1 (DNS rebinding) must not read the runs folder.
    const std::string host = host_name(req.get_header_value("Host"));
    // req.target is the target as sent (still percent-encoded): Api decodes it once, itself.
    const Response r = impl->loopback && !is_loopback_name(host)
                           ? Response{403, "application/json",
                                      nlohmann::json({{"error", "Host " + nlohmann::json(host).dump() +
                                                                    ": this server answers only 127.0.0.1 and localhost "
                                                                    "(start it with --host to serve other names)"},
                                                      {"status", 403}})
                                          .dump(),
                                      {}}
                           : a->handle({req.method, req.target, req.body, req.get_header_value("Content-Type")});
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    // The page is self-contained: it may talk only to this server and load nothing else.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-store");
    res.set_content(r.body, r.content_type.c_str());
  };
  // Every route and method goes to the Api, which answers 404 or 405 itself.
  s.Get(".*", forward);
  s.Post(".*", forward);
  s.Put(".*", forward);
  s.Delete(".*", forward);
  s.Patch(".*", forward);
  s.Options(".*", forward);
  s.set_payload_max_length(api.limits().max_body_bytes);
  // What httplib answers itself (413 for a body over the cap, 400 for a malformed request, 404 for
  // a path the routes' pattern cannot match) is given the API's JSON error body too.
  s.set_error_handler(httplib::Server::Handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message = res.status == 413 ? "the body is over this server's cap"
                                : res.status == 404 ? "no such page or API route"
                                                    : "HTTP error " + std::to_string(res.status);
    res.set_content(nlohmann::json({{"error", message}, {"status", res.status}}).dump(), "application/json");
  }));
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
}

HttpServer::~HttpServer() = default;

int HttpServer::bind(const std::string& host, int port) {
  auto& s = impl_->server;
  impl_->loopback = is_loopback_name(host);
  const int got = port == 0 ? s.bind_to_any_port(host.c_str()) : (s.bind_to_port(host.c_str(), port) ? port : -1);
  if (got <= 0)
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) +
                             " (address in use, not an address of this machine, or a port below 1024 without root)");
  return got;
}

void HttpServer::run() {
  std::thread listener([this] { impl_->server.listen_after_bind(); });
  // server.stop() ends only a listen that has begun: wait for it (5 s at most) before polling.
  for (int i = 0; i < 500 && !impl_->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  while (!impl_->stop.load() && !interrupt_signal()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  impl_->server.stop();
  listener.join();
}

void HttpServer::stop() { impl_->stop.store(true); }

}  // namespace mtlgrad::serve
