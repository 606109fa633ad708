#include "cli/serve.h"

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "app/admin.h"
#include "app/admin_api.h"
#include "app/admin_console.h"
#include "app/admin_openapi.h"
#include "app/application.h"
#include "app/change_follower.h"
#include "app/log_file_sink.h"
#include "config/mtls_base_url.h"
#include "core/clock.h"
#include "core/paths.h"
#include "store/caching_database.h"
#include "store/purger.h"
#include "crypto/crypto.h"
#include "http/client_address.h"
#include "http/fd_budget.h"
#include "http/json_log_formatter.h"
#include "http/server.h"
#include "keys/key_ring.h"

namespace latchkey::cli {
namespace {

// One line on stderr when an existing file that holds secrets is open to group or others.
void warn_if_exposed(const std::string& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  std::cerr << "latchkey: warning: the " << what << " " << path << " is open to group or others "
            << "(mode " << mode << "); chmod 600 it\n";
}

// The server's log (docs/operations.md "Logs"): to stdout, or to the file of --log-file,
// which SIGUSR1 reopens; in the format of --log-format.
struct ServerLog {
  std::shared_ptr<app::LogFileSink> file;  // null: stdout
  std::shared_ptr<spdlog::logger> log;
  http::LogFormat format = http::LogFormat::text;
};

// Throws spdlog::spdlog_ex naming the file when it cannot be opened.
ServerLog open_server_log(const config::ServeConfig& o) {
  ServerLog out;
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (!o.log_file.empty() && o.log_file != "-") {
    out.file = std::make_shared<app::LogFileSink>(o.log_file, "the log file");
    sink = out.file;
  } else {
    sink = std::make_shared<spdlog::sinks::stdout_color_sink_mt>();
  }
  out.log = std::make_shared<spdlog::logger>("latchkey", std::move(sink));
  if (o.log_format == "json") {
    out.format = http::LogFormat::json;
    out.log->set_formatter(std::make_unique<http::JsonLogFormatter>());
  } else {
    out.log->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  }
  return out;
}

// The lines that say where the server listens (docs/behaviour.md §3: a line containing
// `listening on`) go to stdout whatever --log-file says, since that is where a supervisor or
// test harness waits for them; as a JSON object with --log-format json, so stdout stays one
// format.
void announce(http::LogFormat format, const std::string& line) {
  if (format == http::LogFormat::text) {
    std::printf("%s\n", line.c_str());
    return;
  }
  const spdlog::details::log_msg msg(spdlog::source_loc{}, "latchkey", spdlog::level::info, line);
  spdlog::memory_buf_t json;
  http::JsonLogFormatter().format(msg, json);
  std::fwrite(json.data(), 1, json.size(), stdout);
}

// The options of a listener beside the public one (`main`): metrics, admin. One I/O thread, a
// few connections, `handler_threads` threads for the requests that may wait, and the public
// listener's log and drain timeout. Signals are the public listener's: it stops first and this
// one after it, so that the metrics listener's /readyz answers 503 while the public one drains.
http::ServerOptions side_listener(const http::ServerOptions& main, const std::string& host,
                                  unsigned short port, unsigned handler_threads) {
  http::ServerOptions out;
  out.host = host;
  out.port = port;
  out.workers = 1;
  out.handler_threads = handler_threads;
  out.max_connections = 64;
  out.log = main.log;
  out.log_format = main.log_format;
  out.handle_signals = false;
  out.drain_timeout = main.drain_timeout;
  return out;
}

}  // namespace

int serve(store::Database& db, const config::ServeConfig& settings, app::KekSource& kek) {
  const config::ServeConfig& o = settings;  // short: read on most lines below
  std::string host;
  unsigned short port = 0;
  if (!config::split_listen(o.listen, host, port)) {
    std::cerr << "latchkey: --listen must be HOST:PORT, got '" << o.listen << "'\n";
    return 2;
  }
  // Checked by config::apply_*; parsed here into what the application uses.
  std::vector<http::Cidr> trusted_proxies;
  for (const auto& text : o.trusted_proxies) trusted_proxies.push_back(*http::Cidr::parse(text));
  std::optional<http::TlsOptions> tls;
  if (!o.tls_listen.empty()) {
    tls.emplace();
    if (!config::split_listen(o.tls_listen, tls->host, tls->port)) {
      std::cerr << "latchkey: --tls-listen must be HOST:PORT, got '" << o.tls_listen << "'\n";
      return 2;
    }
    tls->cert_file = o.tls_cert;
    tls->key_file = o.tls_key;
    tls->client_ca_file = o.tls_client_ca;
  }
  std::string metrics_host;
  unsigned short metrics_port = 0;
  if (!o.metrics_listen.empty() &&
      !config::split_listen(o.metrics_listen, metrics_host, metrics_port)) {
    std::cerr << "latchkey: --metrics-listen must be HOST:PORT, got '" << o.metrics_listen << "'\n";
    return 2;
  }
  std::string admin_host;
  unsigned short admin_port = 0;
  if (!o.admin_listen.empty() && !config::split_listen(o.admin_listen, admin_host, admin_port)) {
    std::cerr << "latchkey: --admin-listen must be HOST:PORT, got '" << o.admin_listen << "'\n";
    return 2;
  }
  crypto::OsRandom random;
  SystemClock clock;
  auto sealer = kek.sealer(&db);
  if (!sealer) {
    std::cerr << "latchkey: " << sealer.error().description() << "\n";
    return 1;
  }
  // Files made before the umask of main() (or copied in by hand) may still be open to others.
  if (o.db.starts_with("sqlite:") && o.db != "sqlite::memory:") {
    warn_if_exposed(o.db.substr(7), "database file");
  }
  if (!kek.path().empty()) warn_if_exposed(kek.path(), "key-encryption key file");
  if (!o.audit_log.empty() && o.audit_log != "-") warn_if_exposed(o.audit_log, "audit log");
  if (!o.log_file.empty() && o.log_file != "-") warn_if_exposed(o.log_file, "log file");

  ServerLog server_log;
  try {
    server_log = open_server_log(o);
  } catch (const std::exception& e) {
    std::cerr << "latchkey: " << e.what() << "\n";
    return 1;
  }
  const std::shared_ptr<spdlog::logger>& log = server_log.log;
  // A database from before the signing keys were sealed: seal them now (idempotent).
  if (int sealed = keys::KeyRing::seal_plaintext_keys(db, **sealer); sealed > 0) {
    log->info(
        "encrypted {} signing key(s) stored in plaintext under the key-encryption key {} "
        "({})",
        sealed, (*sealer)->id(), (*sealer)->source());
  }
  // Throws, naming the kid and the KEK file, when the keys do not open under this KEK: the
  // server does not start (main reports it) rather than make new keys or use plaintext ones.
  app::bootstrap(db, **sealer, random, clock);
  http::ServerOptions so;
  so.host = host;
  so.port = port;
  so.workers = static_cast<unsigned>(o.workers);
  so.handler_threads = static_cast<unsigned>(o.handler_threads);
  so.run_inline = &app::Application::never_waits_on_disk;
  so.tls = tls;
  if (!o.quiet) so.log = log;
  so.log_format = server_log.format;
  // Built once the issuer is known (after listen()); signals are acted on only once run() runs.
  std::unique_ptr<app::Application> application;
  // A load balancer probes every few seconds on every node: its lines would drown the rest.
  std::vector<std::string> unlogged;
  if (!o.log_health_checks) unlogged = {paths::kHealthz, paths::kReadyz};
  so.unlogged_paths = unlogged;
  // SIGTERM/SIGINT: /readyz fails at once on both listeners, the listeners close after the
  // delay, requests in flight get the timeout (docs/operations.md "Draining").
  so.on_drain = [&application] {
    if (application) application->start_draining();
  };
  so.drain_delay = std::chrono::milliseconds(o.drain_delay_ms);
  so.drain_timeout = std::chrono::milliseconds(o.drain_timeout_ms);
  // Connections must fit in the open-file limit, or accept() fails with EMFILE before the
  // cap's 503 is ever sent.
  const http::FdLimits fds = http::raise_open_file_limit();
  so.max_connections = http::connection_cap(static_cast<std::size_t>(o.max_connections), fds.soft,
                                            http::fd_reserve(std::thread::hardware_concurrency()));
  log->info("serving at most {} connections (--max-connections {}, open files limit {} of {})",
            so.max_connections, o.max_connections, fds.soft, fds.hard);
  // Of the cap as lowered, so the default stays a fraction of what is really served.
  so.max_connections_per_address = static_cast<std::size_t>(o.max_connections_per_address);
  log->info("at most {} connections per client address", http::per_address_cap(so));
  // SIGHUP: new signing keys after `latchkey keys rotate`, without a restart. Signals are
  // delivered only once run() runs, after `application` and the follower are built. Through
  // the follower, so that its next check does not load the same keys a second time.
  app::ChangeFollower* keys_follower = nullptr;
  so.on_hangup = [&keys_follower, &log] {
    if (keys_follower == nullptr) return;
    auto reloaded = keys_follower->reload_keys();
    if (reloaded) {
      log->info("signing keys reloaded: {}", *reloaded);
    } else {
      log->error("signing key reload failed, keeping the old keys: {}", reloaded.error().debug());
    }
  };

  // SIGUSR1 (logrotate's postrotate): the log file and the audit log are opened again at their
  // paths; a line being written meanwhile goes whole to the old file or the new one
  // (app/log_file_sink.h). A file that cannot be reopened stays in use, and says so.
  so.on_reopen_logs = [&application, &server_log, &log] {
    std::vector<std::string> failed;
    if (server_log.file) {
      if (auto error = server_log.file->reopen()) failed.push_back(*error);
    }
    if (application) {
      if (auto error = application->reopen_audit_log()) failed.push_back(*error);
    }
    for (const auto& error : failed) log->error("{}; writing to the old file still", error);
    if (failed.empty()) log->info("log files reopened");
  };

  // The issuer is known only once the port is bound (port 0 picks one), so the application
  // is built after listen(); the handler forwards to it.
  so.on_response = [&](const http::Request& r, unsigned status, std::chrono::microseconds us) {
    application->observe(r, status, us);
  };
  so.on_address_refused = [&](const std::string&) {
    application->connection_refused_per_address();
  };
  http::Server server(so, [&](const http::Request& r) { return application->handle(r); });
  // The metrics listener: a server of its own with one I/O thread and a few connections, for
  // the operator's scraper; its requests are not counted (the scrapes would drown the rest).
  std::optional<http::Server> metrics_server;
  if (!o.metrics_listen.empty()) {
    // Rendering the counters never blocks; a readiness probe may wait for a ping of the
    // database, on one of two threads of its own rather than the listener's one I/O thread.
    http::ServerOptions mo = side_listener(so, metrics_host, metrics_port, 2);
    mo.run_inline = &app::Application::metrics_never_wait;
    mo.unlogged_paths = unlogged;
    metrics_server.emplace(mo,
                           [&](const http::Request& r) { return application->handle_metrics(r); });
  }
  // The admin listener (docs/admin-api.md): plain HTTP with a few threads; every request reads
  // or writes the database, so none runs on its one I/O thread.
  std::unique_ptr<app::AdminApi> admin_api;
  std::unique_ptr<app::AdminConsole> admin_console;
  std::optional<http::Server> admin_server;
  if (!o.admin_listen.empty()) {
    http::ServerOptions ao = side_listener(so, admin_host, admin_port, 4);
    ao.run_inline = [](const http::Request&) { return false; };
    // The console's pages under /admin/console (docs/admin-console.md), the API under /admin/v1.
    admin_server.emplace(ao, [&](const http::Request& r) {
      return app::AdminConsole::owns(r.path) ? admin_console->handle(r) : admin_api->handle(r);
    });
  }
  unsigned short bound = 0;
  unsigned short metrics_bound = 0;
  unsigned short admin_bound = 0;
  try {
    bound = server.listen();
    if (metrics_server) metrics_bound = metrics_server->listen();
    if (admin_server) admin_bound = admin_server->listen();
  } catch (const std::exception& e) {
    // Bind failures say "cannot listen on ..."; TLS file problems name the file.
    std::cerr << "latchkey: " << e.what() << "\n";
    return 1;
  }
  auto url_host = [](const std::string& h) {
    return h.find(':') != std::string::npos ? "[" + h + "]" : h;
  };
  std::string issuer =
      o.issuer.empty() ? "http://" + url_host(host) + ":" + std::to_string(bound) : o.issuer;
  while (issuer.size() > 1 && issuer.back() == '/') issuer.pop_back();
  app::AppOptions ao;
  ao.issuer = issuer;
  if (tls) {
    ao.mtls_base_url = config::mtls_base_url(issuer, tls->host, server.tls_port(), o.tls_issuer);
  }
  ao.audit_log = o.audit_log;
  ao.trusted_proxies = std::move(trusted_proxies);
  ao.audience_aliases = o.audience_aliases;
  ao.refresh_reuse_grace_ms = o.refresh_reuse_grace * 1000;
  // The server reads apps, users and tokens through a short-lived cache; the CLI, which writes
  // from another process, does not (see caching_database.h for what that means for coherence).
  std::optional<store::CachingDatabase> cached;
  if (o.cache_ms > 0) cached.emplace(db, clock, o.cache_ms, 50'000, o.cache_max_ms);
  store::Stores served = cached ? cached->stores() : db.stores();
  application = std::make_unique<app::Application>(served, random, clock, **sealer, ao);
  // Other processes' changes: announcements on PostgreSQL, and the stored keys checked every
  // 10 s on any backend (app/change_follower.h).
  app::ChangeFollower::Options fo;
  fo.info = [&log](const std::string& m) { log->info("{}", m); };
  fo.warn = [&log](const std::string& m) { log->warn("{}", m); };
  app::ChangeFollower follower(db, cached ? &*cached : nullptr, *application, std::move(fo));
  keys_follower = &follower;
  if (admin_server) {
    app::AdminApiOptions aa;
    aa.audit_log = o.audit_log;
    aa.events = &application->events();
    aa.openapi = app::admin_openapi_document();
    // What the API changed is seen by this server's next request: the cache drops it, and a
    // new signing key is loaded at once.
    aa.on_change = [&](const store::Change& c) {
      if (c.kind == store::Change::Kind::keys) {
        if (auto r = follower.reload_keys(); !r) {
          log->error("signing key reload failed, keeping the old keys: {}", r.error().debug());
        }
      } else if (cached) {
        cached->apply(c);
      }
    };
    admin_api = std::make_unique<app::AdminApi>(db, random, clock, kek, std::move(aa));
    // Its cookies and forms are keyed from the KEK, so every node accepts the others'.
    admin_console = std::make_unique<app::AdminConsole>(*admin_api, db, random, clock,
                                                        (*sealer)->derive_key("admin console v1"));
  }

  std::thread stdin_watch;
  if (o.stop_on_stdin_eof) {
    stdin_watch = std::thread([&server] {
      char buf[256];
      while (std::fread(buf, 1, sizeof buf, stdin) > 0) {
      }
      server.stop();
    });
    stdin_watch.detach();  // blocked in read; the process exits after run() returns
  }
  // Expired codes, tokens and sessions go in the background, a short write at a time.
  std::optional<store::ExpiredRowPurger> purger;
  if (o.purge_interval_s > 0) {
    store::ExpiredRowPurger::Options po;
    po.interval_ms = o.purge_interval_s * 1000;
    purger.emplace(db, clock, po);
    purger->start([&log](const std::exception& e) {
      log->warn("purge of expired rows failed, retrying later: {}", e.what());
    });
  }

  announce(server_log.format, "latchkey listening on " + issuer);
  if (tls) announce(server_log.format, "latchkey tls listening on " + ao.mtls_base_url);
  std::thread metrics_thread;
  if (metrics_server) {
    announce(server_log.format, "latchkey metrics listening on http://" + url_host(metrics_host) +
                                    ":" + std::to_string(metrics_bound) + "/metrics");
    metrics_thread = std::thread([&metrics_server] { metrics_server->run(); });
  }
  std::thread admin_thread;
  if (admin_server) {
    announce(server_log.format, "latchkey admin listening on http://" + url_host(admin_host) + ":" +
                                    std::to_string(admin_bound) + "/admin/v1/");
    admin_thread = std::thread([&admin_server] { admin_server->run(); });
  }
  std::fflush(stdout);
  server.run();
  if (metrics_server) {
    metrics_server->stop();
    metrics_thread.join();
  }
  if (admin_server) {
    admin_server->stop();
    admin_thread.join();
  }
  if (purger) {
    purger->stop();
    log->info("purged {} expired rows", purger->purged());
  }
  log->info("stopped");
  log->flush();
  return 0;
}

}  // namespace latchkey::cli
