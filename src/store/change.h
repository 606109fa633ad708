// What one process tells the others sharing its database after a write that changes a record
// they may hold in memory (docs/deployment.md "What each node caches"). A backend several
// processes share (PostgreSQL) announces every such change in the transaction that makes it and
// lets a server watch the announcements (Database::watch_changes); a server drops its cached
// copy of what changed, or reloads its signing keys.
//
// The wire form is "<kind>:<key>" ("token:<hash>", "user:<id>", "tokens:", "keys:"): a payload
// of PostgreSQL's NOTIFY, well under its 8000-byte limit for every key latchkey stores.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace latchkey::store {

struct Change {
  enum class Kind {
    app,     // key: client_id (created, secret rotated)
    user,    // key: user id (activated, deactivated, profile or permission sets changed)
    org,     // key: org id
    token,   // key: the token's hash (revoked)
    tokens,  // every token: revocations by family, user or code, which no single key names
    keys,    // the signing keys (a key made, rotated or retired)
    // key: a failed login or client secret, or a success that cleared a count, at some node
    // (oauth/throttle_relay.h says the key's format); no record changed.
    throttle,
  };
  Kind kind;
  std::string key;

  static Change app(std::string client_id) { return {Kind::app, std::move(client_id)}; }
  static Change user(std::string id) { return {Kind::user, std::move(id)}; }
  static Change org(std::string id) { return {Kind::org, std::move(id)}; }
  static Change token(std::string hash) { return {Kind::token, std::move(hash)}; }
  static Change all_tokens() { return {Kind::tokens, {}}; }
  static Change signing_keys() { return {Kind::keys, {}}; }

  bool operator==(const Change&) const = default;
};

std::string to_wire(const Change& change);
// nullopt for text that is no change of this format (a payload from something else).
std::optional<Change> parse_change(std::string_view wire);

// What a server does with the announcements. Both run on the watcher's own thread, one at a
// time; they must not block for long (announcements queue behind them).
struct ChangeHandlers {
  std::function<void(const Change&)> on_change;
  // true once the watcher listens (at the start, and again after it reconnected: every change
  // made while it was not listening was missed, so the server must drop everything it caches);
  // false when it lost its connection (until it is back the server must not rely on hearing of
  // changes).
  std::function<void(bool listening)> on_listening;
};

// Watches until destroyed; the destructor returns once no handler runs any more.
class ChangeWatch {
 public:
  virtual ~ChangeWatch() = default;
};

}  // namespace latchkey::store
