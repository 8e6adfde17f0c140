#include "mtlgrad/serve/api.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <system_error>

#include "mtlgrad/core/interrupt.hpp"
#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/models/registry.hpp"
#include "mtlgrad/run/catalog.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/metrics_columns.hpp"

namespace mtlgrad::serve {
namespace fs = std::filesystem;

std::string percent_decode(const std::string& text, bool plus_is_space, const std::string& what) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      const int hi = i + 2 < text.size() ? hex(text[i + 1]) : -1, lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        throw HttpError(400, what + ": malformed percent escape at offset " + std::to_string(i));
      c = char(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') throw HttpError(400, what + ": holds a NUL byte");
    out += c;
  }
  return out;
}

fs::path resolve_inside(const fs::path& root, const std::string& relative) {
  const std::string shown = nlohmann::json(relative).dump();
  if (!relative.empty() && relative[0] == '/')
    throw HttpError(403, "path " + shown + ": absolute paths are not served; give a path inside the runs folder");
  for (const auto& part : fs::path(relative))
    if (part == "..") throw HttpError(403, "path " + shown + ": '..' is not served; give a path inside the runs folder");
  std::error_code ec;
  const fs::path full = fs::canonical(root / relative, ec);
  if (ec) throw HttpError(404, "path " + shown + ": not found in the runs folder");
  // Every symlink is followed by canonical(): what is left must still be inside root.
  const fs::path rel = full.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..")
    throw HttpError(403, "path " + shown + ": leads outside the runs folder (through a symlink); not served");
  return full;
}

namespace {

nlohmann::json error_body(int status, const std::string& message) {
  return {{"error", message}, {"status", status}};
}

Response json_response(const nlohmann::json& j, int status = 200) {
  Response r;
  r.status = status;
  // Non-finite numbers (a diverged run's loss) become null: the body stays JSON.
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

/// The query string's parameters; each route takes the ones it knows and finish() refuses the rest.
class Query {
 public:
  explicit Query(const std::string& query) {
    std::size_t begin = 0;
    while (begin < query.size()) {
      std::size_t end = query.find('&', begin);
      if (end == std::string::npos) end = query.size();
      const std::string item = query.substr(begin, end - begin);
      begin = end + 1;
      if (item.empty()) continue;
      const auto eq = item.find('=');
      const std::string key = percent_decode(item.substr(0, eq), true, "query");
      const std::string value = eq == std::string::npos ? "" : percent_decode(item.substr(eq + 1), true, "query " + key);
      if (!values_.emplace(key, value).second) throw HttpError(400, "query: '" + key + "' is given twice");
    }
  }
  std::string take(const std::string& key, const std::string& fallback) {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    std::string v = it->second;
    values_.erase(it);
    return v;
  }
  std::string require(const std::string& key) {
    if (!values_.count(key)) throw HttpError(400, "query: missing parameter '" + key + "'");
    return take(key, "");
  }
  std::size_t take_count(const std::string& key, std::size_t fallback, std::size_t lo, std::size_t hi) {
    const std::string v = take(key, "");
    if (v.empty()) return fallback;
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (*end || errno || v[0] == '-' || n < lo || n > hi)
      throw HttpError(400, "query " + key + ": '" + v + "' is not a whole number from " + std::to_string(lo) + " to " +
                               std::to_string(hi));
    return std::size_t(n);
  }
  void finish() const {
    if (values_.empty()) return;
    throw HttpError(400, "query: unknown parameter '" + values_.begin()->first + "'");
  }

 private:
  std::map<std::string, std::string> values_;
};

/// The path inside root as the API names it ("sweep/run-1"), '/'-separated, "" for root itself.
std::string relative_name(const fs::path& root, const fs::path& p) {
  const std::string r = p.lexically_relative(root).generic_string();
  return r == "." ? "" : r;
}

std::string read_capped(const fs::path& p, const Limits& limits) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) throw HttpError(404, p.filename().string() + ": not a file");
  const auto size = fs::file_size(p, ec);
  if (ec) throw HttpError(404, p.filename().string() + ": cannot read: " + ec.message());
  if (size > limits.max_file_bytes)
    throw HttpError(413, p.filename().string() + ": " + std::to_string(size) + " bytes, over this server's cap of " +
                             std::to_string(limits.max_file_bytes));
  try {
    return read_file(p.string());
  } catch (const std::exception& e) {
    throw HttpError(404, p.filename().string() + ": cannot read: " + e.what());
  }
}

/// A JSON file of a run, or null when absent or (being replaced) unreadable.
nlohmann::json read_json_or_null(const fs::path& p, const Limits& limits) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return nullptr;
  try {
    return parse_json(read_capped(p, limits), p.filename().string());
  } catch (const std::exception&) {
    return nullptr;
  }
}

/// A CSV file as {"columns": [...], "rows": [[...], ...]}: a cell that is a number becomes one
/// (nan and inf become null), any other stays a string. A last line without its newline is a row
/// still being written and is left out, so a run that is writing is read consistently.
nlohmann::json parse_csv(const std::string& text) {
  auto split = [](const std::string& line) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cell += '"', ++i;
        else if (c == '"') quoted = false;
        else cell += c;
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        cells.push_back(cell);
        cell.clear();
      } else if (c != '\r') {
        cell += c;
      }
    }
    cells.push_back(cell);
    return cells;
  };
  nlohmann::json out = {{"columns", nlohmann::json::array()}, {"rows", nlohmann::json::array()}};
  std::size_t begin = 0;
  bool header = true;
  while (begin < text.size()) {
    const auto end = text.find('\n', begin);
    if (end == std::string::npos) break;
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    const auto cells = split(line);
    if (header) {
      out["columns"] = cells;
      header = false;
      continue;
    }
    nlohmann::json row = nlohmann::json::array();
    for (const auto& c : cells) {
      char* stop = nullptr;
      const double v = c.empty() ? 0 : std::strtod(c.c_str(), &stop);
      if (c.empty() || *stop) row.push_back(c);
      else if (std::isfinite(v)) row.push_back(v);
      else row.push_back(nullptr);
    }
    out["rows"].push_back(std::move(row));
  }
  return out;
}

/// A run directory's state: "finished", "diverged", ... as summary.json says; "running" or
/// "stopped" without one (a checkpoint.cbor is left by an interrupt; a live run holds .lock).
nlohmann::json run_entry(const fs::path& root, const fs::path& dir, const Limits& limits) {
  std::error_code ec;
  nlohmann::json e = {{"path", relative_name(root, dir)}, {"name", dir.filename().string()}, {"kind", "run"}};
  const nlohmann::json summary = read_json_or_null(dir / "summary.json", limits);
  if (summary.is_object()) {
    e["status"] = summary.value("status", "finished");
    e["steps"] = summary.value("steps", nlohmann::json(nullptr));
    e["final_losses"] = summary.value("final_losses", nlohmann::json(nullptr));
  } else {
    e["status"] = fs::exists(dir / "checkpoint.cbor", ec) ? "stopped" : "running";
  }
  return e;
}

nlohmann::json list_runs(const fs::path& root, const Limits& limits) {
  nlohmann::json runs = nlohmann::json::array(), sweeps = nlohmann::json::array();
  std::error_code ec;
  std::size_t seen = 0;
  // Directory symlinks are not followed: a link out of DIR lists nothing outside it.
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) throw HttpError(500, "cannot list the runs folder: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    if (++seen > limits.max_listed) break;
    if (it.depth() > 3) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    const fs::path dir = it->path();
    if (fs::exists(dir / "sweep.json", ec)) {
      nlohmann::json s = {{"path", relative_name(root, dir)}, {"name", dir.filename().string()}, {"kind", "sweep"}};
      s["finished"] = fs::exists(dir / "table.csv", ec);
      sweeps.push_back(s);
    } else if (fs::exists(dir / "config.json", ec)) {
      runs.push_back(run_entry(root, dir, limits));
      it.disable_recursion_pending();
    }
  }
  auto by_path = [](const nlohmann::json& a, const nlohmann::json& b) { return a["path"] < b["path"]; };
  std::sort(runs.begin(), runs.end(), by_path);
  std::sort(sweeps.begin(), sweeps.end(), by_path);
  return {{"runs", runs}, {"sweeps", sweeps}, {"truncated", seen > limits.max_listed}};
}

nlohmann::json files_of(const fs::path& root, const fs::path& dir) {
  nlohmann::json files = nlohmann::json::array();
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& f : fs::directory_iterator(dir, ec))
    if (f.is_regular_file(ec) && f.path().filename().string()[0] != '.') names.push_back(f.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names) files.push_back(relative_name(root, dir / n));
  return files;
}

std::string content_type_of(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".png") return "image/png";
  if (ext == ".json") return "application/json";
  if (ext == ".csv") return "text/csv; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".md" || ext == ".txt" || ext == ".gp" || ext == ".gplog" || ext == ".dat") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

/// A model entry whose parameter is a point of the plane; others cannot be played with.
const ModelRegistry::Entry& plane_model(const nlohmann::json& spec, const std::string& path) {
  const auto& e = model_registry().entry_of(spec, path);
  if (!e.extra.landscape)
    throw HttpError(400, path + ".name: '" + e.name + "' is not a model of the plane; the playground runs: " + [] {
      std::string names;
      for (const auto& m : model_registry().entries())
        if (m.extra.landscape) names += (names.empty() ? "" : ", ") + m.name;
      return names;
    }());
  return e;
}

}  // namespace

nlohmann::json plane_landscape(const std::string& model, std::size_t n, const Limits& limits) {
  if (n < 2 || n > limits.max_grid)
    throw HttpError(400, "n: " + std::to_string(n) + " grid points per side; allowed 2 to " + std::to_string(limits.max_grid));
  const auto& e = plane_model(nlohmann::json(model), "model");
  const PlaneLandscape& l = *e.extra.landscape;
  Tensor points({n * n, 2});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      points(i * n + j, 0) = real(l.lo + (l.hi - l.lo) * double(j) / double(n - 1));
      points(i * n + j, 1) = real(l.lo + (l.hi - l.lo) * double(i) / double(n - 1));
    }
  return {{"model", e.name}, {"lo", l.lo},         {"hi", l.hi},
          {"n", n},          {"label", l.value_label}, {"values", l.value(points)},
          {"pareto_set", l.pareto_set}};
}

nlohmann::json playground_run(const nlohmann::json& request, const Limits& limits) {
  std::size_t steps = 0, every = 1;
  nlohmann::json config, state;
  try {
    OptionReader r(request, "");
    config = r.require<nlohmann::json>("config");
    steps = r.require<std::size_t>("steps");
    every = r.get<std::size_t>("every", every);
    state = r.get<nlohmann::json>("state", nullptr);
    r.finish();
    r.check(steps >= 1 && steps <= limits.max_steps, "steps",
            "1 to " + std::to_string(limits.max_steps) + " per request (continue with the returned state)");
    r.check(every >= 1, "every", ">= 1");
    r.check(steps / every + 2 <= limits.max_rows, "every",
            "at least steps / " + std::to_string(limits.max_rows - 2) + " (rows per request are capped)");
    if (!config.is_object()) throw ConfigError("config: expected an object (an experiment config), got " + json_type(config));
    plane_model(config.value("model", nlohmann::json(nullptr)), "config.model");
  } catch (const ConfigError& e) {
    throw HttpError(400, e.what());
  }
  BuiltExperiment b;
  try {
    b = build_experiment(config);
  } catch (const std::invalid_argument& e) {
    throw HttpError(400, std::string("config: ") + e.what());
  }
  Trainer& trainer = *b.trainer;
  if (!state.is_null()) {
    try {
      trainer.load_state(state);
    } catch (const std::exception& e) {
      throw HttpError(400, std::string("state: ") + e.what() + " (hand back the state of an answer to the same config)");
    }
  }
  // metrics.csv's columns, from the one definition a run uses (run/metrics_columns.hpp), and the
  // same steps logged (the first, every `every`-th, the last), so that an answer can be checked
  // against a run's file. The playground always has the toy's parameters among them.
  MetricsColumns metrics(trainer, true);
  const std::vector<std::string>& cols = metrics.names();
  const auto names = trainer.model().task_names();
  const auto params = trainer.model().all_parameters();
  std::vector<nlohmann::json> data(cols.size(), nlohmann::json::array());

  auto point = [&] {
    nlohmann::json x = nlohmann::json::array();
    for (const auto& p : params)
      for (real v : p.param->value) x.push_back(double(v));
    return x;
  };
  const nlohmann::json start = point();
  const std::size_t first = trainer.steps(), last = first + steps;
  std::string stopped;
  while (trainer.steps() < last) {
    if ((trainer.steps() & 255) == 0 && interrupt_signal()) throw HttpError(503, "the server is stopping");
    const StepRecord* rec = nullptr;
    try {
      rec = &trainer.step();
    } catch (const NonFiniteError& e) {
      stopped = e.what();
      break;
    }
    const StepRecord& r = *rec;
    const std::size_t t = trainer.steps();
    if (!(t == 1 || t % every == 0 || t == last)) continue;
    const std::vector<double>& v = metrics.values(r);
    for (std::size_t c = 0; c < v.size(); ++c) data[c].push_back(v[c]);
  }
  nlohmann::json columns = nlohmann::json::object();
  for (std::size_t c = 0; c < cols.size(); ++c) columns[cols[c]] = std::move(data[c]);
  nlohmann::json out = {{"config", b.resolved},   {"task_names", names},   {"start", start},
                        {"end", point()},         {"first_step", first},   {"steps", trainer.steps()},
                        {"order", cols},          {"columns", columns}};
  if (stopped.empty()) {
    out["state"] = trainer.state();
  } else {
    out["diverged"] = stopped;  // the path up to the step before; no state to continue from
  }
  return out;
}

Api::Api(const std::string& runs_dir, Limits limits, std::string selftest_report)
    : limits_(limits), selftest_report_(std::move(selftest_report)) {
  std::error_code ec;
  root_ = fs::canonical(runs_dir, ec);
  if (ec || !fs::is_directory(root_, ec))
    throw std::invalid_argument("--runs " + runs_dir + ": not a folder" + (ec ? " (" + ec.message() + ")" : ""));
}

Response Api::handle(const Request& request) const {
  try {
    return route(request);
  } catch (const HttpError& e) {
    return json_response(error_body(e.status, e.what()), e.status);
  } catch (const std::bad_alloc&) {
    return json_response(error_body(503, "out of memory"), 503);
  } catch (const std::exception& e) {
    return json_response(error_body(500, e.what()), 500);
  }
}

Response Api::route(const Request& req) const {
  const auto q = req.target.find('?');
  const std::string path = percent_decode(req.target.substr(0, q), false, "request path");
  Query query(q == std::string::npos ? "" : req.target.substr(q + 1));
  const bool get = req.method == "GET" || req.method == "HEAD", post = req.method == "POST";
  auto method = [&](bool ok, const char* allowed) {
    if (!ok) throw HttpError(405, req.method + " " + path + ": method not allowed (allowed: " + allowed + ")");
  };
  if (post && req.content_type.rfind("application/json", 0) != 0)
    throw HttpError(415, "POST " + path + ": the body must be sent as Content-Type: application/json, not '" +
                             req.content_type + "'");
  if (req.body.size() > limits_.max_body_bytes)
    throw HttpError(413, "the body is " + std::to_string(req.body.size()) + " bytes, over this server's cap of " +
                             std::to_string(limits_.max_body_bytes));

  if (path == "/" || path == "/index.html") {
    method(get, "GET");  // the query (?view=runs, ?selftest=1) is the page's own
    Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = page();
    return r;
  }
  if (path == "/api/info") {
    method(get, "GET");
    query.finish();
    return json_response({{"version", version()},
                          {"runs_dir", root_.string()},
                          {"selftest", !selftest_report_.empty()},
                          {"limits",
                           {{"max_body_bytes", limits_.max_body_bytes},
                            {"max_steps", limits_.max_steps},
                            {"max_rows", limits_.max_rows},
                            {"max_grid", limits_.max_grid},
                            {"max_file_bytes", limits_.max_file_bytes}}}});
  }
  if (path == "/api/catalog") {
    method(get, "GET");
    query.finish();
    return json_response(catalog_json());
  }
  if (path == "/api/playground/landscape") {
    method(get, "GET");
    const std::string model = query.take("model", "toy2d");
    const std::size_t n = query.take_count("n", 81, 0, std::size_t(1) << 20);
    query.finish();
    return json_response(plane_landscape(model, n, limits_));
  }
  if (path == "/api/playground/run") {
    method(post, "POST");
    query.finish();
    nlohmann::json body;
    try {
      body = parse_json(req.body, "the body");
    } catch (const std::exception& e) {
      throw HttpError(400, e.what());
    }
    return json_response(playground_run(body, limits_));
  }
  if (path == "/api/runs") {
    method(get, "GET");
    query.finish();
    return json_response(list_runs(root_, limits_));
  }
  if (path == "/api/run") {
    method(get, "GET");
    const fs::path dir = resolve_inside(root_, query.require("path"));
    query.finish();
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw HttpError(404, "path: not a folder");
    nlohmann::json r = run_entry(root_, dir, limits_);
    r["config"] = read_json_or_null(dir / "config.json", limits_);
    r["summary"] = read_json_or_null(dir / "summary.json", limits_);
    r["sweep_run"] = read_json_or_null(dir / "sweep_run.json", limits_);
    r["files"] = files_of(root_, dir);
    return json_response(r);
  }
  if (path == "/api/sweep") {
    method(get, "GET");
    const fs::path dir = resolve_inside(root_, query.require("path"));
    query.finish();
    std::error_code ec;
    if (!fs::exists(dir / "sweep.json", ec)) throw HttpError(404, "path: not a sweep folder (no sweep.json)");
    nlohmann::json r = {{"path", relative_name(root_, dir)}, {"name", dir.filename().string()}, {"kind", "sweep"}};
    r["sweep"] = read_json_or_null(dir / "sweep.json", limits_);
    r["table"] = fs::exists(dir / "table.csv", ec) ? parse_csv(read_capped(dir / "table.csv", limits_)) : nlohmann::json(nullptr);
    nlohmann::json runs = nlohmann::json::array();
    std::vector<fs::path> dirs;
    for (const auto& f : fs::directory_iterator(dir, ec))
      if (f.is_directory(ec) && !f.is_symlink(ec) && fs::exists(f.path() / "config.json", ec)) dirs.push_back(f.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) runs.push_back(run_entry(root_, d, limits_));
    r["runs"] = runs;
    r["files"] = files_of(root_, dir);
    return json_response(r);
  }
  if (path == "/api/csv") {
    method(get, "GET");
    const fs::path file = resolve_inside(root_, query.require("path"));
    query.finish();
    if (file.extension() != ".csv") throw HttpError(400, "path: not a .csv file");
    nlohmann::json r = parse_csv(read_capped(file, limits_));
    r["path"] = relative_name(root_, file);
    return json_response(r);
  }
  if (path == "/api/file") {
    method(get, "GET");
    const fs::path file = resolve_inside(root_, query.require("path"));
    query.finish();
    Response r;
    r.body = read_capped(file, limits_);
    r.content_type = content_type_of(file);
    return r;
  }
  if (path == "/api/selftest" && !selftest_report_.empty()) {
    method(post, "POST");
    query.finish();
    try {
      parse_json(req.body, "the self-test report");
    } catch (const std::exception& e) {
      throw HttpError(400, e.what());
    }
    write_file_atomic(selftest_report_, req.body);
    return json_response({{"written", true}});
  }
  throw HttpError(404, req.method + " " + path + ": no such page or API route (docs/serve.md lists them)");
}

}  // namespace mtlgrad::serve
