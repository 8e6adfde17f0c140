// Ownership of a directory: SHA-256 against published and independently computed digests, the
// directory lock (within a process, across fork, freed by SIGKILL, its holder named), and temporary
// names with the cleanup that removes only what is provably dead.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "mtlgrad/core/dir_lock.hpp"
#include "mtlgrad/core/serialize.hpp"
#include "mtlgrad/core/sha256.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace mtlgrad;

namespace {

std::string scratch(const std::string& name) {
  const auto d = fs::temp_directory_path() / ("mtlgrad_lock_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

pid_t dead_pid() {  // a pid that surely belonged to a process that is gone
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  REQUIRE(pid > 0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

void touch(const std::string& path) { std::ofstream(path) << "half"; }

}  // namespace

TEST_SUITE("core ownership") {

TEST_CASE("sha256: the FIPS 180-4 examples and block-boundary lengths") {
  // FIPS 180-4 / NIST CSRC example values.
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundaries (55 fits one block, 56 needs two), from Python's
  // hashlib.sha256(b"x" * n).hexdigest().
  CHECK(sha256_hex(std::string(55, 'x')) == "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
  CHECK(sha256_hex(std::string(56, 'x')) == "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
  CHECK(sha256_hex(std::string(63, 'x')) == "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2");
  CHECK(sha256_hex(std::string(64, 'x')) == "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
  CHECK(sha256_hex(std::string(119, 'x')) == "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c");
  CHECK(sha256_hex(std::string(120, 'x')) == "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98");
}

TEST_CASE("a directory lock excludes a second holder in this process and names the first") {
  const std::string d = scratch("inproc");
  DirLock a = lock_directory(d, "run directory");
  REQUIRE(a.locked());
  const std::string note = [&] {
    std::ifstream in(d + "/.lock");
    std::string s;
    std::getline(in, s);
    return s;
  }();
  CHECK(note.rfind("pid " + std::to_string(::getpid()) + " host " + host_name() + " pidns pid:[", 0) == 0);
  DirLock b;
  std::string holder;
  CHECK_FALSE(b.try_lock(d, &holder));
  CHECK(holder.rfind("pid " + std::to_string(::getpid()) + " on host " + host_name() + " (since ", 0) == 0);
  try {
    lock_directory(d, "run directory");
    FAIL("a second lock succeeded");
  } catch (const DirectoryBusy& e) {
    CHECK(std::string(e.what()).rfind("run directory " + d + " is in use by pid " + std::to_string(::getpid()) +
                                          " on host " + host_name(), 0) == 0);
    CHECK(std::string(e.what()).find("lock file " + d + "/.lock") != std::string::npos);
  }
  CHECK_THROWS_AS(lock_directory_waiting(d, "sweep directory", 0.1), DirectoryBusy);
  DirLock moved = std::move(a);  // moving keeps it held
  CHECK_FALSE(b.try_lock(d));
  moved.release();
  CHECK(b.try_lock(d));
  fs::remove_all(d);
}

TEST_CASE("a directory lock excludes another process and is freed when its holder is killed") {
  const std::string d = scratch("fork");
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    DirLock held;
    const bool ok = held.try_lock(d);
    const char c = ok ? '1' : '0';
    if (::write(ready[1], &c, 1) != 1) ::_exit(2);
    ::pause();  // holds the lock until killed
    ::_exit(0);
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == '1');
  DirLock mine;
  std::string holder;
  CHECK_FALSE(mine.try_lock(d, &holder));
  CHECK(holder.rfind("pid " + std::to_string(child) + " on host " + host_name(), 0) == 0);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(mine.try_lock(d));  // the kernel released it with the process: no stale lock
  ::close(ready[0]);
  ::close(ready[1]);
  fs::remove_all(d);
}

TEST_CASE("temporary names carry host, pid namespace and pid, and never repeat") {
  const std::string name = temporary_name("/x/summary.json");
  const std::string expect = "/x/summary.json.tmp." + host_name() + "." + process_domain() + "." +
                             std::to_string(::getpid()) + ".";
  CHECK(name.rfind(expect, 0) == 0);
  CHECK(name.size() == expect.size() + 16);
  CHECK(process_domain().size() == 16);  // this machine has /proc: a domain to compare
  std::set<std::string> seen;
  for (int k = 0; k < 1000; ++k) seen.insert(temporary_name("/x/a"));
  CHECK(seen.size() == 1000);
}

TEST_CASE("stale temporaries: only the provably dead go, or all but ours under the directory's lock") {
  const std::string d = scratch("stale");
  const std::string me = std::to_string(::getpid()), dead = std::to_string(dead_pid());
  const std::string here = host_name() + "." + process_domain() + ".";
  const std::string nonce = ".0123456789abcdef";
  const std::string dead_here = d + "/a.json.tmp." + here + dead + nonce;
  const std::string live_here = d + "/b.json.tmp." + here + std::to_string(::getppid()) + nonce;
  const std::string ours = d + "/c.json.tmp." + here + me + nonce;
  // Pid 1 or a dead pid of another pid namespace or another host: maybe alive there.
  const std::string other_ns = d + "/d.json.tmp." + host_name() + ".fedcba9876543210." + dead + nonce;
  const std::string other_host = d + "/e.json.tmp.elsewhere." + process_domain() + "." + dead + nonce;
  const std::string not_ours = d + "/f.tmp.notes";  // not a name write_file_atomic makes
  for (const auto& f : {dead_here, live_here, ours, other_ns, other_host, not_ours}) touch(f);
  CHECK(remove_stale_temporaries(d) == 1);
  CHECK_FALSE(fs::exists(dead_here));
  for (const auto& f : {live_here, ours, other_ns, other_host, not_ours}) CHECK_MESSAGE(fs::exists(f), f);
  // Holding the directory's lock, every other writer's temporary is a dead one's.
  CHECK(remove_stale_temporaries(d, true) == 3);
  CHECK(fs::exists(ours));
  CHECK(fs::exists(not_ours));
  CHECK_FALSE(fs::exists(other_ns));
  CHECK(remove_stale_temporaries(d + "/missing") == 0);
  fs::remove_all(d);
}

TEST_CASE("write_file_atomic leaves no temporary and replaces the whole file") {
  const std::string d = scratch("atomic");
  write_file_atomic(d + "/f.json", "one");
  write_file_atomic(d + "/f.json", "two");
  CHECK(read_file(d + "/f.json") == "two");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(d)) files += e.is_regular_file();
  CHECK(files == 1);
  CHECK_THROWS_WITH_SUBSTR(write_file_atomic(d + "/no/such/dir/f", "x"), "cannot write " + d + "/no/such/dir/f.tmp.");
  fs::remove_all(d);
}

}  // TEST_SUITE
