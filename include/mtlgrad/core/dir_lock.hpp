#pragma once
/// @file dir_lock.hpp
/// One process owns a directory: an exclusive lock on the file DIR/.lock, and who this process
/// is across machines (for the lock's message and for temporary file names, serialize.hpp).
///
/// The lock is flock(2) on DIR/.lock, opened close-on-exec (a plot program started by the run
/// does not inherit it). The kernel releases it when the process ends, however it ends (kill -9
/// included), so a lock never goes stale; the file itself stays and only records, for the
/// message of a second writer, who holds it or held it last: "pid P host H pidns N started T".
/// flock locks are per open file, so two locks of one directory conflict within one process too.
///
/// Shared folders: on Linux NFS (v3 with lockd, v4) flock is carried out as a whole-file lock on
/// the server, so it excludes processes on other hosts; on a file system without locking (NFS
/// mounted `nolock`, where every lock is only local; Lustre without `-o flock`) either the lock
/// fails with a clear message or it only holds between processes of one host. A pid is the
/// holder's pid in its own pid namespace and on its own host.

#include <stdexcept>
#include <string>

namespace mtlgrad {

/// This machine's host name (uname), every character outside [A-Za-z0-9-] replaced by '-', at
/// most 32 characters; "unknown-host" if it has none.
const std::string& host_name();
/// 16 hex digits that tell this boot of this machine and this pid namespace apart from every other
/// (a hash of /proc/sys/kernel/random/boot_id and the inode of /proc/self/ns/pid); empty if
/// either cannot be read, and then no temporary is ever taken for provably dead (serialize.hpp).
const std::string& process_domain();

/// Thrown when another process holds the lock; what() names the directory, pid and host.
class DirectoryBusy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DirLock {
 public:
  DirLock() = default;
  DirLock(DirLock&& other) noexcept;
  DirLock& operator=(DirLock&& other) noexcept;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  ~DirLock();

  /// Tries once to lock `dir`/.lock (the directory must exist). True: held until this object is
  /// destroyed or release()d, and "pid P host H ..." is written into the file. False: another open
  /// file holds it; `holder` gets "pid P on host H (since T)" from the file. A file system that
  /// cannot lock throws std::runtime_error naming the file and what to do.
  bool try_lock(const std::string& dir, std::string* holder = nullptr);
  bool locked() const { return fd_ >= 0; }
  void release();

 private:
  int fd_ = -1;
};

/// Locks `dir` at once, or throws DirectoryBusy: "<what> <dir> is in use by pid P on host H
/// (since T; lock file <dir>/.lock)".
DirLock lock_directory(const std::string& dir, const std::string& what);
/// Waits up to `seconds` for the lock (for a short critical section another process may be in,
/// such as writing a sweep's table), polling; then throws DirectoryBusy like lock_directory().
DirLock lock_directory_waiting(const std::string& dir, const std::string& what, double seconds);

}  // namespace mtlgrad
