#include "mtlgrad/run/fingerprint.hpp"

#include <algorithm>
#include <filesystem>

#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/core/sha256.hpp"

namespace mtlgrad {
namespace fs = std::filesystem;

std::string canonical_json(const nlohmann::json& j) { return j.dump(2) + "\n"; }

std::string fingerprint(const nlohmann::json& j) { return sha256_hex(canonical_json(j)); }

namespace {

std::string shown(const nlohmann::json* v) {
  if (!v) return "(absent)";
  std::string s = v->dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

void diff(const nlohmann::json* a, const nlohmann::json* b, const std::string& path, std::vector<std::string>& out) {
  if (a && b && a->is_object() && b->is_object()) {
    for (const auto& [key, value] : a->items()) {
      const auto it = b->find(key);
      diff(&value, it == b->end() ? nullptr : &*it, path.empty() ? key : path + "." + key, out);
    }
    for (const auto& [key, value] : b->items())
      if (!a->contains(key)) diff(nullptr, &value, path.empty() ? key : path + "." + key, out);
    return;
  }
  if (a && b && *a == *b) return;
  out.push_back((path.empty() ? std::string("(the whole config)") : path) + ": " + shown(a) + " → " + shown(b));
}

}  // namespace

std::vector<std::string> config_changes(const nlohmann::json& before, const nlohmann::json& after,
                                        const std::string& prefix) {
  std::vector<std::string> out;
  diff(&before, &after, prefix, out);
  std::sort(out.begin(), out.end());
  return out;
}

void write_fingerprinted(const std::string& dir, const std::string& name, const nlohmann::json& j) {
  const std::string text = canonical_json(j);
  write_file_atomic(dir + "/" + name, text);
  const std::string stem = name.substr(0, name.rfind('.'));
  write_file_atomic(dir + "/" + stem + ".sha256", sha256_hex(text) + "  " + name + "\n");
}

bool claim_run_directory(const std::string& dir, const nlohmann::json& resolved, bool force) {
  const std::string path = dir + "/config.json";
  if (!fs::exists(path)) return false;
  const std::string old_text = read_file(path);
  if (old_text == canonical_json(resolved)) return false;
  std::string changes;
  try {
    const nlohmann::json old = nlohmann::json::parse(old_text);
    if (old == resolved) return false;  // the same values, written differently
    for (const auto& c : config_changes(old, resolved)) changes += (changes.empty() ? "" : ", ") + c;
  } catch (const nlohmann::json::parse_error&) {
    changes = "its config.json is not valid JSON";
  }
  if (!force) {
    throw ConfigChanged("run directory " + dir + " holds a run written by a different config: " + changes +
                        "; rerun with --force to start it over, or choose another --out");
  }
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == ".lock" || name == "sweep_run.json" || !it->is_regular_file()) continue;
    std::error_code rm;
    fs::remove(it->path(), rm);
    if (rm) throw std::runtime_error("--force: cannot remove " + it->path().string() + ": " + rm.message());
  }
  if (ec) throw std::runtime_error("--force: cannot list " + dir + ": " + ec.message());
  return true;
}

}  // namespace mtlgrad
