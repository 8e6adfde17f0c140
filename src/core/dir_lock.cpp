#include "mtlgrad/core/dir_lock.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace mtlgrad {

const std::string& host_name() {
  static const std::string name = [] {
    utsname u{};
    std::string raw = ::uname(&u) == 0 ? u.nodename : "";
    std::string out;
    for (char c : raw) {
      if (out.size() == 32) break;
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      out += ok ? c : '-';
    }
    return out.empty() ? std::string("unknown-host") : out;
  }();
  return name;
}

const std::string& process_domain() {
  static const std::string domain = [] {
    std::string boot;
    std::ifstream("/proc/sys/kernel/random/boot_id") >> boot;
    char ns[64] = {};
    const ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    if (boot.empty() || n <= 0) return std::string();
    // FNV-1a, 64 bits: a short name part, not a security measure.
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (char c : boot + "/" + std::string(ns, std::size_t(n)))
      h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return std::string(buf);
  }();
  return domain;
}

DirLock::DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

DirLock& DirLock::operator=(DirLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirLock::~DirLock() { release(); }

void DirLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor of the open file drops the flock
  fd_ = -1;
}

namespace {

std::string read_holder(int fd) {
  char buf[512];
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string text(buf, std::size_t(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  // "pid P host H pidns N started T" -> "pid P on host H (since T)"
  std::string pid, host, started;
  const auto field = [&](const std::string& key) {
    const auto at = text.find(key + " ");
    if (at == std::string::npos) return std::string();
    const auto from = at + key.size() + 1, to = text.find(' ', from);
    return text.substr(from, to == std::string::npos ? std::string::npos : to - from);
  };
  pid = field("pid"), host = field("host"), started = field("started");
  if (pid.empty() || host.empty()) return "";
  return "pid " + pid + " on host " + host + (started.empty() ? "" : " (since " + started + ")");
}

}  // namespace

bool DirLock::try_lock(const std::string& dir, std::string* holder) {
  release();
  const std::string path = dir + "/.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open the lock file " + path + ": " + std::strerror(errno));
  int rc;
  do rc = ::flock(fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      if (holder) {
        // The holder writes its name right after locking: wait briefly for a file still empty.
        *holder = read_holder(fd);
        for (int k = 0; k < 100 && holder->empty(); ++k) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          *holder = read_holder(fd);
        }
        if (holder->empty()) *holder = "another process (it has not written its pid into the lock file)";
      }
      ::close(fd);
      return false;
    }
    ::close(fd);
    throw std::runtime_error("cannot lock " + path + ": " + std::strerror(err) +
                             " (the file system does not support flock; on NFS run the lock daemon and do not mount "
                             "with nolock, on Lustre mount with -o flock; or write to a local directory)");
  }
  char when[32] = {};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  char ns[64] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
  const std::string text = "pid " + std::to_string(::getpid()) + " host " + host_name() + " pidns " +
                           (n > 0 ? std::string(ns, std::size_t(n)) : std::string("?")) + " started " + when + "\n";
  // Best effort: the lock holds whatever this note says.
  if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, text.data(), text.size(), 0) == ssize_t(text.size())) ::fsync(fd);
  fd_ = fd;
  return true;
}

DirLock lock_directory(const std::string& dir, const std::string& what) {
  DirLock lock;
  std::string holder;
  if (!lock.try_lock(dir, &holder))
    throw DirectoryBusy(what + " " + dir + " is in use by " + holder + "; lock file " + dir + "/.lock");
  return lock;
}

DirLock lock_directory_waiting(const std::string& dir, const std::string& what, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  DirLock lock;
  std::string holder;
  while (!lock.try_lock(dir, &holder)) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw DirectoryBusy(what + " " + dir + " is in use by " + holder + " (waited " + std::to_string(int(seconds)) +
                          " s); lock file " + dir + "/.lock");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return lock;
}

}  // namespace mtlgrad
