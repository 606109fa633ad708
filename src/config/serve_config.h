// The configuration of `latchkey serve` (docs/configuration.md): one typed struct, and the one
// table of settings from which the command-line flags, the LATCHKEY_* environment variables,
// the keys of the TOML configuration file and the settings table of docs/configuration.md are
// all derived, so none of them can name a setting the others lack.
//
// Sources, lowest precedence first: the defaults below, the file (`--config PATH`), the
// environment, the flags. Each source is applied with its own call; a value that does not fit
// its setting is refused there, naming the setting as that source spells it (the file's key
// with FILE:LINE:COLUMN, the variable, the flag). validate() then checks what only the settings
// together can tell (a TLS listener needs its certificate and key).
//
// Pure: no I/O but reading the file in apply_file(). Thread safety: settings() is immutable;
// a ServeConfig is a plain value.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace latchkey::config {

struct ServeConfig {
  // Global options: given before the command name, and read by every command.
  std::string db = "sqlite:latchkey.db";
  std::string key_encryption_key_file;  // empty: PATH.kek beside sqlite:PATH (app/key_encryption.h)

  std::string listen;  // HOST:PORT; required
  std::string issuer;  // empty: http://HOST:PORT of the bound address
  int64_t workers = 0;
  int64_t handler_threads = 64;
  // How long apps, users and tokens read from the database are served from memory; changes
  // made by another process (the CLI) are seen within this. 0 = no cache.
  int64_t cache_ms = 1000;
  // How long, at most, while the server hears the database's change announcements (PostgreSQL)
  // (store/caching_database.h).
  int64_t cache_max_ms = 60'000;
  // Lowered at start-up to what the open-file limit allows (http/fd_budget.h).
  int64_t max_connections = 10'000;
  int64_t max_connections_per_address = 0;  // 0: a quarter of the connection cap, at least 16
  bool stop_on_stdin_eof = false;
  bool quiet = false;     // no access log
  std::string audit_log;  // JSON-lines audit log path, "-" for stdout
  // The server's log (access lines and messages; docs/operations.md "Logs"): "text" or
  // "json", and the file it goes to ("" or "-": stdout), reopened on SIGUSR1 like audit_log.
  std::string log_format = "text";
  std::string log_file;
  std::vector<std::string> trusted_proxies;   // address or CIDR block each
  std::vector<std::string> audience_aliases;  // absolute http(s) URLs
  int64_t refresh_reuse_grace = 0;            // seconds; 0 = a rotated token is never reused
  // TLS listener (RFC 8705 mutual TLS); off when tls_listen is empty.
  std::string tls_listen;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string tls_issuer;  // default: config::mtls_base_url
  std::string metrics_listen;
  // The admin API (docs/admin-api.md); off when empty.
  std::string admin_listen;
  int64_t purge_interval_s = 60;  // 0 = no purge (store/purger.h)
  // The stop on SIGTERM/SIGINT (docs/operations.md "Draining"): /readyz fails at once, the
  // listeners go on serving for drain_delay_ms, then stop accepting; requests in flight then
  // have drain_timeout_ms to finish before their connections are cut.
  int64_t drain_delay_ms = 0;
  int64_t drain_timeout_ms = 10'000;
  bool log_health_checks = false;  // /healthz and /readyz in the access log
};

// One setting: its names in every source, its type (the member it fills) and its check.
struct Setting {
  using Field = std::variant<std::string ServeConfig::*, int64_t ServeConfig::*,
                             bool ServeConfig::*, std::vector<std::string> ServeConfig::*>;
  std::string_view key;   // in the TOML file
  std::string_view flag;  // on the command line
  std::string_view env;   // in the environment
  bool global;            // a flag given before the command name (--db)
  Field field;
  std::string_view value_name;  // in --help and the docs: HOST:PORT, MS, …; empty for booleans
  std::string_view default_text;
  std::string_view help;  // one sentence or a few, Markdown
  int64_t min = 0;        // integers only
  int64_t max = 0;
  // Text and list items: "" when `value` is acceptable, else what is wrong ("must be …").
  std::string (*check)(std::string_view value) = nullptr;
};

// Every setting, in the order of the docs' table.
std::span<const Setting> settings();
const Setting* find_by_key(std::string_view key);

// The settings table of docs/configuration.md (Markdown), generated from settings().
std::string settings_markdown();

// Fills settings from the TOML file at `path`. An unreadable file, a TOML syntax error, an
// unknown key, a value of the wrong type or one its check refuses: an invalid_request error
// "PATH:LINE:COLUMN: …" naming the key.
Status apply_file(ServeConfig& config, const std::string& path);
// The same for TOML text already read; `path` names it in messages.
Status apply_toml(ServeConfig& config, std::string_view text, const std::string& path);
// Fills every setting whose variable `getenv` returns non-empty text for (lists: items
// separated by commas; booleans: true/false/1/0). Errors name the variable. `globals_only`:
// only the global settings (Setting::global), for the commands other than serve.
using GetEnv = std::function<std::optional<std::string>(std::string_view name)>;
Status apply_env(ServeConfig& config, const GetEnv& getenv, bool globals_only = false);
// The values given for `setting` by `source` (a flag, for messages): the last one for a
// single-valued setting ("true" or "false" for a boolean), every one for a list, which they
// replace.
Status apply_values(ServeConfig& config, const Setting& setting,
                    const std::vector<std::string>& values, std::string_view source);
// What only the settings together say: listen given, TLS files with the TLS listener and only
// with it, --tls-issuer https://.
Status validate(const ServeConfig& config);

// "HOST:PORT" → host, port; an IPv6 host may be bracketed. False if malformed.
bool split_listen(std::string_view listen, std::string& host, unsigned short& port);

}  // namespace latchkey::config
