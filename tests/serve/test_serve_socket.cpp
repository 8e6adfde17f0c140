// mtlgrad serve over a real socket on an ephemeral port of 127.0.0.1: the API's answers arrive
// as sent, encoded traversals are refused, an oversized body is refused with 413 in JSON before
// it is read, and stop() or SIGINT's flag ends run().
#include "test_util.hpp"
#include "serve/serve_util.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fstream>
#include <thread>

#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/serve/server.hpp"

using namespace mtlgrad;
using namespace mtlgrad::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Reply {
  int status = 0;
  std::string head, body;
};

// One HTTP/1.1 exchange, written by hand so that the target goes out exactly as given.
Reply http_exchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(std::uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (413): what it answered is still read
    sent += std::size_t(n);
  }
  std::string all;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) all.append(buf, std::size_t(n));
  ::close(fd);
  Reply r;
  const auto end = all.find("\r\n\r\n");
  REQUIRE_MESSAGE(end != std::string::npos, all);
  r.head = all.substr(0, end);
  r.body = all.substr(end + 4);
  r.status = std::stoi(all.substr(9, 3));
  return r;
}

Reply get(int port, const std::string& target) {
  return http_exchange(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

Reply post(int port, const std::string& target, const std::string& body) {
  return http_exchange(port, "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: "
                        "application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

}  // namespace

TEST_CASE("over a socket on an ephemeral port") {
  const std::string base = serve_scratch("socket");
  fs::create_directories(base + "/runs/r");
  std::ofstream(base + "/runs/r/config.json") << "{}\n";
  std::ofstream(base + "/secret.txt") << "secret\n";
  serve::Limits limits;
  limits.max_body_bytes = 4096;
  const serve::Api api(base + "/runs", limits);
  serve::HttpServer server(api);
  const int port = server.bind("127.0.0.1", 0);
  REQUIRE(port > 0);
  std::thread running([&] { server.run(); });

  const Reply info = get(port, "/api/info");
  CHECK(info.status == 200);
  CHECK(info.head.find("Content-Type: application/json") != std::string::npos);
  CHECK(info.head.find("Content-Security-Policy: default-src 'none'") != std::string::npos);
  CHECK(json::parse(info.body)["limits"]["max_body_bytes"] == 4096);
  const Reply page = get(port, "/");
  CHECK(page.status == 200);
  CHECK(page.body == serve::page());
  CHECK(get(port, "/api/file?path=r%2Fconfig.json").body == "{}\n");
  for (const char* hostile : {"/api/file?path=..%2Fsecret.txt", "/api/file?path=%2e%2e%2fsecret.txt",
                              "/api/file?path=%2E%2E/secret.txt", "/api/file?path=%2Ftmp"}) {
    CAPTURE(hostile);
    const Reply r = get(port, hostile);
    CHECK(r.status == 403);
    CHECK(json::parse(r.body)["status"] == 403);
  }
  // DNS rebinding: a request for another host name is refused; localhost is answered.
  const Reply rebound = http_exchange(port, "GET /api/runs HTTP/1.1\r\nHost: evil.example:8080\r\nConnection: close\r\n\r\n");
  CHECK(rebound.status == 403);
  CHECK(json::parse(rebound.body)["error"].get<std::string>().find("answers only 127.0.0.1 and localhost") != std::string::npos);
  CHECK(http_exchange(port, "GET /api/runs HTTP/1.1\r\nHost: localhost:1\r\nConnection: close\r\n\r\n").status == 200);
  // A path that leaves the site by its own dots: the server does not normalise it into a file.
  const Reply dots = get(port, "/%2e%2e/%2e%2e/secret.txt");
  CHECK(dots.status == 404);
  CHECK(dots.body.find("secret\n") == std::string::npos);

  const json config = {{"model", {{"name", "toy2d"}, {"start", {1, 2}}}}, {"aggregator", "pcgrad"}, {"optimizer", "adam"}};
  const Reply ran = post(port, "/api/playground/run", json{{"config", config}, {"steps", 20}, {"every", 10}}.dump());
  CHECK(ran.status == 200);
  CHECK(json::parse(ran.body) == json::parse(call(api, "POST", "/api/playground/run",
                                                  json{{"config", config}, {"steps", 20}, {"every", 10}}.dump()).body));
  const Reply big = post(port, "/api/playground/run", std::string(5000, ' '));
  CHECK(big.status == 413);
  CHECK(json::parse(big.body)["status"] == 413);
  const Reply broken = post(port, "/api/playground/run", "{\"config\": ");
  CHECK(broken.status == 400);

  // Concurrent clients over the socket.
  std::vector<std::thread> clients;
  std::vector<int> statuses(16);
  for (int t = 0; t < 16; ++t)
    clients.emplace_back([&, t] { statuses[t] = get(port, t % 2 ? "/api/runs" : "/api/playground/landscape?n=21").status; });
  for (auto& c : clients) c.join();
  CHECK(std::count(statuses.begin(), statuses.end(), 200) == 16);

  server.stop();
  running.join();  // run() returns: the test would hang otherwise

  // SIGINT's flag stops a server as well.
  serve::HttpServer second(api);
  const int port2 = second.bind("127.0.0.1", 0);
  std::thread running2([&] { second.run(); });
  CHECK(get(port2, "/api/info").status == 200);
  request_interrupt(2);
  running2.join();
  clear_interrupt();
  CHECK_THROWS_WITH_SUBSTR(serve::HttpServer(api).bind("203.0.113.9", 0), "cannot listen on 203.0.113.9:0");
  fs::remove_all(base);
}
