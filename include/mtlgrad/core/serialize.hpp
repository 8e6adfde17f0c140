#pragma once
/// @file serialize.hpp
/// Tensors to and from JSON, and files written atomically.
///
/// A tensor in JSON is {"shape": [rows, cols], "data": [row-major values]}. nlohmann::json prints
/// doubles with the shortest representation that reads back to the same bits, so a state saved
/// to JSON (or to its binary form, CBOR) and restored is bit-identical. Non-finite values are not
/// representable in JSON; to_json throws rather than writing null.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

nlohmann::json tensor_to_json(const Tensor& t);
/// Throws std::invalid_argument naming `what` on a malformed value or a size that disagrees.
Tensor tensor_from_json(const nlohmann::json& j, const std::string& what);
/// The tensor field `key` of a stage's stored state `s` (load_state), `who` naming the stage:
/// "<who>: load_state: '<key>' is missing", tensor_from_json's errors, and with `expected`
/// "<who>: load_state: '<key>' has shape [a,b], expected [c,d]".
Tensor state_tensor(const nlohmann::json& s, const std::string& key, const std::string& who,
                    std::optional<Shape> expected = std::nullopt);

/// A flat JSON list of the tensor's values, row-major.
nlohmann::json flat_json(const Tensor& t);

/// Deepest nesting of arrays and objects that parse_json accepts (a config needs about 6).
constexpr int kMaxJsonDepth = 128;

/// Parses JSON text; `what` names its source ("run.json", "aggregate: standard input"). Throws
/// std::invalid_argument naming `what` for: empty or white-space-only text; a syntax error (its
/// byte offset, and a hint when the text spells NaN or Infinity); a number beyond double (1e999);
/// nesting deeper than kMaxJsonDepth (the stack); a key twice in one object, by its key path
/// ("duplicate key 'optimizer.lr'": nlohmann::json alone keeps the last). parse_cbor: stored_state.hpp
nlohmann::json parse_json(const std::string& text, const std::string& what);

/// Writes `content` to `path` through a temporary file in the same directory, fsync and a rename,
/// then fsyncs the directory: a reader or a crash (power loss included) sees either the old file
/// or the whole new one, never a partial one. The temporary is created with O_EXCL under
/// temporary_name(path), unique across hosts, pid namespaces and threads. Throws
/// std::runtime_error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);
/// "<path>.tmp.<host>.<domain>.<pid>.<nonce>": host_name() and process_domain() (dir_lock.hpp),
/// the pid, and 16 hex digits of a random number. Processes in separate pid namespaces share pids
/// (every container's first process is pid 1), and hosts may share names: the domain and the
/// nonce keep their names apart.
std::string temporary_name(const std::string& path);
/// Removes the temporaries write_file_atomic() left in `dir` when its writer died between the
/// write and the rename, and only those; returns how many it removed (a missing `dir`: 0).
/// - `dir_locked`: the caller holds dir's DirLock, and every writer into the directory writes
///   only while holding it (run and sweep directories), so every temporary there but this
///   process's own is a dead writer's: all of them go.
/// - otherwise only the provably dead: written on this host, in this boot and pid namespace
///   (process_domain()), by a pid that no longer exists. A temporary of another host, container
///   or pid namespace may belong to a live process whatever its pid: it is kept.
/// Names of earlier versions ("<name>.tmp.<pid>", no host) are removed only under the lock, when
/// that pid is gone.
std::size_t remove_stale_temporaries(const std::string& dir, bool dir_locked = false);
/// The whole file; throws std::runtime_error naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace mtlgrad
