#include "app/audit_log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "app/log_file_sink.h"

namespace latchkey::app {

AuditLog::AuditLog(const std::string& path, const Clock& clock) : clock_(clock) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (path == "-") {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    // Created 0600 (it names users and addresses), reopened on SIGUSR1.
    file_ = std::make_shared<LogFileSink>(path, "the audit log");
    sink = file_;
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
  if (!e.request_id.empty()) o["request_id"] = e.request_id;
  if (!e.admin.empty()) o["admin"] = e.admin;
  log_->info(boost::json::serialize(o));
}

void AuditLog::flush() { log_->flush(); }

std::optional<std::string> AuditLog::reopen() {
  if (!file_) return std::nullopt;
  return file_->reopen();
}

}  // namespace latchkey::app
