#include "mtlgrad/core/serialize.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <signal.h>
#include <strings.h>
#include <unistd.h>

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

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& what) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw std::invalid_argument(what + " is empty; expected a JSON object");
  using Event = nlohmann::json::parse_event_t;
  const auto limit_depth = [&what](int depth, Event event, nlohmann::json&) {
    if (depth >= kMaxJsonDepth && (event == Event::object_start || event == Event::array_start))
      throw std::invalid_argument(what + ": arrays and objects nested deeper than " + std::to_string(kMaxJsonDepth) +
                                  " levels");
    return true;
  };
  try {
    return nlohmann::json::parse(text, limit_depth);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::invalid_argument(what + ": not valid JSON (at byte " + std::to_string(e.byte) + ")" +
                                non_finite_hint(text, e.byte) + ": " + e.what());
  } catch (const nlohmann::json::out_of_range& e) {  // 1e999
    throw std::invalid_argument(what + ": holds a number that is not finite (beyond the range of a double): " +
                                e.what());
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
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
}

std::size_t remove_stale_temporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::size_t removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || at == 0) continue;
    const std::string digits = name.substr(at + 5);
    if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
    const pid_t pid = pid_t(std::stol(digits));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // ours, or alive
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
