#include "app/audit_log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

namespace latchkey::app {

AuditLog::AuditLog(const std::string& path, const Clock& clock) : clock_(clock) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (path == "-") {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    // The log names users and addresses: created for latchkey's user only (0600), whatever the
    // umask; spdlog's fopen() would make it 0666 less the umask. An existing file keeps its
    // mode (serve warns when it is open to others).
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      throw spdlog::spdlog_ex("cannot open the audit log " + path + ": " + std::strerror(errno));
    }
    ::close(fd);
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  }
  log_ = std::make_shared<spdlog::logger>("audit", std::move(sink));
  log_->set_pattern("%v");
  log_->flush_on(spdlog::level::info);
}

void AuditLog::emit(const Event& e) {
  boost::json::object o{{"ts", clock_.now_ms()}, {"event", names_of(e.type).audit}};
  if (!e.client_id.empty()) o["client_id"] = e.client_id;
  if (!e.user.empty()) o["user"] = e.user;
  if (!e.detail.empty()) o["detail"] = e.detail;
  if (!e.remote_addr.empty()) o["remote_addr"] = e.remote_addr;
  if (!e.admin.empty()) o["admin"] = e.admin;
  log_->info(boost::json::serialize(o));
}

void AuditLog::flush() { log_->flush(); }

}  // namespace latchkey::app
