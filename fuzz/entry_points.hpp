#pragma once
/// @file entry_points.hpp
/// What the fuzz targets (fuzz/*.cpp) and their regression test (tests/cli/
/// test_cli_malformed_fuzz_regressions.cpp) run on arbitrary bytes. Each entry point is the code a
/// user's input reaches: the config as `mtlgrad run --check` reads it, and the IDX reader. (The
/// standard input of aggregate and optimize is fuzzed through the commands themselves, see
/// fuzz_stdin.cpp.)
///
/// A clear error is a ConfigError, std::invalid_argument or std::runtime_error: those are the
/// outcomes expected from malformed input. Any other exception escaping — a raw
/// nlohmann::json::exception ("[json.exception.type_error.302] ..."), std::out_of_range,
/// std::bad_alloc — is a bug, as is a crash; the fuzz targets abort on it (require_clear), so
/// that libFuzzer keeps the input, and the regression test fails.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/data/idx.hpp"
#include "mtlgrad/run/experiment.hpp"
#include "mtlgrad/run/record.hpp"

namespace mtlgrad::fuzz {

/// The outcome of one input: `clear` is false when an exception other than a clear error
/// escaped; `message` is the error's text ("" when the input was accepted).
struct Outcome {
  bool clear = true;
  std::string message;
};

/// Runs f() and sorts what escapes it.
template <class F>
Outcome classify(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {  // ConfigError too
    return {true, e.what()};
  } catch (const std::runtime_error& e) {
    return {true, e.what()};
  } catch (const std::exception& e) {
    return {false, std::string("unclear error (") + typeid(e).name() + "): " + e.what()};
  }
  return {};
}

/// For the fuzz targets: an unclear error is reported and aborts, so that libFuzzer keeps the input.
inline void require_clear(const Outcome& o) {
  if (o.clear) return;
  std::fprintf(stderr, "fuzz: %s\n", o.message.c_str());
  std::abort();
}

/// True when `config` asks for work too large for a fuzzing iteration (a whole number above 256,
/// which may be a sample count or a layer size; the whole Fashion-MNIST set): such inputs are
/// skipped, not errors.
inline bool too_costly(const nlohmann::json& j) {
  if (j.is_number()) {
    const double d = j.get<double>();
    return std::abs(d) > 256 && d == std::floor(d);
  }
  if (j.is_string()) return j.get<std::string>() == "multifashion";
  if (j.is_structured())
    for (const auto& v : j)
      if (too_costly(v)) return true;
  return false;
}

/// The config, as `mtlgrad run --check` reads it: parse_json, an object, resolve_config.
inline Outcome config(const std::string& text) {
  return classify([&] {
    const nlohmann::json j = parse_json(text, "fuzz.json");
    if (!j.is_object() || too_costly(j)) return;
    (void)resolve_config(j);
  });
}

/// The IDX reader on `bytes` written to a scratch file, read as images and then as labels
/// (both must end in a clear error or be accepted).
inline Outcome idx(const std::string& bytes) {
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("mtlgrad_fuzz_idx_" + std::to_string(::getpid()) + ".gz")).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
  const Outcome images = classify([&] { (void)read_idx_images(path); });
  if (!images.clear) return images;
  return classify([&] { (void)read_idx_labels(path, 10); });
}

/// The gradient record reader (run/record.hpp) on `bytes`: the header and every record decoded.
inline Outcome record(const std::string& bytes) {
  return classify([&] { (void)decode_record_bytes(bytes, "fuzz.rec"); });
}

}  // namespace mtlgrad::fuzz
