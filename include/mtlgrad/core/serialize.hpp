#pragma once
/// @file serialize.hpp
/// Tensors to and from JSON, and files written atomically.
///
/// A tensor in JSON is {"shape": [rows, cols], "data": [row-major values]}. nlohmann::json prints
/// doubles with the shortest representation that reads back to the same bits, so a state saved
/// to JSON (or to its binary form, CBOR) and restored is bit-identical. Non-finite values are not
/// representable in JSON; to_json throws rather than writing null.

#include <string>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/tensor.hpp"

namespace mtlgrad {

nlohmann::json tensor_to_json(const Tensor& t);
/// Throws std::invalid_argument naming `what` on a malformed value or a size that disagrees.
Tensor tensor_from_json(const nlohmann::json& j, const std::string& what);

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
/// or the whole new one, never a partial one. Throws std::runtime_error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);
/// Removes the temporaries that write_file_atomic() left in `dir` when its process was killed
/// between the write and the rename: files named "<name>.tmp.<pid>" whose process no longer exists
/// (a live process's temporary is kept). Returns how many it removed; a missing `dir` is 0.
std::size_t remove_stale_temporaries(const std::string& dir);
/// The whole file; throws std::runtime_error naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace mtlgrad
