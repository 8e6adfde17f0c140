#pragma once
/// @file stored_state.hpp
/// Reading state that mtlgrad stored (checkpoints): CBOR parsed with parse_json's checks, and
/// fields read one by one, each error naming the field's path.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace mtlgrad {

/// CBOR bytes to JSON, with parse_json's checks (a duplicate key by its key path, the depth
/// limit); std::invalid_argument naming `what` ("what: not valid CBOR: ...") otherwise.
nlohmann::json parse_cbor(const std::string& bytes, const std::string& what);

/// The field `key` of the object `j`; std::invalid_argument "<path>.<key>: missing" when absent,
/// "<path>: expected an object" when `j` is not one.
const nlohmann::json& state_field(const nlohmann::json& j, const std::string& key, const std::string& path);
/// Typed fields: any other type is refused ("<path>.<key>: expected a non-negative integer, got
/// -5"), never converted (a negative step would wrap to 2^64 - 5).
std::uint64_t state_uint(const nlohmann::json& j, const std::string& key, const std::string& path);
bool state_bool(const nlohmann::json& j, const std::string& key, const std::string& path);
std::string state_string(const nlohmann::json& j, const std::string& key, const std::string& path);
/// A finite number.
double state_number(const nlohmann::json& j, const std::string& key, const std::string& path);

}  // namespace mtlgrad
