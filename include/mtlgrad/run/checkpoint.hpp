#pragma once
/// @file checkpoint.hpp
/// The checkpoint file of a run (checkpoint.cbor) and the append-only logs it points into.
///
/// checkpoint.cbor is a 28-byte header and a CBOR payload:
///
///     bytes  0-15  "mtlgrad ckpt v1\n"            the format and its version
///     bytes 16-23  n, little-endian                the payload's length in bytes
///     bytes 24-27  CRC-32 (zlib) of the payload    little-endian
///     bytes 28-    the payload: the run's state as CBOR
///
/// open_checkpoint() refuses a file whose header, length or checksum disagree (one flipped bit is
/// "checksum mismatch"), then parses the payload with parse_cbor (duplicate keys refused).
///
/// metrics.csv and timing.csv are appended to as the run goes (AppendLog), never rewritten: a
/// checkpoint records their byte lengths at that step, and --resume cuts them back to exactly
/// those lengths before appending again. So a run's I/O is linear in its steps, its memory does
/// not grow with the rows it logs, and a resumed run's files are byte for byte an uninterrupted
/// run's. A killed run's logs may end in rows past its checkpoint (even a cut one); --resume
/// removes them.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace mtlgrad {

/// The bytes of checkpoint.cbor for `state`.
std::string seal_checkpoint(const nlohmann::json& state);
/// The state in checkpoint.cbor's `bytes`; throws std::runtime_error starting with `path` for a
/// wrong header, a truncated file, a checksum mismatch or a payload that is not CBOR.
nlohmann::json open_checkpoint(const std::string& bytes, const std::string& path);

/// A file appended to in whole lines, through a buffer of at most 64 KiB.
class AppendLog {
 public:
  /// A new log: creates `path` or empties it.
  explicit AppendLog(std::string path);
  /// A resumed log: cuts `path` back to `length` bytes (std::runtime_error naming the file if it
  /// is missing or shorter: the file is not the one the checkpoint was written with).
  AppendLog(std::string path, std::uint64_t length);
  ~AppendLog();
  AppendLog(const AppendLog&) = delete;
  AppendLog& operator=(const AppendLog&) = delete;

  /// Appends `text` (whole lines); writes the buffer out when it is full.
  void append(const std::string& text);
  /// Writes the buffer out and fsyncs the file; returns its length, which a checkpoint records.
  std::uint64_t sync();

 private:
  void flush();
  std::string path_, buffer_;
  int fd_ = -1;
  std::uint64_t length_ = 0;  ///< bytes in the file, the buffer not included
};

}  // namespace mtlgrad
