#include "mtlgrad/core/serialize.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <unordered_set>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <strings.h>
#include <unistd.h>

#include "mtlgrad/core/dir_lock.hpp"
#include "mtlgrad/core/stored_state.hpp"

namespace mtlgrad {

nlohmann::json tensor_to_json(const Tensor& t) {
  return {{"shape", {t.shape(0), t.shape(1)}}, {"data", flat_json(t)}};
}

nlohmann::json flat_json(const Tensor& t) {
  nlohmann::json data = nlohmann::json::array();
  for (real v : t) {
    if (!std::isfinite(v))
      throw std::invalid_argument("tensor_to_json: non-finite value " + std::to_string(v) +
                                  " cannot be written as JSON");
    data.push_back(double(v));
  }
  return data;
}

Tensor state_tensor(const nlohmann::json& s, const std::string& key, const std::string& who,
                    std::optional<Shape> expected) {
  const std::string what = who + ": load_state: '" + key + "'";
  if (!s.is_object() || !s.contains(key)) throw std::invalid_argument(what + " is missing");
  Tensor x = tensor_from_json(s[key], what);
  if (expected && shape_of(x) != *expected)
    throw std::invalid_argument(what + " has shape " + shape_str(x) + ", expected " + shape_str(*expected));
  return x;
}

Tensor tensor_from_json(const nlohmann::json& j, const std::string& what) {
  if (!j.is_object() || !j.contains("shape") || !j.contains("data"))
    throw std::invalid_argument(what + ": expected {\"shape\": [r, c], \"data\": [...]}");
  const auto& s = j["shape"];
  const auto& d = j["data"];
  if (!s.is_array() || s.size() != 2 || !s[0].is_number_integer() || !s[1].is_number_integer() ||
      s[0].get<long long>() < 0 || s[1].get<long long>() < 0)
    throw std::invalid_argument(what + ": shape must be two non-negative integers, got " + s.dump());
  const std::size_t r = s[0].get<std::size_t>(), c = s[1].get<std::size_t>();
  if (!d.is_array() || d.size() != r * c)
    throw std::invalid_argument(what + ": shape " + s.dump() + " needs " + std::to_string(r * c) +
                                " values, got " + (d.is_array() ? std::to_string(d.size()) : std::string("a non-array")));
  Tensor t = zeros(r, c);
  std::size_t k = 0;
  for (const auto& v : d) {
    if (!v.is_number())
      throw std::invalid_argument(what + ": data[" + std::to_string(k) + "] is not a number: " + v.dump());
    t.data()[k++] = real(v.get<double>());
  }
  return t;
}

namespace {

// " (NaN and Infinity ...)" when the word the parser stopped in is one of them.
std::string non_finite_hint(const std::string& text, std::size_t byte) {
  std::size_t p = std::min(byte > 0 ? byte - 1 : 0, text.size());
  while (p > 0 && std::isalpha(static_cast<unsigned char>(text[p - 1]))) --p;
  const std::string word = text.substr(p, 3);
  if (strncasecmp(word.c_str(), "nan", 3) == 0 || strncasecmp(word.c_str(), "inf", 3) == 0)
    return " (NaN and Infinity are not JSON numbers: JSON cannot express non-finite values)";
  return "";
}

// The DOM parser of nlohmann::json, wrapped to refuse what it would take silently: a key that
// appears twice in one object (the parser keeps the last; we name the key path instead) and
// nesting deeper than kMaxJsonDepth. One reader for JSON text and CBOR alike.
class CheckedSax {
 public:
  CheckedSax(nlohmann::json& root, const std::string& what) : dom_(root), what_(what) {}

  bool null() { return element(), dom_.null(); }
  bool boolean(bool v) { return element(), dom_.boolean(v); }
  bool number_integer(nlohmann::json::number_integer_t v) { return element(), dom_.number_integer(v); }
  bool number_unsigned(nlohmann::json::number_unsigned_t v) { return element(), dom_.number_unsigned(v); }
  bool number_float(nlohmann::json::number_float_t v, const std::string& s) { return element(), dom_.number_float(v, s); }
  bool string(std::string& v) { return element(), dom_.string(v); }
  bool binary(nlohmann::json::binary_t& v) { return element(), dom_.binary(v); }
  bool start_object(std::size_t n) { return push(false), dom_.start_object(n); }
  bool end_object() { return frames_.pop_back(), dom_.end_object(); }
  bool start_array(std::size_t n) { return push(true), dom_.start_array(n); }
  bool end_array() { return frames_.pop_back(), dom_.end_array(); }
  bool key(std::string& k) {
    Frame& f = frames_.back();
    if (!f.keys.insert(k).second)
      throw std::invalid_argument(what_ + ": duplicate key '" + path(k) +
                                  "' (a key may appear once in an object; which one was meant is unclear)");
    f.key = k;
    return dom_.key(k);
  }
  template <class Exception>
  bool parse_error(std::size_t at, const std::string& token, const Exception& e) {
    return dom_.parse_error(at, token, e);
  }

 private:
  struct Frame {
    bool array = false;
    std::size_t count = 0;  ///< elements begun so far (arrays)
    std::string key;        ///< the key being read (objects)
    std::unordered_set<std::string> keys;
  };
  void element() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().count;
  }
  void push(bool array) {
    element();
    if (frames_.size() >= std::size_t(kMaxJsonDepth))
      throw std::invalid_argument(what_ + ": arrays and objects nested deeper than " + std::to_string(kMaxJsonDepth) +
                                  " levels");
    frames_.push_back(Frame{array, 0, {}, {}});
  }
  // "model.layers[2].size": the key path down to `last`, a key of the innermost object.
  std::string path(const std::string& last) const {
    std::string p;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i)
      p += frames_[i].array ? "[" + std::to_string(frames_[i].count - 1) + "]" : (p.empty() ? "" : ".") + frames_[i].key;
    return p + (p.empty() ? "" : ".") + last;
  }

  nlohmann::detail::json_sax_dom_parser<nlohmann::json> dom_;
  const std::string& what_;
  std::vector<Frame> frames_;
};

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& what) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw std::invalid_argument(what + " is empty; expected a JSON object");
  try {
    nlohmann::json out;
    CheckedSax sax(out, what);
    nlohmann::json::sax_parse(text, &sax);
    return out;
  } catch (const nlohmann::json::parse_error& e) {
    throw std::invalid_argument(what + ": not valid JSON (at byte " + std::to_string(e.byte) + ")" +
                                non_finite_hint(text, e.byte) + ": " + e.what());
  } catch (const nlohmann::json::out_of_range& e) {  // 1e999
    throw std::invalid_argument(what + ": holds a number that is not finite (beyond the range of a double): " +
                                e.what());
  }
}

namespace {

/// A 64-bit random number for a temporary's name: the clock, a per-process counter, the address of
/// a stack variable and the random device, mixed (SplitMix64), so that two processes with the same
/// pid on machines with the same name still draw different names.
std::uint64_t temp_nonce() {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t x = std::uint64_t(std::chrono::system_clock::now().time_since_epoch().count()) ^
                    (counter.fetch_add(1) << 48) ^ reinterpret_cast<std::uintptr_t>(&x);
  try {
    std::random_device rd;
    x ^= (std::uint64_t(rd()) << 32) | rd();
  } catch (const std::exception&) {
  }
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

bool all_of_class(const std::string& s, const char* allowed) {
  return !s.empty() && s.find_first_not_of(allowed) == std::string::npos;
}

constexpr const char* kDigits = "0123456789";
constexpr const char* kHex = "0123456789abcdef";

}  // namespace

std::string temporary_name(const std::string& path) {
  char nonce[17];
  std::snprintf(nonce, sizeof nonce, "%016llx", static_cast<unsigned long long>(temp_nonce()));
  const std::string domain = process_domain().empty() ? std::string("0000000000000000") : process_domain();
  return path + ".tmp." + host_name() + "." + domain + "." + std::to_string(::getpid()) + "." + nonce;
}

nlohmann::json parse_cbor(const std::string& bytes, const std::string& what) {
  try {
    nlohmann::json out;
    CheckedSax sax(out, what);
    nlohmann::json::sax_parse(bytes, &sax, nlohmann::json::input_format_t::cbor);
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(what + ": not valid CBOR: " + e.what());
  }
}

namespace {
[[noreturn]] void state_type_error(const nlohmann::json& v, const std::string& where, const char* expected) {
  std::string shown = v.dump();
  if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
  throw std::invalid_argument(where + ": expected " + expected + ", got " + shown);
}
}  // namespace

const nlohmann::json& state_field(const nlohmann::json& j, const std::string& key, const std::string& path) {
  const std::string where = path.empty() ? key : path + "." + key;
  if (!j.is_object()) throw std::invalid_argument(path + ": expected an object, got " + j.dump().substr(0, 40));
  const auto it = j.find(key);
  if (it == j.end()) throw std::invalid_argument(where + ": missing");
  return *it;
}

std::uint64_t state_uint(const nlohmann::json& j, const std::string& key, const std::string& path) {
  const nlohmann::json& v = state_field(j, key, path);
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<std::int64_t>() < 0))
    state_type_error(v, path.empty() ? key : path + "." + key, "a non-negative integer");
  return v.get<std::uint64_t>();
}

bool state_bool(const nlohmann::json& j, const std::string& key, const std::string& path) {
  const nlohmann::json& v = state_field(j, key, path);
  if (!v.is_boolean()) state_type_error(v, path.empty() ? key : path + "." + key, "true or false");
  return v.get<bool>();
}

std::string state_string(const nlohmann::json& j, const std::string& key, const std::string& path) {
  const nlohmann::json& v = state_field(j, key, path);
  if (!v.is_string()) state_type_error(v, path.empty() ? key : path + "." + key, "a string");
  return v.get<std::string>();
}

double state_number(const nlohmann::json& j, const std::string& key, const std::string& path) {
  const nlohmann::json& v = state_field(j, key, path);
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    state_type_error(v, path.empty() ? key : path + "." + key, "a finite number");
  return v.get<double>();
}

void write_file_atomic(const std::string& path, const std::string& content) {
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = temporary_name(path);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && (errno != EEXIST || attempt == 8))
      throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
  }
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp + ": " + err);
    }
    p += n;
    left -= std::size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write " + tmp + ": " + err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + err);
  }
  // The rename is durable only once the directory entry is: without this, a power loss after
  // the rename can bring back the old file (or none) although the new content was synced.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd < 0 || ::fsync(dfd) != 0) {
    const std::string err = std::strerror(errno);
    if (dfd >= 0) ::close(dfd);
    throw std::runtime_error("cannot sync the directory of " + path + ": " + err);
  }
  ::close(dfd);
}

std::size_t remove_stale_temporaries(const std::string& dir, bool dir_locked) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::size_t removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::size_t at = name.find(".tmp.");
    if (at == std::string::npos || at == 0) continue;
    // "<host>.<domain>.<pid>.<nonce>" (this version) or "<pid>" (earlier versions).
    std::vector<std::string> parts;
    for (std::size_t b = at + 5;;) {
      const std::size_t dot = name.find('.', b);
      parts.push_back(name.substr(b, dot == std::string::npos ? std::string::npos : dot - b));
      if (dot == std::string::npos) break;
      b = dot + 1;
    }
    bool stale = false;
    if (parts.size() == 4 && parts[1].size() == 16 && all_of_class(parts[1], kHex) && parts[2].size() <= 9 &&
        all_of_class(parts[2], kDigits) && parts[3].size() == 16 && all_of_class(parts[3], kHex)) {
      const pid_t pid = pid_t(std::stol(parts[2]));
      const bool here = parts[0] == host_name() && !process_domain().empty() && parts[1] == process_domain();
      if (dir_locked) stale = !(here && pid == ::getpid());  // every writer into dir holds its lock
      else stale = here && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH;
    } else if (parts.size() == 1 && parts[0].size() <= 9 && all_of_class(parts[0], kDigits)) {
      // An earlier version's name holds only a pid, of an unknown host: only under the lock.
      const pid_t pid = pid_t(std::stol(parts[0]));
      stale = dir_locked && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH;
    }
    if (!stale) continue;
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace mtlgrad
