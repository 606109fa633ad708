#include "config/serve_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <type_traits>

#include "http/client_address.h"

namespace latchkey::config {
namespace {

using S = ServeConfig;

std::string quoted(std::string_view v) {
  // Appended rather than "'" + std::string(v): GCC 12 warns falsely (-Wrestrict) on that.
  std::string out;
  out.reserve(v.size() + 2);
  out += '\'';
  out += v;
  out += '\'';
  return out;
}

std::string check_listen(std::string_view v) {
  std::string host;
  unsigned short port = 0;
  return split_listen(v, host, port) ? "" : "must be HOST:PORT, got " + quoted(v);
}

std::string check_cidr(std::string_view v) {
  return http::Cidr::parse(v) ? "" : "must be an IP address or CIDR block, got " + quoted(v);
}

std::string check_http_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  const auto scheme = url.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end);
  if ((scheme != "https" && scheme != "http") || url.size() <= scheme_end + 3 ||
      url.find_first_of(" \t\r\n") != std::string_view::npos) {
    return "must be an http:// or https:// URL, got " + quoted(url);
  }
  return "";
}

std::string check_https_url(std::string_view url) {
  return url.starts_with("https://") ? "" : "must be an https:// URL, got " + quoted(url);
}

std::string check_not_empty(std::string_view v) { return v.empty() ? "must not be empty" : ""; }

std::string check_log_format(std::string_view v) {
  return v == "text" || v == "json" ? "" : "must be text or json, got " + quoted(v);
}

// The one table (serve_config.h). Help texts are Markdown: they become the docs' table rows.
const Setting kSettings[] = {
    {"db", "--db", "LATCHKEY_DB", true, &S::db, "URL", "`sqlite:latchkey.db`",
     "`sqlite:PATH` (WAL, durable commits), or `postgresql://user[:password]@host[:port]/dbname` "
     "for several nodes on one PostgreSQL database (libpq's URI and query parameters, e.g. "
     "`?host=/run/postgresql&sslmode=…`; latchkey's own: `pool_size=N` connections per process, "
     "default 16; `pool_wait_ms=MS` a request waits for one before it is answered 503, default "
     "5000; `statement_timeout_ms=MS` a statement may run before PostgreSQL cancels it and the "
     "request is answered 503, default 5000, 0 for the server's own `statement_timeout`; and "
     "`writers=N` connections that commit the queued writes in batches, default 1, see "
     "[deployment.md](deployment.md)); see [behaviour.md](behaviour.md) §2",
     0, 0, check_not_empty},
    {"key_encryption_key_file", "--key-encryption-key-file", "LATCHKEY_KEK_FILE", true,
     &S::key_encryption_key_file, "PATH",
     "`PATH.kek` for `sqlite:PATH`; required for other databases",
     "file of the key that encrypts the signing keys (see \"Signing keys at rest\" in "
     "[operations.md](operations.md)); created, mode 0600, when missing"},
    {"listen", "--listen", "LATCHKEY_LISTEN", false, &S::listen, "HOST:PORT", "required",
     "address of the HTTP listener; port 0 picks a free port", 0, 0, check_listen},
    {"issuer", "--issuer", "LATCHKEY_ISSUER", false, &S::issuer, "URL", "`http://HOST:PORT`",
     "public base URL: JWT/SAML audiences, `id` URLs, discovery"},
    {"workers", "--workers", "LATCHKEY_WORKERS", false, &S::workers, "N", "0 (one per core)",
     "I/O threads; 0 = one per core", 0, 1024},
    {"handler_threads", "--handler-threads", "LATCHKEY_HANDLER_THREADS", false, &S::handler_threads,
     "N", "64",
     "threads for the handlers that must wait on a write before going on (code exchange, "
     "refresh, login, consent); requests waiting on a durable write share one commit",
     1, 4096},
    {"cache_ms", "--cache-ms", "LATCHKEY_CACHE_MS", false, &S::cache_ms, "MS", "1000",
     "apps, users and tokens are served from memory for up to this long; the server's own "
     "changes (revocation, rotation) are seen at once, changes made by another process (the "
     "CLI, another node) within this unless the database announces them (PostgreSQL, "
     "[deployment.md](deployment.md)); 0 reads the database every time",
     0, 60'000},
    {"cache_max_ms", "--cache-max-ms", "LATCHKEY_CACHE_MAX_MS", false, &S::cache_max_ms, "MS",
     "60000",
     "on PostgreSQL, while the node hears the database's change announcements (which bring "
     "other processes' changes within milliseconds): the longest a cached record is kept; it "
     "bounds only changes made with SQL behind latchkey's back",
     0, 3'600'000},
    {"max_connections", "--max-connections", "LATCHKEY_MAX_CONNECTIONS", false, &S::max_connections,
     "N", "10000",
     "concurrent connections served; a connection beyond it is answered 503 "
     "`temporarily_unavailable` with `Retry-After: 1` and closed. At start-up `serve` raises "
     "its soft open-file limit (`RLIMIT_NOFILE`) to the hard limit and lowers this cap to fit "
     "under it, keeping a reserve of 128 + 4 per core descriptors for the database, logs, "
     "listeners and 503 answers; the start-up log says `serving at most N connections (…, open "
     "files limit SOFT of HARD)`. Raise the hard limit (`ulimit -Hn`, systemd `LimitNOFILE=`) "
     "to serve more",
     1, 1'000'000},
    {"max_connections_per_address", "--max-connections-per-address",
     "LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS", false, &S::max_connections_per_address, "N",
     "0 (a quarter of the connection cap, at least 16)",
     "concurrent connections from one client address (an IPv4 address; an IPv6 client by its "
     "/64), so one client cannot hold every slot; a connection beyond it is closed at once, "
     "unanswered, and counted in `/metrics` as "
     "`latchkey_connections_refused_total{reason=\"per_address\"}`. Keyed by the TCP peer "
     "address: behind a reverse proxy every client shares the proxy's address, so raise it "
     "there (forwarded addresses are not trusted). Under pressure, when more than 3/4 of the "
     "connection cap is in use, a connection waiting for a request (idle keep-alive, or new and "
     "silent) is closed 5 s after it fell idle instead of 60 s, the longest idle first",
     1, 1'000'000},
    {"stop_on_stdin_eof", "--stop-on-stdin-eof", "LATCHKEY_STOP_ON_STDIN_EOF", false,
     &S::stop_on_stdin_eof, "", "false", "exit when stdin closes (test harnesses)"},
    {"quiet", "--quiet", "LATCHKEY_QUIET", false, &S::quiet, "", "false", "no access log"},
    {"log_health_checks", "--log-health-checks", "LATCHKEY_LOG_HEALTH_CHECKS", false,
     &S::log_health_checks, "", "false",
     "also write `/healthz` and `/readyz` requests to the access log (a load balancer's probes "
     "would drown the rest)"},
    {"audit_log", "--audit-log", "LATCHKEY_AUDIT_LOG", false, &S::audit_log, "PATH|-", "off",
     "JSON lines of authentication events (login, consent, token issued/refused/revoked, "
     "including what a replayed code or reused refresh token revokes); never a secret, and a "
     "failed login names the user only when the username is one (`\"user\":\"unknown\"` "
     "otherwise: what was typed may be a password); created mode 0600; `-` for stdout"},
    {"log_format", "--log-format", "LATCHKEY_LOG_FORMAT", false, &S::log_format, "text|json",
     "`text`",
     "format of the access log and the server's messages: `text` (a time, a level and the "
     "message; access lines as `method=… path=… status=… bytes=… us=… addr=… request_id=…`) or "
     "`json` (one object per line: `ts`, `level`, `msg`, and for requests `method`, `path`, "
     "`status`, `duration_ms`, `client`, `request_id`, `bytes`). Never a query string, header "
     "or body. See \"Logs\" in [operations.md](operations.md)",
     0, 0, check_log_format},
    {"log_file", "--log-file", "LATCHKEY_LOG_FILE", false, &S::log_file, "PATH|-", "stdout",
     "file for the access log and the server's messages, created mode 0600 and appended to; "
     "`-` for stdout. SIGUSR1 reopens it and the `--audit-log` file at their paths (logrotate's "
     "`postrotate`). The `listening on` lines stay on stdout"},
    {"trusted_proxies", "--trusted-proxy", "LATCHKEY_TRUSTED_PROXIES", false, &S::trusted_proxies,
     "CIDR", "none",
     "a reverse proxy in front of the server, as an address or CIDR block (`10.0.0.0/8`, "
     "`::1`); repeatable. Only for requests from these peers is the client address taken from "
     "`Forwarded: for=` (RFC 7239) or else `X-Forwarded-For`, read from the right: the first "
     "entry that is not itself a trusted proxy is the client; an entry that is no address "
     "(`unknown`, garbage) counts the request against the proxy. From any other peer both "
     "headers are ignored. The login throttle, the client-secret throttle and the audit log "
     "(logins, consents, token requests and revocations) use that address",
     0, 0, check_cidr},
    {"audience_aliases", "--audience-alias", "LATCHKEY_AUDIENCE_ALIASES", false,
     &S::audience_aliases, "URL", "none",
     "a further `aud` the JWT bearer grant accepts besides the issuer, as an `http://` or "
     "`https://` URL, with or without one trailing slash (e.g. `https://login.salesforce.com` "
     "for tools that hard-code Salesforce's login host); repeatable. Client assertions "
     "(`private_key_jwt`) and SAML audiences are not affected",
     0, 0, check_http_url},
    {"refresh_reuse_grace", "--refresh-reuse-grace", "LATCHKEY_REFRESH_REUSE_GRACE", false,
     &S::refresh_reuse_grace, "SECONDS", "0",
     "for apps whose refresh policy rotates: how long after its first use a refresh token may be "
     "used again, for a client that retries a refresh whose response it lost; each retry gets a "
     "new pair and the earlier pairs stay valid. After the window a reuse revokes the family "
     "(RFC 9700 §4.14.2). 0 = no retry (docs/behaviour.md §5.4)",
     0, 300},
    {"tls_listen", "--tls-listen", "LATCHKEY_TLS_LISTEN", false, &S::tls_listen, "HOST:PORT", "off",
     "address of the TLS listener (RFC 8705 mutual TLS); needs `--tls-cert` and `--tls-key`", 0, 0,
     check_listen},
    {"tls_cert", "--tls-cert", "LATCHKEY_TLS_CERT", false, &S::tls_cert, "PEM", "—",
     "the TLS listener's certificate chain"},
    {"tls_key", "--tls-key", "LATCHKEY_TLS_KEY", false, &S::tls_key, "PEM", "—",
     "the TLS listener's private key"},
    {"tls_client_ca", "--tls-client-ca", "LATCHKEY_TLS_CLIENT_CA", false, &S::tls_client_ca, "PEM",
     "—", "CAs for client certificates (`tls_client_auth`, named in the certificate request)"},
    {"tls_issuer", "--tls-issuer", "LATCHKEY_TLS_ISSUER", false, &S::tls_issuer, "URL",
     "`https://HOST:PORT` of `--tls-listen`; the `--issuer` host if HOST is `0.0.0.0` or `::`",
     "public `https://` base URL of the TLS listener, advertised in `mtls_endpoint_aliases`", 0, 0,
     check_https_url},
    {"metrics_listen", "--metrics-listen", "LATCHKEY_METRICS_LISTEN", false, &S::metrics_listen,
     "HOST:PORT", "off",
     "address of a second, plain-HTTP listener serving only `GET /metrics` (Prometheus), "
     "`/healthz` and `/readyz`, for the operator's scraper; bind it to loopback or an internal "
     "interface. The public listener never serves `/metrics` (404): request counts, failed "
     "logins and latencies are not for anyone who can reach the server. Without this option "
     "`/metrics` is served nowhere",
     0, 0, check_listen},
    {"admin_listen", "--admin-listen", "LATCHKEY_ADMIN_LISTEN", false, &S::admin_listen,
     "HOST:PORT", "off",
     "address of a third, plain-HTTP listener serving the admin API under `/admin/v1/` "
     "([admin-api.md](admin-api.md)) and the admin console under `/admin/console/` "
     "([admin-console.md](admin-console.md)), authenticated with admin tokens (`latchkey "
     "admin-token create`); bind it to loopback or a private network, or put a TLS proxy in "
     "front. Without this option neither is served anywhere",
     0, 0, check_listen},
    {"purge_interval_s", "--purge-interval-s", "LATCHKEY_PURGE_INTERVAL_S", false,
     &S::purge_interval_s, "S", "60",
     "seconds between passes of the background purge of expired rows (see "
     "[operations.md](operations.md)); 0 = never",
     0, 86'400},
    {"drain_delay_ms", "--drain-delay-ms", "LATCHKEY_DRAIN_DELAY_MS", false, &S::drain_delay_ms,
     "MS", "0",
     "on SIGTERM or SIGINT, how long the listeners go on accepting while `/readyz` answers 503 "
     "`draining`, so a load balancer stops sending new requests first; behind one, set it "
     "above the health check's interval times its failure threshold (e.g. 5000). See "
     "[operations.md](operations.md), \"Draining\"",
     0, 600'000},
    {"drain_timeout_ms", "--drain-timeout-ms", "LATCHKEY_DRAIN_TIMEOUT_MS", false,
     &S::drain_timeout_ms, "MS", "10000",
     "once the listeners are closed, how long requests in flight have to finish before their "
     "connections are cut and the process exits",
     0, 600'000},
};

template <class T>
constexpr bool is_member_of(const Setting::Field& f) {
  return std::holds_alternative<T ServeConfig::*>(f);
}

std::string kind_name(const Setting& s) {
  if (is_member_of<int64_t>(s.field)) return "an integer";
  if (is_member_of<bool>(s.field)) return "true or false";
  if (is_member_of<std::vector<std::string>>(s.field)) return "an array of strings";
  return "a string";
}

oauth::Error problem(std::string_view where, std::string_view message) {
  return oauth::Error::invalid_request(std::string(where) + " " + std::string(message));
}

Status set_integer(ServeConfig& c, const Setting& s, int64_t v, std::string_view where) {
  if (v < s.min || v > s.max) {
    return problem(where, "must be between " + std::to_string(s.min) + " and " +
                              std::to_string(s.max) + ", got " + std::to_string(v));
  }
  c.*std::get<int64_t ServeConfig::*>(s.field) = v;
  return Ok{};
}

Status set_text(ServeConfig& c, const Setting& s, std::string_view v, std::string_view where) {
  if (s.check) {
    if (auto why = s.check(v); !why.empty()) return problem(where, why);
  }
  c.*std::get<std::string ServeConfig::*>(s.field) = std::string(v);
  return Ok{};
}

Status set_list(ServeConfig& c, const Setting& s, const std::vector<std::string>& items,
                std::string_view where) {
  for (const auto& item : items) {
    if (s.check) {
      if (auto why = s.check(item); !why.empty()) return problem(where, why);
    }
  }
  c.*std::get<std::vector<std::string> ServeConfig::*>(s.field) = items;
  return Ok{};
}

std::string position(const std::string& path, const toml::source_region& where) {
  return path + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) +
         ":";
}

// One value of the file; `where` is "PATH:LINE:COLUMN: key".
Status apply_node(ServeConfig& c, const Setting& s, const toml::node& node, const std::string& path,
                  const std::string& where) {
  auto wrong = [&] { return problem(where, "must be " + kind_name(s)); };
  if (is_member_of<int64_t>(s.field)) {
    auto v = node.value_exact<int64_t>();
    return v ? set_integer(c, s, *v, where) : Status(wrong());
  }
  if (is_member_of<bool>(s.field)) {
    auto v = node.value_exact<bool>();
    if (!v) return wrong();
    c.*std::get<bool ServeConfig::*>(s.field) = *v;
    return Ok{};
  }
  if (is_member_of<std::string>(s.field)) {
    auto v = node.value_exact<std::string>();
    return v ? set_text(c, s, *v, where) : Status(wrong());
  }
  const toml::array* array = node.as_array();
  if (!array) return wrong();
  std::vector<std::string> items;
  for (const toml::node& item : *array) {
    auto v = item.value_exact<std::string>();
    const std::string item_where = position(path, item.source()) + " " + std::string(s.key);
    if (!v) return problem(item_where, "must be " + kind_name(s));
    if (s.check) {
      if (auto why = s.check(*v); !why.empty()) return problem(item_where, why);
    }
    items.push_back(*v);
  }
  c.*std::get<std::vector<std::string> ServeConfig::*>(s.field) = std::move(items);
  return Ok{};
}

bool parse_bool(std::string_view v, bool& out) {
  if (v == "true" || v == "1") {
    out = true;
    return true;
  }
  if (v == "false" || v == "0") {
    out = false;
    return true;
  }
  return false;
}

// Markdown table cells may not hold a bare '|'.
std::string cell(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '|') out += "\\";
    out += ch;
  }
  return out;
}

}  // namespace

std::span<const Setting> settings() { return kSettings; }

const Setting* find_by_key(std::string_view key) {
  for (const Setting& s : kSettings) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

std::string settings_markdown() {
  std::string out =
      "| flag | environment | file key | type | meaning | default |\n"
      "|---|---|---|---|---|---|\n";
  for (const Setting& s : kSettings) {
    std::string type;
    if (is_member_of<int64_t>(s.field)) {
      type.append("integer ")
          .append(std::to_string(s.min))
          .append("–")
          .append(std::to_string(s.max));
    } else {
      type = is_member_of<bool>(s.field)                       ? "boolean"
             : is_member_of<std::vector<std::string>>(s.field) ? "array of strings"
                                                               : "string";
    }
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "`" + std::string(…).
    std::string flag;
    flag.append("`").append(s.flag);
    if (!s.value_name.empty()) flag.append(" ").append(s.value_name);
    flag.append("`");
    if (s.global) flag.append(" (before the command)");
    out.append("| ").append(cell(flag)).append(" | `").append(s.env).append("` | `");
    out.append(s.key).append("` | ").append(type).append(" | ").append(cell(s.help));
    out.append(" | ").append(cell(s.default_text)).append(" |\n");
  }
  return out;
}

Status apply_file(ServeConfig& config, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return oauth::Error::invalid_request(path + ": cannot read the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return oauth::Error::invalid_request(path + ": cannot read the configuration file");
  return apply_toml(config, text.str(), path);
}

Status apply_toml(ServeConfig& config, std::string_view text, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return oauth::Error::invalid_request(position(path, e.source()) + " " +
                                         std::string(e.description()));
  }
  // Checked in the file's order, so the first problem reported is the first in the file.
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [key, node] : table) entries.emplace_back(&key, &node);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  for (const auto& [key, node] : entries) {
    const std::string where = position(path, key->source()) + " " + std::string(key->str());
    const Setting* s = find_by_key(key->str());
    if (!s) return problem(where, "is not a setting of latchkey serve (docs/configuration.md)");
    if (auto r = apply_node(config, *s, *node, path, where); !r) return r;
  }
  return Ok{};
}

Status apply_env(ServeConfig& config, const GetEnv& getenv, bool globals_only) {
  for (const Setting& s : kSettings) {
    if (globals_only && !s.global) continue;
    auto value = getenv(s.env);
    if (!value || value->empty()) continue;
    std::vector<std::string> values;
    if (is_member_of<std::vector<std::string>>(s.field)) {
      std::string_view rest = *value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) values.emplace_back(item);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else {
      values.push_back(*value);
    }
    if (auto r = apply_values(config, s, values, s.env); !r) return r;
  }
  return Ok{};
}

Status apply_values(ServeConfig& config, const Setting& s, const std::vector<std::string>& values,
                    std::string_view source) {
  if (is_member_of<std::vector<std::string>>(s.field)) return set_list(config, s, values, source);
  if (values.empty()) return Ok{};
  const std::string& v = values.back();
  if (is_member_of<std::string>(s.field)) return set_text(config, s, v, source);
  if (is_member_of<bool>(s.field)) {
    bool b = false;
    if (!parse_bool(v, b)) return problem(source, "must be true or false, got " + quoted(v));
    config.*std::get<bool ServeConfig::*>(s.field) = b;
    return Ok{};
  }
  int64_t n = 0;
  const auto res = std::from_chars(v.data(), v.data() + v.size(), n);
  if (res.ec != std::errc{} || res.ptr != v.data() + v.size()) {
    return problem(source, "must be an integer, got " + quoted(v));
  }
  return set_integer(config, s, n, source);
}

Status validate(const ServeConfig& c) {
  if (c.listen.empty()) {
    return oauth::Error::invalid_request(
        "--listen is required (or LATCHKEY_LISTEN, or listen in the configuration file)");
  }
  if (!c.tls_listen.empty() && (c.tls_cert.empty() || c.tls_key.empty())) {
    return oauth::Error::invalid_request("--tls-listen needs --tls-cert and --tls-key");
  }
  if (c.tls_listen.empty() && !(c.tls_cert.empty() && c.tls_key.empty() &&
                                c.tls_client_ca.empty() && c.tls_issuer.empty())) {
    return oauth::Error::invalid_request(
        "--tls-cert, --tls-key, --tls-client-ca and --tls-issuer need --tls-listen");
  }
  return Ok{};
}

bool split_listen(std::string_view listen, std::string& host, unsigned short& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  host = std::string(listen.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const auto p = listen.substr(colon + 1);
  unsigned v = 0;
  const auto res = std::from_chars(p.data(), p.data() + p.size(), v);
  if (res.ec != std::errc{} || res.ptr != p.data() + p.size() || v > 65535) return false;
  port = static_cast<unsigned short>(v);
  return true;
}

}  // namespace latchkey::config
