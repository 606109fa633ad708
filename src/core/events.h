// Authentication events (login, consent, token issued/refused/revoked) for the audit log and
// the metrics. Emitters know nothing of where events go; the composition root fans them out.
// Events never carry a secret: ids, usernames, grant types and error codes only.
#pragma once

#include <string_view>

namespace latchkey {

struct Event {
  std::string_view type;       // login_success, login_failure, consent_granted, ...
  std::string_view client_id;  // may be empty
  std::string_view user;       // user id; for a failed login the username if it names a user,
                               // else "unknown" (never what was typed: it may be a password)
  std::string_view detail;     // grant type, error code, ...
  std::string_view remote_addr;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Thread-safe; must not block on slow I/O for long.
  virtual void emit(const Event& event) = 0;
};

class NullEvents final : public EventSink {
 public:
  void emit(const Event&) override {}
};

}  // namespace latchkey
