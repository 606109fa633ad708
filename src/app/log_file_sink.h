// A log file that logrotate can rotate (docs/operations.md "Logs"): the server's log
// (`serve --log-file`) and the audit log (`--audit-log`). Each line is formatted and written
// with one write(2) to a descriptor opened O_APPEND, under the sink's lock, so lines from
// concurrent threads never interleave and nothing is left in a buffer at a crash. reopen()
// (on SIGUSR1, after logrotate renamed the file) opens the path again under the same lock:
// every line goes whole either to the old file or to the new one.
//
// The file is created with mode 0600 (it names users and addresses), whatever the umask; an
// existing file keeps its mode (serve warns when it is open to others).
//
// Thread safety: every member function may be called from any thread.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/sinks/sink.h>

#include <memory>
#include <optional>
#include <string>

#include "core/mutex.h"

namespace latchkey::app {

class LogFileSink final : public spdlog::sinks::sink {
 public:
  // Opens `path` for appending, creating it. Throws spdlog::spdlog_ex naming the file and
  // `what` ("the audit log") when it cannot.
  LogFileSink(std::string path, std::string what);
  ~LogFileSink() override;
  LogFileSink(const LogFileSink&) = delete;
  LogFileSink& operator=(const LogFileSink&) = delete;

  // Writes one formatted line. A failed write throws spdlog::spdlog_ex, which the logger
  // reports on stderr (spdlog's error handler).
  void log(const spdlog::details::log_msg& msg) override EXCLUDES(mu_);
  // Nothing to do: no line is ever held in a buffer.
  void flush() override {}
  void set_pattern(const std::string& pattern) override EXCLUDES(mu_);
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override EXCLUDES(mu_);

  // Opens the path again and writes there from now on: the file now at the path, created if
  // it is gone (logrotate moved it away). On failure the old file stays in use and the reason
  // is returned.
  std::optional<std::string> reopen() EXCLUDES(mu_);
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const std::string what_;
  Mutex mu_;
  int fd_ GUARDED_BY(mu_) = -1;
  std::unique_ptr<spdlog::formatter> formatter_ GUARDED_BY(mu_);
};

}  // namespace latchkey::app
