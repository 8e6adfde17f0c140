#include "mtlgrad/run/record.hpp"

#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <zlib.h>

#include "mtlgrad/core/options.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/run/checkpoint.hpp"

namespace mtlgrad {
namespace {

constexpr char kMagic[8] = {'M', 'T', 'L', 'G', 'R', 'E', 'C', '\n'};
constexpr char kRecordTag[4] = {'R', 'E', 'C', '1'};
constexpr std::size_t kHeaderFixed = 32, kFrame = 24;
// A Rng state is ~150 bytes of JSON; anything far longer is a corrupt length.
constexpr std::uint32_t kMaxRngBytes = 4096;

std::uint32_t crc(const char* data, std::size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes a uInt length: feed it in chunks
    const uInt chunk = n > (1u << 30) ? (1u << 30) : uInt(n);
    c = crc32(c, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    n -= chunk;
  }
  return std::uint32_t(c);
}

template <class U>
void put(std::string& s, U v) {
  char b[sizeof(U)];
  for (std::size_t k = 0; k < sizeof(U); ++k) b[k] = char((std::uint64_t(v) >> (8 * k)) & 0xff);
  s.append(b, sizeof(U));
}
template <class U>
U get(const char* p) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < sizeof(U); ++k) v |= std::uint64_t(static_cast<unsigned char>(p[k])) << (8 * k);
  return U(v);
}
// Reals as the host stores them (little-endian IEEE 754 on every platform mtlgrad builds on).
void put_reals(std::string& s, const real* v, std::size_t n) { s.append(reinterpret_cast<const char*>(v), n * sizeof(real)); }

// The payload's length for these sizes (the reader checks the inflated length against it).
std::uint64_t payload_size(const RecordHeader& h, std::uint32_t rng_bytes, bool weights) {
  const std::uint64_t T = h.T, P = h.P, rs = sizeof(real);
  std::uint64_t n = 8 + 4 + rng_bytes + 1 + T * rs * (weights ? 2 : 1);
  if (h.content == RecordContent::jacobian) n += (P + T * P) * rs;
  else n += (T * T + T + 1) * rs;
  return n;
}

}  // namespace

std::string encode_record_header(const RecordHeader& h) {
  const std::string meta = h.meta.dump();
  std::string s(kMagic, 8);
  put<std::uint32_t>(s, h.version);
  put<std::uint32_t>(s, std::uint32_t(h.T));
  put<std::uint64_t>(s, h.P);
  put<std::uint8_t>(s, std::uint8_t(h.real_size));
  put<std::uint8_t>(s, std::uint8_t(h.content));
  put<std::uint16_t>(s, 0);
  put<std::uint32_t>(s, std::uint32_t(meta.size()));
  s += meta;
  put<std::uint32_t>(s, crc(s.data(), s.size()));
  return s;
}

std::string encode_record(const RecordHeader& h, const GradientRecord& r, int level) {
  const std::size_t T = h.T, P = h.P;
  const std::string rng = r.rng.dump();
  const bool weights = !r.weights.empty();
  if (r.losses.size() != T || (weights && r.weights.size() != T))
    throw std::invalid_argument("record: step " + std::to_string(r.step) + " has " + std::to_string(r.losses.size()) +
                                " losses and " + std::to_string(r.weights.size()) + " weights for T = " + std::to_string(T));
  std::string raw;
  raw.reserve(payload_size(h, std::uint32_t(rng.size()), weights));
  put<std::uint64_t>(raw, r.step);
  put<std::uint32_t>(raw, std::uint32_t(rng.size()));
  raw += rng;
  put<std::uint8_t>(raw, weights ? 1 : 0);
  put_reals(raw, r.losses.data(), T);
  if (weights) put_reals(raw, r.weights.data(), T);
  if (h.content == RecordContent::jacobian) {
    if (r.direction.size() != P || r.J.shape(0) != T || r.J.shape(1) != P)
      throw std::invalid_argument("record: step " + std::to_string(r.step) + ": J is " + shape_str(r.J) + " and d has " +
                                  std::to_string(r.direction.size()) + " values, the record's header says T = " +
                                  std::to_string(T) + ", P = " + std::to_string(P));
    put_reals(raw, r.direction.data(), P);
    put_reals(raw, r.J.data(), T * P);
  } else {
    if (r.G.shape(0) != T || r.G.shape(1) != T || r.Jd.size() != T)
      throw std::invalid_argument("record: step " + std::to_string(r.step) + ": G is " + shape_str(r.G) +
                                  ", the header says T = " + std::to_string(T));
    put_reals(raw, r.G.data(), T * T);
    put_reals(raw, r.Jd.data(), T);
    put_reals(raw, &r.dd, 1);
  }
  uLongf n = compressBound(uLong(raw.size()));
  std::string z(n, '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size()),
                level) != Z_OK)
    throw std::runtime_error("record: zlib could not compress step " + std::to_string(r.step));
  z.resize(n);
  std::string s(kRecordTag, 4);
  put<std::uint64_t>(s, z.size());
  put<std::uint64_t>(s, raw.size());
  put<std::uint32_t>(s, crc(z.data(), z.size()));
  return s + z;
}

RecordReader::RecordReader(std::string path) : path_(std::move(path)) {
  auto f = std::make_unique<std::ifstream>(path_, std::ios::binary);
  if (!*f) throw std::runtime_error(path_ + ": cannot open the gradient record (does the run have a \"record\" section?)");
  in_ = std::move(f);
  read_header();
}

RecordReader::RecordReader(std::string name, std::unique_ptr<std::istream> in) : path_(std::move(name)), in_(std::move(in)) {
  read_header();
}

void RecordReader::fail(std::uint64_t at, const std::string& what) const {
  throw std::runtime_error(path_ + ": " + what + " at offset " + std::to_string(at));
}

bool RecordReader::read_exact(char* out, std::size_t n) {
  in_->read(out, std::streamsize(n));
  const auto got = std::size_t(in_->gcount());
  offset_ += got;
  return got == n;
}

void RecordReader::read_header() {
  in_->seekg(0, std::ios::end);
  size_ = std::uint64_t(in_->tellg());
  in_->seekg(0);
  if (size_ == 0) fail(0, "empty: the run has recorded no step yet");
  char fixed[kHeaderFixed];
  if (!read_exact(fixed, kHeaderFixed)) fail(0, "truncated header (" + std::to_string(size_) + " bytes)");
  if (std::memcmp(fixed, kMagic, 8) != 0) fail(0, "not a gradient record (bad magic)");
  h_.version = get<std::uint32_t>(fixed + 8);
  if (h_.version != 1) fail(8, "format version " + std::to_string(h_.version) + " (this build reads version 1)");
  h_.T = get<std::uint32_t>(fixed + 12);
  h_.P = get<std::uint64_t>(fixed + 16);
  h_.real_size = static_cast<unsigned char>(fixed[24]);
  const unsigned content = static_cast<unsigned char>(fixed[25]);
  if (content > 1) fail(25, "unknown content " + std::to_string(content) + " (0 jacobian, 1 gramian)");
  h_.content = RecordContent(content);
  const std::uint32_t m = get<std::uint32_t>(fixed + 28);
  if (m > size_ - kHeaderFixed) fail(28, "truncated header (metadata of " + std::to_string(m) + " bytes announced)");
  std::string all(fixed, kHeaderFixed), meta(m, '\0');
  char sum[4];
  if (!read_exact(meta.data(), m) || !read_exact(sum, 4)) fail(kHeaderFixed, "truncated header");
  all += meta;
  if (get<std::uint32_t>(sum) != crc(all.data(), all.size())) fail(kHeaderFixed + m, "header checksum mismatch");
  if (h_.T == 0) fail(12, "T = 0 tasks");
  // A multi-task run has a handful of tasks; a T beyond this is a corrupt or hand-made header.
  if (h_.T > 65536) fail(12, "T = " + std::to_string(h_.T) + " tasks (at most 65536)");
  if (h_.real_size != sizeof(real))
    fail(24, "recorded with " + std::to_string(h_.real_size) + "-byte reals, this build uses " +
                 std::to_string(sizeof(real)) + "-byte reals (replay it with a build of that real type)");
  // T·P must leave room for a record's arrays without overflowing 64 bits.
  if (h_.P > (std::numeric_limits<std::uint64_t>::max() / 16) / (std::uint64_t(h_.T) + 1))
    fail(16, "P = " + std::to_string(h_.P) + " is too large");
  try {
    h_.meta = parse_json(meta, path_ + " metadata");
  } catch (const std::exception& e) {
    fail(kHeaderFixed, std::string("metadata: ") + e.what());
  }
  if (!h_.meta.is_object()) fail(kHeaderFixed, "metadata is not a JSON object");
}

bool RecordReader::next(GradientRecord& r) {
  const std::uint64_t at = offset_;
  if (at == size_) return false;
  char frame[kFrame];
  if (!read_exact(frame, kFrame))
    fail(at, "truncated record (" + std::to_string(size_ - at) + " bytes left of a " + std::to_string(kFrame) +
                 "-byte record header; the run was cut off here)");
  if (std::memcmp(frame, kRecordTag, 4) != 0) fail(at, "corrupt record (no \"REC1\" tag)");
  const std::uint64_t n = get<std::uint64_t>(frame + 4), raw_n = get<std::uint64_t>(frame + 12);
  const std::uint32_t sum = get<std::uint32_t>(frame + 20);
  if (n > size_ - offset_)
    fail(at, "truncated record (" + std::to_string(n) + " compressed bytes announced, " +
                 std::to_string(size_ - offset_) + " left; the run was cut off here)");
  // Inflated length: at most the largest payload T and P allow (with a weights block and the
  // longest Rng state), so a corrupt length cannot make us allocate without bound.
  // zlib inflates at most ~1032:1, so a longer announced length is corrupt too.
  if (raw_n > payload_size(h_, kMaxRngBytes, true) || raw_n / 1032 > n + 64) fail(at + 12, "corrupt record (inflated length " + std::to_string(raw_n) + ")");
  compressed_.resize(n);
  if (!read_exact(compressed_.data(), n)) fail(at, "truncated record");
  if (crc(compressed_.data(), n) != sum) fail(at, "corrupt record (checksum mismatch)");
  raw_.assign(raw_n, '\0');
  uLongf got = uLongf(raw_n);
  if (uncompress(reinterpret_cast<Bytef*>(raw_.data()), &got, reinterpret_cast<const Bytef*>(compressed_.data()),
                 uLong(n)) != Z_OK ||
      got != raw_n)
    fail(at, "corrupt record (zlib cannot inflate it to its announced length)");
  const char* p = raw_.data();
  const char* end = p + raw_n;
  auto need = [&](std::uint64_t k, const char* what) {
    if (std::uint64_t(end - p) < k) fail(at, std::string("corrupt record (payload too short for ") + what + ")");
  };
  need(12, "its step");
  r.step = get<std::uint64_t>(p);
  const std::uint32_t rng_n = get<std::uint32_t>(p + 8);
  p += 12;
  if (rng_n > kMaxRngBytes) fail(at, "corrupt record (Rng state of " + std::to_string(rng_n) + " bytes)");
  need(rng_n + 1, "its Rng state");
  try {
    r.rng = parse_json(std::string(p, rng_n), path_ + " Rng state");
  } catch (const std::exception& e) {
    fail(at, std::string("corrupt record: ") + e.what());
  }
  p += rng_n;
  const bool weights = *p++ != 0;
  if (raw_n != payload_size(h_, rng_n, weights))
    fail(at, "record of step " + std::to_string(r.step) + " has " + std::to_string(raw_n) +
                 " payload bytes, T = " + std::to_string(h_.T) + " and P = " + std::to_string(h_.P) + " make " +
                 std::to_string(payload_size(h_, rng_n, weights)));
  const std::size_t T = h_.T, P = h_.P;
  auto reals = [&](real* out, std::size_t k) {
    std::memcpy(out, p, k * sizeof(real));
    p += k * sizeof(real);
  };
  r.losses.resize(T);
  reals(r.losses.data(), T);
  r.weights.clear();
  if (weights) {
    r.weights.resize(T);
    reals(r.weights.data(), T);
  }
  if (h_.content == RecordContent::jacobian) {
    if (r.direction.shape(0) != 1 || r.direction.shape(1) != P) r.direction.resize({1, P});
    if (r.J.shape(0) != T || r.J.shape(1) != P) r.J.resize({T, P});
    reals(r.direction.data(), P);
    reals(r.J.data(), T * P);
    r.G.resize({0, 0});
    r.Jd.clear();
  } else {
    r.G.resize({T, T});
    reals(r.G.data(), T * T);
    r.Jd.resize(T);
    reals(r.Jd.data(), T);
    reals(&r.dd, 1);
    r.direction.resize({0, 0});
    r.J.resize({0, 0});
  }
  return true;
}

std::size_t decode_record_bytes(const std::string& bytes, const std::string& name) {
  RecordReader reader(name, std::make_unique<std::istringstream>(bytes));
  GradientRecord r;
  std::size_t n = 0;
  while (reader.next(r)) ++n;
  return n;
}

}  // namespace mtlgrad
