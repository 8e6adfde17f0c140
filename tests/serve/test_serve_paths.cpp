// mtlgrad serve: nothing outside the runs folder is served — '..', absolute paths, symlinks that
// lead out, percent-encoded dots and separators — and every error is JSON with its status.
#include "test_util.hpp"
#include "serve/serve_util.hpp"

#include <fstream>

using namespace mtlgrad;
using namespace mtlgrad::test;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// base/runs (served) holds run/config.json and links; base/secret.txt is outside it.
struct Tree {
  std::string base = serve_scratch("paths");
  fs::path root = fs::path(base) / "runs";
  Tree() {
    write(root / "run" / "config.json", "{\"name\": \"inside\"}\n");
    write(fs::path(base) / "secret.txt", "TOPSECRET-4711\n");
    write(fs::path(base) / "outside" / "secret.txt", "TOPSECRET-4711\n");
    fs::create_symlink(fs::path(base) / "secret.txt", root / "link_out.txt");
    fs::create_symlink(fs::path(base) / "outside", root / "dir_out");
    fs::create_symlink(root / "run" / "config.json", root / "link_in.json");
  }
  ~Tree() { fs::remove_all(base); }
};

}  // namespace

TEST_CASE("percent_decode decodes once and refuses malformed escapes and NUL") {
  CHECK(serve::percent_decode("%2e%2E%2f%2F", false, "q") == "..//");
  CHECK(serve::percent_decode("a+b%20c", true, "q") == "a b c");
  CHECK(serve::percent_decode("a+b", false, "q") == "a+b");
  CHECK(serve::percent_decode("%252e", false, "q") == "%2e");  // once: a double encoding stays a name
  for (const char* bad : {"%", "%2", "%zz", "a%0"}) {
    CHECK_THROWS_WITH_SUBSTR(serve::percent_decode(bad, false, "path"), "path: malformed percent escape at offset");
    try {
      serve::percent_decode(bad, false, "path");
    } catch (const serve::HttpError& e) {
      CHECK(e.status == 400);
    }
  }
  CHECK_THROWS_WITH_SUBSTR(serve::percent_decode("a%00b", false, "path"), "path: holds a NUL byte");
}

TEST_CASE("resolve_inside keeps every path inside the root") {
  Tree t;
  const fs::path root = fs::canonical(t.root);
  CHECK(serve::resolve_inside(root, "run/config.json") == root / "run" / "config.json");
  CHECK(serve::resolve_inside(root, "") == root);
  CHECK(serve::resolve_inside(root, "link_in.json") == root / "run" / "config.json");  // a link inside: followed
  auto status = [&](const std::string& rel) {
    try {
      serve::resolve_inside(root, rel);
    } catch (const serve::HttpError& e) {
      return e.status;
    }
    return 200;
  };
  CHECK(status("../secret.txt") == 403);
  CHECK(status("run/../../secret.txt") == 403);
  CHECK(status("run/..") == 403);
  CHECK(status("/etc/passwd") == 403);
  CHECK(status(root.string() + "/run/config.json") == 403);  // absolute, even inside
  CHECK(status("link_out.txt") == 403);
  CHECK(status("dir_out/secret.txt") == 403);
  CHECK(status("dir_out") == 403);
  CHECK(status("run/missing.json") == 404);
  CHECK_THROWS_WITH_SUBSTR(serve::resolve_inside(root, "link_out.txt"), "leads outside the runs folder");
  CHECK_THROWS_WITH_SUBSTR(serve::resolve_inside(root, "../secret.txt"), "'..' is not served");
}

TEST_CASE("/api/file over hostile targets answers 403 or 404 in JSON, and serves what is inside") {
  Tree t;
  const serve::Api api(t.root.string());
  const Answer ok = call(api, "GET", "/api/file?path=run%2Fconfig.json");
  CHECK(ok.status == 200);
  CHECK(ok.body == "{\"name\": \"inside\"}\n");
  CHECK(ok.content_type == "application/json");
  CHECK(call(api, "GET", "/api/file?path=run/config.json").body == ok.body);
  struct Case {
    const char* target;
    int status;
    const char* says;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"/api/file?path=../secret.txt", 403, "'..' is not served"},
           {"/api/file?path=..%2Fsecret.txt", 403, "'..' is not served"},
           {"/api/file?path=%2e%2e%2fsecret.txt", 403, "'..' is not served"},
           {"/api/file?path=%2E%2E/secret.txt", 403, "'..' is not served"},
           {"/api/file?path=run%2f%2e%2e%2f%2e%2e%2fsecret.txt", 403, "'..' is not served"},
           {"/api/file?path=%2Fetc%2Fpasswd", 403, "absolute paths are not served"},
           {"/api/file?path=/etc/passwd", 403, "absolute paths are not served"},
           {"/api/file?path=link_out.txt", 403, "leads outside the runs folder"},
           {"/api/file?path=dir_out%2Fsecret.txt", 403, "leads outside the runs folder"},
           {"/api/file?path=%252e%252e%252fsecret.txt", 404, "not found"},  // decoded once: a file named %2e%2e...
           {"/api/file?path=run%00x", 400, "NUL byte"},
           {"/api/file?path=%zz", 400, "malformed percent escape"},
           {"/api/file", 400, "missing parameter 'path'"},
           {"/api/file?path=run&path=run", 400, "given twice"},
           {"/api/file?path=run/config.json&x=1", 400, "unknown parameter 'x'"},
           {"/api/file?path=run", 404, "not a file"},
           {"/api/run?path=..%2F..", 403, "'..' is not served"},
           {"/api/csv?path=..%2Fsecret.txt", 403, "'..' is not served"},
           {"/api/sweep?path=dir_out", 403, "leads outside"},
           {"/%2e%2e/%2e%2e/etc/passwd", 404, "no such page or API route"},
           {"/../secret.txt", 404, "no such page or API route"},
       }) {
    CAPTURE(c.target);
    const Answer a = call(api, "GET", c.target);
    CHECK(a.status == c.status);
    CHECK(a.content_type == "application/json");
    CHECK(a.json()["status"] == c.status);
    CHECK_MESSAGE(a.error().find(c.says) != std::string::npos, a.error());
    CHECK(a.body.find("TOPSECRET") == std::string::npos);
  }
}

TEST_CASE("methods, routes and the body cap answer with their status in JSON") {
  Tree t;
  serve::Limits limits;
  limits.max_body_bytes = 100;
  const serve::Api api(t.root.string(), limits);
  CHECK(call(api, "POST", "/api/runs").status == 405);
  CHECK(call(api, "GET", "/api/playground/run").status == 405);
  CHECK(call(api, "DELETE", "/api/file?path=run/config.json").status == 405);
  CHECK(call(api, "GET", "/api/nothing").status == 404);
  CHECK(call(api, "POST", "/api/selftest", "{}").status == 404);  // only with a report file
  // A cross-site form or fetch without a CORS preflight can send only text/plain or form types.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""}) {
    CAPTURE(type);
    const Answer a = call(api, "POST", "/api/playground/run", "{}", type);
    CHECK(a.status == 415);
    CHECK(a.error().find("the body must be sent as Content-Type: application/json") != std::string::npos);
  }
  CHECK(call(api, "POST", "/api/playground/run", "{}", "application/json; charset=utf-8").status == 400);  // read
  const Answer big = call(api, "POST", "/api/playground/run", std::string(101, ' '));
  CHECK(big.status == 413);
  CHECK(big.error() == "the body is 101 bytes, over this server's cap of 100");
  const Answer bad = call(api, "POST", "/api/playground/run", "{\"steps\": 1,");
  CHECK(bad.status == 400);
  CHECK_MESSAGE(bad.error().find("the body: not valid JSON (at byte 13)") == 0, bad.error());
  const Answer page = call(api, "GET", "/");
  CHECK(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body == serve::page());
  CHECK(page.body.find("<title>mtlgrad explorer</title>") != std::string::npos);
  // Self-contained: the page names no other host.
  CHECK(page.body.find("http://") == std::string::npos);
  CHECK(page.body.find("https://") == std::string::npos);
  CHECK(page.body.find("//cdn") == std::string::npos);
  CHECK_THROWS_WITH_SUBSTR(serve::Api(t.base + "/none"), "--runs " + t.base + "/none: not a folder");
}
