#pragma once
/// @file record.hpp
/// The gradient record of a run (config key "record", `mtlgrad run --record`) and its reader
/// (docs/diagnostics.md, "The gradient record"):
///
///     "record": {"every": 1, "content": "jacobian", "level": 1}
///
/// | option  | meaning                                                                        | default    |
/// |---------|--------------------------------------------------------------------------------|------------|
/// | every   | record every n-th step (by step number; skipped steps are never recorded)      | 1          |
/// | content | "jacobian": J (T×P) and d; "gramian": G = J Jᵀ, J d and ‖d‖² only (for large P) | "jacobian" |
/// | level   | zlib compression level, 0 (none) to 9                                          | 1          |
///
/// The file gradients.rec in the run directory, all integers little-endian:
///
///     header   bytes 0-7   "MTLGREC\n"
///              bytes 8-11  format version (1)
///              bytes 12-15 T, the tasks
///              bytes 16-23 P, the columns of J (the shared parameters, or Z's entries)
///              byte  24    sizeof(real) of the run: 4 (float) or 8 (double)
///              byte  25    content: 0 jacobian, 1 gramian
///              bytes 26-27 0
///              bytes 28-31 m, the length of the metadata
///              m bytes     metadata, JSON: {"tasks", "aggregator", "every", "seed", "granularity",
///                          "groups": [{"name", "begin", "end"}]} (each parameter's columns of J)
///              4 bytes     CRC-32 of everything above
///     records  bytes 0-3   "REC1"
///              bytes 4-11  n, the compressed payload's length
///              bytes 12-19 r, the payload's length once inflated
///              bytes 20-23 CRC-32 of the n compressed bytes
///              n bytes     the payload, zlib: step (u64), the trainer's Rng state before the
///                          stage ran (u32 length + JSON), has_weights (u8), losses (T reals),
///                          weights (T reals, when has_weights), then jacobian: d (P reals) and
///                          J (T·P reals, row-major); gramian: G (T·T), J d (T), ‖d‖² (1)
///
/// The file is appended to record by record, like metrics.csv (AppendLog): a checkpoint records
/// its length and --resume cuts it back there. A killed run's file can end in a cut record; the
/// reader reports it ("gradients.rec: truncated record at offset 1234: ...") after the whole ones.

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtlgrad/core/tensor.hpp"
#include "mtlgrad/run/observer.hpp"

namespace mtlgrad {

enum class RecordContent : std::uint8_t { jacobian = 0, gramian = 1 };

struct RecordHeader {
  std::uint32_t version = 1;
  std::size_t T = 0, P = 0;
  unsigned real_size = sizeof(real);
  RecordContent content = RecordContent::jacobian;
  nlohmann::json meta = nlohmann::json::object();
};

/// One recorded step. direction and J are empty (0×0) in a gramian record, G/Jd/dd empty (0, 0×0) in a jacobian one.
struct GradientRecord {
  std::uint64_t step = 0;
  nlohmann::json rng;  ///< the trainer's Rng state before the stage ran at this step
  std::vector<real> losses, weights;
  Tensor direction, J, G;
  std::vector<real> Jd;
  real dd = 0;
};

/// The header's bytes.
std::string encode_record_header(const RecordHeader& h);
/// One record's bytes (framing + zlib payload) for header h; level is zlib's, 0 to 9.
std::string encode_record(const RecordHeader& h, const GradientRecord& r, int level);

/// Reads gradients.rec record by record. Every error is a std::runtime_error of one line naming the
/// file and the byte offset: bad magic or version, a header checksum mismatch, a real type other
/// than this build's, a truncated or corrupt record, a record whose sizes disagree with T and P.
class RecordReader {
 public:
  explicit RecordReader(std::string path);
  /// Over a stream (bytes in memory: the fuzz target, tests); `name` stands for the file in errors.
  RecordReader(std::string name, std::unique_ptr<std::istream> in);
  const RecordHeader& header() const { return h_; }
  /// The next record; false at the end of the file.
  bool next(GradientRecord& r);
  std::uint64_t offset() const { return offset_; }

 private:
  [[noreturn]] void fail(std::uint64_t at, const std::string& what) const;
  bool read_exact(char* out, std::size_t n);
  std::string path_;
  void read_header();
  std::unique_ptr<std::istream> in_;
  RecordHeader h_;
  std::uint64_t offset_ = 0, size_ = 0;
  std::string compressed_, raw_;
};

/// The same reader over bytes in memory (the fuzz target; tests): decodes every record, throws the
/// reader's errors with `name` as the file.
std::size_t decode_record_bytes(const std::string& bytes, const std::string& name);

/// The "record" observer's registry entry (src/run/observers.cpp).
ObserverEntry record_observer_entry();

}  // namespace mtlgrad
