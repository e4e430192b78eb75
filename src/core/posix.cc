#include "warden/core/posix.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace warden {

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r returns the message (possibly a static string) and never fails.
  return ::strerror_r(err, buf, sizeof buf);
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

int UniqueFd::Close() {
  int rc = ::close(fd_);
  fd_ = -1;
  return rc;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable("write: " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

Status FsyncDirectory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Unavailable("open " + dir.string() + ": " + ErrnoText(errno));
  if (::fsync(fd.get()) != 0) return Unavailable("fsync " + dir.string() + ": " + ErrnoText(errno));
  return OkStatus();
}

}  // namespace warden
