// runtime/atomic_file.cpp — see atomic_file.h.
#include "runtime/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>

namespace einc::runtime {

namespace {

[[noreturn]] void fail(const std::string& what, int err) { throw FileWriteError(what + ": " + std::strerror(err)); }

}  // namespace

void write_file_atomically(const std::string& path, std::string_view bytes, const AtomicWrite& how) {
  std::size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  static std::atomic<std::uint64_t> counter{0};
  auto entropy = [] { return std::chrono::steady_clock::now().time_since_epoch().count() & 0xffffff; };
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = dir + how.temp_prefix + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
          std::to_string(entropy());
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) fail("cannot create a temporary file", errno);
  }
  if (fd < 0) throw FileWriteError("cannot create a temporary file: too many name collisions");

  auto abandon = [&](const std::string& what, int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    fail(what, err);
  };
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) abandon("cannot write", errno);
    if (n == 0) abandon("cannot write", EIO);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (how.flush && ::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) abandon("cannot flush", errno);
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0) abandon("cannot close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) abandon("cannot rename the temporary file into place", errno);
}

}  // namespace einc::runtime
