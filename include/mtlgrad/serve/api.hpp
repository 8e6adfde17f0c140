#pragma once
/// @file api.hpp
/// (layer "serve": above run/) The JSON API of `mtlgrad serve` (docs/serve.md) as a function of a
/// request, with no socket: Api::handle takes the method, the raw request target (path and query,
/// still percent-encoded) and the body, and returns the status, the content type and the body. The
/// HTTP server (server.hpp) only carries bytes to and from it, so the tests call it directly.
///
/// Two parts:
///   - the toy playground: a model whose parameter is a point of the plane (toy2d) is built from a
///     config exactly as `mtlgrad run` builds it (build_experiment) and stepped a bounded number of
///     steps per request; the answer carries metrics.csv's columns for the logged steps and the
///     trainer's state, which a next request hands back to continue bit-identically;
///   - the run browser: the runs and sweeps under one folder (--runs DIR), their JSON files,
///     their CSV files parsed, and their files as they are.
///
/// Security: a file path comes in the query (`path=`), is percent-decoded once, and is refused if
/// absolute or holding a ".." component; what is left is resolved with every symlink followed and
/// must still lie inside DIR (resolve_inside). Bodies, steps, grid sizes and served files are
/// capped (Limits). Every error is a JSON body {"error": "...", "status": N} with that status.
///
/// Api::handle is const and keeps no state between requests: concurrent calls are safe.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtlgrad::serve {

/// The caps on one request.
struct Limits {
  std::size_t max_body_bytes = std::size_t(1) << 20;     ///< a request body (HTTP 413 beyond)
  std::size_t max_steps = 20000;                         ///< playground steps per request
  std::size_t max_rows = 20001;                          ///< playground rows (steps / every) per request
  std::size_t max_grid = 201;                            ///< landscape grid points per side
  std::uintmax_t max_file_bytes = std::uintmax_t(64) << 20;  ///< a file served or parsed
  std::size_t max_listed = 5000;                         ///< folders looked at when listing DIR
};

/// An error with its HTTP status; the message is the one line the page shows.
struct HttpError : std::runtime_error {
  HttpError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

struct Request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< as sent: "/api/file?path=a%2Fb.png"
  std::string body;
  /// The Content-Type header. A POST must be "application/json": a page of another site can
  /// send that only after a CORS preflight, which this server never grants (no cross-site POST).
  std::string content_type;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< besides Content-Type
};

/// Decodes %XX escapes (and '+' as a space when `plus_is_space`, for query strings). A malformed
/// escape or a NUL byte is HttpError 400 naming `what`.
std::string percent_decode(const std::string& text, bool plus_is_space, const std::string& what);

/// The file or folder `relative` names inside `root` (a canonical absolute path), itself canonical.
/// HttpError 403 for an absolute path, a ".." component, or a path that leads outside `root`
/// through a symlink; 404 when nothing is there.
std::filesystem::path resolve_inside(const std::filesystem::path& root, const std::string& relative);

/// The playground's request {"config": an experiment config, "steps": n, "every": k, "state": s}
/// run: see docs/serve.md. A non-finite step ends the path (the answer says "diverged"). Throws
/// HttpError: 400 for a bad request, 503 when the server is stopping.
nlohmann::json playground_run(const nlohmann::json& request, const Limits& limits);

/// The landscape of a plane model (toy2d) on an n × n grid: {"model", "lo", "hi", "n", "label",
/// "values" (row-major, x2 slowest), "pareto_set"}.
nlohmann::json plane_landscape(const std::string& model, std::size_t n, const Limits& limits);

class Api {
 public:
  /// `runs_dir` must be an existing folder (else std::invalid_argument naming it). With
  /// `selftest_report` set, POST /api/selftest writes its body there (the browser test's page
  /// reports through it); without, that route does not exist.
  explicit Api(const std::string& runs_dir, Limits limits = {}, std::string selftest_report = "");

  Response handle(const Request& request) const;

  const std::filesystem::path& root() const { return root_; }
  const Limits& limits() const { return limits_; }

 private:
  Response route(const Request& request) const;
  std::filesystem::path root_;
  Limits limits_;
  std::string selftest_report_;
};

/// The page (web/index.html), as embedded at build time.
const std::string& page();

}  // namespace mtlgrad::serve
