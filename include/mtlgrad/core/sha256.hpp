#pragma once
/// @file sha256.hpp
/// SHA-256 (FIPS 180-4) of a byte string, as 64 lower-case hex digits: the fingerprint of a run's
/// and a sweep's config (run/fingerprint.hpp), the same digest `sha256sum` prints.

#include <string>

namespace mtlgrad {

std::string sha256_hex(const std::string& bytes);

}  // namespace mtlgrad
