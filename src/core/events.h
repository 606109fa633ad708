// Authentication events (login, consent, token issued/refused/revoked) for the audit log and
// the metrics. Emitters know nothing of where events go; the composition root fans them out.
// Events never carry a secret: ids, usernames, grant types and error codes only.
#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>

namespace latchkey {

enum class EventType {
  token_issued,     // detail: the grant type
  token_refused,    // detail: the error code and the grant type
  login_success,    //
  login_failure,    // detail: "locked_out" when refused unchecked during a lockout
  token_revoked,    // detail: what was revoked, or why (code_replay, refresh_token_reuse)
  consent_granted,  // detail: the scopes
  consent_denied,   // detail: the scopes asked for
  admin_change,     // detail: the admin API operation (docs/admin-api.md "Audit"); admin: who
  admin_sign_in,    // the admin console (docs/admin-console.md); detail: "console"; admin: who
  admin_sign_in_failure,  // detail: "invalid_token"; no admin: the token named no one
};

// The ONE mapping of an event type to its names: the audit log's "event" member and the
// Prometheus counter (name and HELP text) that counts it, empty for none. A switch, so that a
// type added without its names does not compile (-Wswitch, -Werror).
struct EventNames {
  std::string_view audit;
  std::string_view metric;
  std::string_view metric_help;
};

constexpr EventNames names_of(EventType type) {
  switch (type) {
    case EventType::token_issued:
      return {"token_issued", "latchkey_tokens_issued_total",
              "Access tokens issued (their write durable) by grant type."};
    case EventType::token_refused:
      return {"token_refused", "latchkey_token_errors_total", "Token requests refused."};
    case EventType::login_success:
      return {"login_success", "latchkey_logins_total", "Successful logins."};
    case EventType::login_failure:
      return {"login_failure", "latchkey_failed_logins_total", "Failed logins."};
    case EventType::token_revoked:
      return {"token_revoked", "latchkey_revocations_total",
              "Revocations that revoked a token: by request, or of what a replayed code or "
              "reused refresh token had issued."};
    case EventType::consent_granted:
      return {"consent_granted", {}, {}};
    case EventType::consent_denied:
      return {"consent_denied", {}, {}};
    case EventType::admin_change:
      return {"admin_change", {}, {}};
    case EventType::admin_sign_in:
      return {"admin_sign_in", {}, {}};
    case EventType::admin_sign_in_failure:
      return {"admin_sign_in_failure", {}, {}};
  }
  return {"unknown", {}, {}};  // unreachable: every enumerator is handled above
}

// Every event type, in the order the metrics list their counters.
inline constexpr EventType kEventTypes[] = {
    EventType::token_issued,         EventType::token_refused, EventType::login_success,
    EventType::login_failure,        EventType::token_revoked, EventType::consent_granted,
    EventType::consent_denied,       EventType::admin_change,  EventType::admin_sign_in,
    EventType::admin_sign_in_failure};

constexpr bool event_types_dense() {
  for (std::size_t i = 0; i < std::size(kEventTypes); ++i) {
    if (static_cast<std::size_t>(kEventTypes[i]) != i) return false;
  }
  return true;
}
static_assert(event_types_dense(), "kEventTypes lists every EventType once, in order");

struct Event {
  EventType type;
  std::string_view client_id;  // may be empty
  std::string_view user;       // user id; for a failed login the username if it names a user,
                               // else "unknown" (never what was typed: it may be a password)
  std::string_view detail;     // grant type, error code, ...
  std::string_view remote_addr;
  std::string_view request_id = {};  // of the request that caused it (http::Request::request_id)
  std::string_view admin = {};       // the admin token's name, for admin_change and admin_sign_in
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
