#pragma once
/// @file fingerprint.hpp
/// A run directory belongs to one config: its fingerprint, the check on a rerun, and --force.
///
/// Canonical form: a config's JSON with object keys sorted (nlohmann::json keeps them sorted),
/// two-space indentation, numbers in their shortest round-trip form, and a final newline — the
/// exact bytes of a run's config.json and a sweep's sweep.json. The fingerprint is the SHA-256 of
/// those bytes, recorded next to them as config.sha256 / sweep.sha256 in `sha256sum` format
/// ("<64 hex digits>  config.json"), so `sha256sum -c config.sha256` checks it. The comparison on a
/// rerun is against the JSON file itself (its bytes and its keys), which stays authoritative.

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtlgrad {

/// The canonical bytes of `j` (above).
std::string canonical_json(const nlohmann::json& j);
/// SHA-256 of canonical_json(j), 64 hex digits.
std::string fingerprint(const nlohmann::json& j);

/// Every leaf that differs between two configs, one "key.path: old → new" each, in key order;
/// "(absent)" for a key only one of them has. Arrays are compared whole (a list of values is one
/// setting); long values are shortened with "...". `prefix` starts every path.
std::vector<std::string> config_changes(const nlohmann::json& before, const nlohmann::json& after,
                                        const std::string& prefix = "");

/// Thrown when a directory holds the results of another config; what() lists the changed keys.
class ConfigChanged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Writes `dir`/`name` (canonical_json(j)) and `dir`/<stem>.sha256, both atomically.
void write_fingerprinted(const std::string& dir, const std::string& name, const nlohmann::json& j);

/// Called by a run, holding the directory's lock, before it writes anything: if `dir`/config.json
/// exists and is not `resolved` (byte for byte in canonical form), throws ConfigChanged:
/// "run directory D holds a run written by a different config: optimizer.lr: 0.001 → 0.5; rerun
/// with --force to start it over, or choose another --out". With `force` it starts over instead:
/// every file of the directory but its lock file and sweep_run.json is removed (subdirectories
/// are left alone). Returns true when it removed the old run's files.
bool claim_run_directory(const std::string& dir, const nlohmann::json& resolved, bool force);

}  // namespace mtlgrad
