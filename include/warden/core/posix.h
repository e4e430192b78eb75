// Small POSIX file helpers shared by the modules that touch files directly
// (keys, the data directory, attestation through /proc): errno text, an owned
// descriptor, complete writes and durable directory entries. Thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "warden/core/status.h"

namespace warden {

// The message for an errno value ("No such file or directory").
std::string ErrnoText(int err);

// Owns a file descriptor and closes it when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now and returns close(2)'s result (0, or -1 with errno set): a
  // close can report a deferred write error that a durable write must see.
  int Close();

 private:
  int fd_;
};

// Writes all of `data` to `fd`, retrying short writes and EINTR.
// Unavailable("write: <errno text>") on failure.
Status WriteAll(int fd, std::string_view data);

// fsyncs the directory `dir`, making entries created, renamed or removed in
// it durable. Unavailable naming the directory on failure.
Status FsyncDirectory(const std::filesystem::path& dir);

}  // namespace warden
