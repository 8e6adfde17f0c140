#include "mtlgrad/run/checkpoint.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "mtlgrad/core/stored_state.hpp"

namespace mtlgrad {
namespace {

constexpr char kMagic[] = "mtlgrad ckpt v1\n";  // 16 bytes, the NUL not included
constexpr std::size_t kMagicSize = sizeof kMagic - 1, kHeaderSize = kMagicSize + 8 + 4;
constexpr std::size_t kBufferLimit = 64 * 1024;

std::uint32_t crc_of(const char* data, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes a uInt length: feed it in chunks below 4 GiB
    const uInt chunk = uInt(std::min<std::size_t>(n, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    n -= chunk;
  }
  return std::uint32_t(crc);
}

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
std::uint64_t get_le(const std::string& in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

}  // namespace

std::string seal_checkpoint(const nlohmann::json& state) {
  const std::vector<std::uint8_t> payload = nlohmann::json::to_cbor(state);
  std::string out(kMagic, kMagicSize);
  put_le(out, payload.size(), 8);
  put_le(out, crc_of(reinterpret_cast<const char*>(payload.data()), payload.size()), 4);
  out.append(payload.begin(), payload.end());
  return out;
}

nlohmann::json open_checkpoint(const std::string& bytes, const std::string& path) {
  if (bytes.size() < kHeaderSize || bytes.compare(0, kMagicSize, kMagic) != 0)
    throw std::runtime_error(path + ": not an mtlgrad checkpoint (it does not start with the header \"mtlgrad ckpt "
                             "v1\"; a checkpoint of another version, or another file)");
  const std::uint64_t n = get_le(bytes, kMagicSize, 8);
  const std::uint32_t recorded = std::uint32_t(get_le(bytes, kMagicSize + 8, 4));
  if (n != bytes.size() - kHeaderSize)
    throw std::runtime_error(path + ": truncated or extended: the header records " + std::to_string(n) +
                             " bytes of payload, the file holds " + std::to_string(bytes.size() - kHeaderSize));
  const std::uint32_t actual = crc_of(bytes.data() + kHeaderSize, bytes.size() - kHeaderSize);
  if (actual != recorded)
    throw std::runtime_error(path + ": checksum mismatch (CRC-32 of the payload is " + hex(actual) +
                             ", the header records " + hex(recorded) + "): the file is corrupt");
  try {
    return parse_cbor(bytes.substr(kHeaderSize), path);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
}

AppendLog::AppendLog(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
}

AppendLog::AppendLog(std::string path, std::uint64_t length) : path_(std::move(path)), length_(length) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("--resume: cannot open " + path_ + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || std::uint64_t(st.st_size) < length) {
    const std::string size = std::to_string(st.st_size);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("--resume: " + path_ + " holds " + size + " bytes but the checkpoint records " +
                             std::to_string(length) + " (the file was cut or replaced after the checkpoint)");
  }
  if (::ftruncate(fd_, off_t(length)) != 0 || ::lseek(fd_, off_t(length), SEEK_SET) < 0) {
    const std::string err = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("--resume: cannot cut " + path_ + " back to " + std::to_string(length) + " bytes: " + err);
  }
}

AppendLog::~AppendLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendLog::append(const std::string& text) {
  buffer_ += text;
  if (buffer_.size() >= kBufferLimit) flush();
}

void AppendLog::flush() {
  const char* p = buffer_.data();
  std::size_t left = buffer_.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
    }
    p += n;
    left -= std::size_t(n);
    length_ += std::uint64_t(n);
  }
  buffer_.clear();
}

std::uint64_t AppendLog::sync() {
  flush();
  if (::fsync(fd_) != 0) throw std::runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
  return length_;
}

}  // namespace mtlgrad
