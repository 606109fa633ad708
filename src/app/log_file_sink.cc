#include "app/log_file_sink.h"

#include <spdlog/common.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace latchkey::app {
namespace {

// -1 and errno on failure. 0600 whatever the umask: the log names users and addresses.
int open_for_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

}  // namespace

LogFileSink::LogFileSink(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {
  const int fd = open_for_append(path_);
  if (fd < 0) {
    throw spdlog::spdlog_ex("cannot open " + what_ + " " + path_ + ": " + std::strerror(errno));
  }
  MutexLock lock(mu_);
  fd_ = fd;
  formatter_ = std::make_unique<spdlog::pattern_formatter>();
}

LogFileSink::~LogFileSink() {
  MutexLock lock(mu_);
  if (fd_ >= 0) ::close(fd_);
}

void LogFileSink::log(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  MutexLock lock(mu_);
  formatter_->format(msg, line);
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw spdlog::spdlog_ex("cannot write " + what_ + " " + path_ + ": " +
                              std::strerror(n < 0 ? errno : EIO));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void LogFileSink::set_pattern(const std::string& pattern) {
  set_formatter(std::make_unique<spdlog::pattern_formatter>(pattern));
}

void LogFileSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  MutexLock lock(mu_);
  formatter_ = std::move(formatter);
}

std::optional<std::string> LogFileSink::reopen() {
  // Opened before the lock is taken, so writers wait only for the swap.
  const int fd = open_for_append(path_);
  if (fd < 0) return "cannot reopen " + what_ + " " + path_ + ": " + std::strerror(errno);
  int old = -1;
  {
    MutexLock lock(mu_);
    old = fd_;
    fd_ = fd;
  }
  if (old >= 0) ::close(old);
  return std::nullopt;
}

}  // namespace latchkey::app
