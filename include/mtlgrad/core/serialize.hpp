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

/// Parses JSON text; `what` names its source in messages ("run.json", "aggregate: standard
/// input"). Throws std::invalid_argument naming `what` for: text that is empty or only white
/// space; a syntax error (with its byte offset, and a hint when the text spells NaN or Infinity,
/// which JSON cannot express); a number beyond the range of double (1e999); nesting deeper than
/// kMaxJsonDepth (which would otherwise exhaust the stack when the value is printed).
nlohmann::json parse_json(const std::string& text, const std::string& what);

/// Writes `content` to `path` through a temporary file in the same directory and a rename, so
/// that a reader (or a crash) sees either the old file or the whole new one, never a partial one.
/// Throws std::runtime_error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content);
/// Removes the temporaries that write_file_atomic() left in `dir` when its process was killed
/// between the write and the rename: files named "<name>.tmp.<pid>" whose process no longer exists
/// (a live process's temporary is kept). Returns how many it removed; a missing `dir` is 0.
std::size_t remove_stale_temporaries(const std::string& dir);
/// The whole file; throws std::runtime_error naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace mtlgrad
