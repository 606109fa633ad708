// latchkey's command line (docs/behaviour.md §3). The only code that reads argv and the
// environment. Admin commands print one JSON object on stdout; errors go to stderr with exit status
// 1 (bad input) or 2 (usage).
#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "app/admin.h"
#include "app/admin_tokens.h"
#include "app/key_encryption.h"
#include "cli/admin_client.h"
#include "cli/backup.h"
#include "cli/export_import.h"
#include "cli/migrate.h"
#include "cli/serve.h"
#include "cli/serve_flags.h"
#include "config/example_config.h"
#include "config/serve_config.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "latchkey_version.h"
#include "store/open.h"

namespace {

using namespace latchkey;
using Kind = store::Preauthorization::Kind;

int print(const Result<boost::json::object>& r) {
  if (!r) {
    std::cerr << "latchkey: " << r.error().description() << "\n";
    return 1;
  }
  std::cout << boost::json::serialize(*r) << "\n";
  return 0;
}

// A configuration that cannot be served: exit status 2, as for the other usage errors.
int usage_error(const Status& status) {
  std::cerr << "latchkey: " << status.error().description() << "\n";
  return 2;
}

std::string read_password_line() {
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int run(int argc, char** argv) {
  // Every file latchkey creates is for its own user only (0600): the database holds password
  // hashes and token hashes, the audit log usernames and addresses, the KEK file the key to the
  // signing keys. SQLite creates the database and its -wal and -shm files with mode 0644 less
  // the umask and has no per-file setting, so the umask is the one place that covers them; it
  // is set before anything is opened. (The KEK file and the audit log ask for 0600 themselves.)
  ::umask(077);
  CLI::App cli{
      "latchkey: an OAuth 2.0 / OpenID Connect server for Salesforce-style connected apps"};
  cli.require_subcommand(1);
  // CMakeLists.txt's project version; the Debian package takes its version from this line.
  cli.set_version_flag("--version", std::string("latchkey ") + LATCHKEY_VERSION,
                       "print the version and exit");
  // Every setting of serve (config/serve_config.h) has its flag; --db and
  // --key-encryption-key-file, which every command reads, go before the command name.
  auto* serve_cmd = cli.add_subcommand("serve", "run the HTTP server");
  cli::ServeFlags serve_flags(cli, *serve_cmd);
  std::string config_file;
  serve_cmd
      ->add_option("--config", config_file,
                   "TOML file of settings (docs/configuration.md); the LATCHKEY_* "
                   "environment variables and the flags override it")
      ->type_name("PATH");

  auto* config_cmd = cli.add_subcommand("config", "the configuration file of serve");
  config_cmd->require_subcommand(1);
  auto* config_check = config_cmd->add_subcommand(
      "check", "validate a configuration file (with the environment) without starting");
  config_check->add_option("--config", config_file, "TOML file of settings")
      ->type_name("PATH")
      ->required();
  auto* config_docs = config_cmd->add_subcommand(
      "docs", "print the settings table of docs/configuration.md (Markdown)");
  auto* config_example = config_cmd->add_subcommand(
      "example",
      "print a configuration file naming every setting with its help and default (the "
      "package's /etc/latchkey/latchkey.toml)");

  auto* demo_cmd = cli.add_subcommand("demo", "register the demo user and app (used by make run)");
  std::string demo_listen = "127.0.0.1:8080", demo_issuer;
  demo_cmd->add_option("--listen", demo_listen, "HOST:PORT the server will listen on");
  demo_cmd->add_option("--issuer", demo_issuer, "public base URL");

  auto* user_cmd = cli.add_subcommand("user", "manage users");
  user_cmd->require_subcommand(1);
  app::NewUser nu;
  bool password_stdin = false;
  auto* user_create = user_cmd->add_subcommand("create", "create a user");
  user_create->add_option("--username", nu.username, "email-shaped username")->required();
  auto* pw = user_create->add_option("--password", nu.password, "password");
  auto* pws = user_create->add_flag("--password-stdin", password_stdin,
                                    "read the password from the first line of stdin");
  pw->excludes(pws);
  user_create->add_option("--email", nu.email, "email (default: the username)");
  user_create->add_option("--name", nu.name, "\"First Last\"");
  user_create->add_option("--profile", nu.profile, "profile name")->capture_default_str();
  user_create->add_option("--permission-set", nu.permission_sets, "permission set (repeatable)");
  auto* user_list = user_cmd->add_subcommand("list", "list users");
  std::string upd_username, upd_profile, upd_active;
  std::vector<std::string> upd_sets;
  bool upd_clear_sets = false;
  auto* user_update = user_cmd->add_subcommand("update",
                                               "change a user's profile, permission "
                                               "sets or activation");
  user_update->add_option("--username", upd_username)->required();
  user_update->add_option("--profile", upd_profile, "new profile");
  user_update->add_option("--permission-set", upd_sets, "permission set (repeatable; replaces)");
  user_update->add_flag("--clear-permission-sets", upd_clear_sets, "remove every permission set");
  user_update->add_option("--active", upd_active, "true|false")
      ->check(CLI::IsMember({"true", "false"}));

  auto* app_cmd = cli.add_subcommand("app", "manage connected apps");
  app_cmd->require_subcommand(1);
  app::NewApp na;
  std::string require_web = "true", require_refresh = "true";
  auto* app_create = app_cmd->add_subcommand("create", "register a connected app");
  app_create->add_option("--name", na.name, "app name")->required();
  app_create->add_option("--client-id", na.client_id,
                         "consumer key to register (e.g. PlatformCLI); generated when omitted");
  app_create->add_option("--callback", na.callbacks, "callback URL (repeatable)");
  app_create->add_option("--scopes", na.scopes, "space-separated scopes")->capture_default_str();
  app_create->add_option("--pkce", na.pkce, "required|optional")->capture_default_str();
  app_create->add_option("--require-secret-web-server", require_web, "true|false")
      ->check(CLI::IsMember({"true", "false"}));
  app_create->add_option("--require-secret-refresh", require_refresh, "true|false")
      ->check(CLI::IsMember({"true", "false"}));
  app_create->add_option("--permitted-users", na.permitted_users, "all|admin-approved");
  app_create->add_option("--cert", na.cert_path, "X.509 certificate (PEM) for JWT/SAML bearer");
  app_create->add_option("--client-credentials-user", na.client_credentials_user,
                         "run-as username for the client credentials flow");
  app_create->add_option("--refresh-policy", na.refresh_policy,
                         "until-revoked|immediately|expire-after:SECONDS|rotate");
  app_create->add_option("--access-token-ttl", na.access_token_ttl_s, "seconds")
      ->capture_default_str();
  app_create->add_flag("--allow-implicit", na.allow_implicit, "allow the user-agent flow");
  app_create->add_flag("--allow-password-flow", na.allow_password_flow,
                       "allow the username-password flow (grant_type=password)");
  app_create->add_option("--mtls-cert", na.mtls_cert_path, "self-signed client certificate (PEM)");
  app_create->add_option("--mtls-subject-dn", na.mtls_subject_dn,
                         "subject DN of a client certificate issued by --tls-client-ca "
                         "(RFC 4514, e.g. \"CN=client,O=Example\")");
  app_create->add_option("--token-format", na.token_format,
                         "opaque|jwt|jwt-sf (jwt: RFC 9068 typ at+jwt; jwt-sf: typ JWT)");
  app_create->add_option("--token-endpoint-auth-method", na.token_endpoint_auth_method,
                         "client_secret_basic|client_secret_post|private_key_jwt|"
                         "tls_client_auth|self_signed_tls_client_auth|none (RFC 7591; default "
                         "from --mtls-cert / --mtls-subject-dn, else client_secret_basic)");
  auto* app_list = app_cmd->add_subcommand("list", "list apps");
  std::string client_id, pre_profile, pre_permset;
  auto* app_show = app_cmd->add_subcommand("show", "show one app");
  app_show->add_option("--client-id", client_id)->required();
  auto* app_delete =
      app_cmd->add_subcommand("delete", "delete an app with its approvals; its tokens are revoked");
  app_delete->add_option("--client-id", client_id)->required();
  auto* app_rotate = app_cmd->add_subcommand("rotate-secret", "issue a new client secret");
  app_rotate->add_option("--client-id", client_id)->required();
  auto* app_pre =
      app_cmd->add_subcommand("preauthorize", "pre-authorize a profile or permission set");
  app_pre->add_option("--client-id", client_id)->required();
  auto* prof = app_pre->add_option("--profile", pre_profile, "profile name");
  auto* pset = app_pre->add_option("--permission-set", pre_permset, "permission set name");
  prof->excludes(pset);
  auto* app_unpre = app_cmd->add_subcommand("unpreauthorize", "remove a pre-authorization");
  app_unpre->add_option("--client-id", client_id)->required();
  auto* uprof = app_unpre->add_option("--profile", pre_profile, "profile name");
  auto* upset = app_unpre->add_option("--permission-set", pre_permset, "permission set name");
  uprof->excludes(upset);
  auto* app_approvals = app_cmd->add_subcommand("approvals", "list who may use an app");
  app_approvals->add_option("--client-id", client_id)->required();
  std::string approval_user;
  auto* app_revoke = app_cmd->add_subcommand("revoke-approval",
                                             "forget a user's approval and revoke their tokens");
  app_revoke->add_option("--client-id", client_id)->required();
  app_revoke->add_option("--username", approval_user)->required();

  auto* token_cmd = cli.add_subcommand("token", "manage tokens");
  token_cmd->require_subcommand(1);
  std::string revoke_user;
  auto* token_revoke = token_cmd->add_subcommand("revoke", "revoke every token of a user");
  token_revoke->add_option("--user", revoke_user, "username")->required();

  auto* keys_cmd = cli.add_subcommand("keys", "manage the signing keys");
  keys_cmd->require_subcommand(1);
  std::string rotate_alg = "RS256";
  auto* keys_rotate = keys_cmd->add_subcommand(
      "rotate", "make a new signing key; the old one stays published while its tokens live");
  keys_rotate->add_option("--alg", rotate_alg, "RS256|ES256")
      ->capture_default_str()
      ->check(CLI::IsMember({"RS256", "ES256"}));
  auto* keys_list = keys_cmd->add_subcommand("list", "list the signing keys");
  std::string new_kek_file;
  auto* keys_rewrap = keys_cmd->add_subcommand(
      "rewrap", "encrypt every signing key under a new key-encryption key (kids unchanged)");
  keys_rewrap
      ->add_option("--new-key-encryption-key-file", new_kek_file,
                   "file of the new key-encryption key (created when missing)")
      ->required();

  // The admin API's credentials (docs/admin-api.md "Tokens").
  auto* admin_token_cmd = cli.add_subcommand("admin-token", "manage the admin API's tokens");
  admin_token_cmd->require_subcommand(1);
  std::string admin_token_name;
  auto* admin_token_create = admin_token_cmd->add_subcommand(
      "create", "make an admin token (printed once; the database keeps its SHA-256)");
  admin_token_create->add_option("--name", admin_token_name, "the admin identity in the audit log")
      ->required();
  auto* admin_token_list = admin_token_cmd->add_subcommand("list", "list the admin tokens");
  auto* admin_token_revoke =
      admin_token_cmd->add_subcommand("revoke", "delete an admin token; it is refused at once");
  admin_token_revoke->add_option("--name", admin_token_name)->required();

  // The app, user, token and key commands against a running server's admin API.
  std::string server_url;
  cli.add_option("--server", server_url,
                 "run the app/user/token/keys command through the admin API at URL "
                 "(serve --admin-listen) with the token in LATCHKEY_ADMIN_TOKEN, not on --db")
      ->type_name("URL");

  std::string migrate_from, migrate_to;
  auto* migrate_cmd = cli.add_subcommand(
      "migrate",
      "copy every row of a database into a new, empty one and verify the copy (e.g. from "
      "sqlite:PATH to postgresql://...); stop every server on the source first");
  migrate_cmd->add_option("--from", migrate_from, "the database to copy (sqlite:PATH)")->required();
  migrate_cmd->add_option("--to", migrate_to, "the empty database to fill (postgresql://...)")
      ->required();

  // Backup and restore (docs/operations.md "Backup and restore"); each opens --db itself.
  std::string export_out, import_file, backup_path;
  auto* export_cmd = cli.add_subcommand(
      "export",
      "write the installation's configuration (orgs, users, apps, approvals, sealed signing "
      "keys; no tokens) as one JSON document");
  export_cmd->add_option("--out", export_out, "new file to write (mode 0600); default stdout")
      ->type_name("FILE");
  auto* import_cmd = cli.add_subcommand(
      "import", "restore a document of latchkey export into a new, empty database");
  import_cmd->add_option("file", import_file, "the document (- for stdin)")->required();
  auto* backup_cmd = cli.add_subcommand(
      "backup", "copy a SQLite database into a new file, safe while serve runs on it");
  backup_cmd->add_option("path", backup_path, "the new file")->required();

  CLI11_PARSE(cli, argc, argv);

  if (config_docs->parsed()) {
    std::cout << config::settings_markdown();
    return 0;
  }
  if (config_example->parsed()) {
    std::cout << config::example_toml();
    return 0;
  }
  // Defaults, then the file (serve and config check), the environment, the flags: later wins.
  config::ServeConfig settings;
  const bool whole = serve_cmd->parsed() || config_check->parsed();
  if (whole && !config_file.empty()) {
    if (auto r = config::apply_file(settings, config_file); !r) return usage_error(r);
  }
  const config::GetEnv getenv = [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  if (auto r = config::apply_env(settings, getenv, !whole); !r) return usage_error(r);
  if (auto r = serve_flags.apply(settings, !whole); !r) return usage_error(r);
  if (whole) {
    if (auto r = config::validate(settings); !r) return usage_error(r);
  }
  if (config_check->parsed()) {
    std::cout << config_file << ": valid; serve would listen on " << settings.listen
              << " with the database " << settings.db << "\n";
    return 0;
  }
  const std::string& db_url = settings.db;
  const std::string& kek_file = settings.key_encryption_key_file;

  if ((app_pre->parsed() || app_unpre->parsed()) && pre_profile.empty() && pre_permset.empty()) {
    std::cerr << "latchkey: app preauthorize/unpreauthorize needs --profile or --permission-set\n";
    return 2;
  }
  if (user_create->parsed() && !password_stdin && nu.password.empty()) {
    std::cerr << "latchkey: user create needs --password or --password-stdin\n";
    return 2;
  }

  // --server URL: the same commands as requests to the admin API (docs/admin-api.md, "The
  // command line against a server"); the database is not opened.
  if (!server_url.empty()) {
    const char* token = std::getenv("LATCHKEY_ADMIN_TOKEN");
    auto remote = cli::AdminClient::connect_to(server_url, token ? token : "");
    if (!remote) return usage_error(std::move(remote).error());
    cli::AdminClient& api = *remote;
    auto seg = [](std::string_view s) { return cli::AdminClient::segment(s); };
    auto strings = [](const std::vector<std::string>& v) {
      boost::json::array a;
      for (const auto& s : v) a.emplace_back(s);
      return a;
    };
    if (user_create->parsed()) {
      if (password_stdin) nu.password = read_password_line();
      return print(api.call("POST", "users",
                            boost::json::object{{"username", nu.username},
                                                {"password", nu.password},
                                                {"email", nu.email},
                                                {"name", nu.name},
                                                {"profile", nu.profile},
                                                {"permission_sets", strings(nu.permission_sets)}}));
    }
    if (user_list->parsed()) return print(api.all_pages("users", "users"));
    if (user_update->parsed()) {
      boost::json::object body;
      if (!upd_profile.empty()) body["profile"] = upd_profile;
      if (!upd_sets.empty() || upd_clear_sets) body["permission_sets"] = strings(upd_sets);
      if (!upd_active.empty()) body["active"] = upd_active == "true";
      return print(api.call("PATCH", "users/" + seg(upd_username), body));
    }
    if (app_create->parsed()) {
      if (!na.cert_path.empty() || !na.mtls_cert_path.empty()) {
        std::cerr << "latchkey: --cert and --mtls-cert name files, which --server cannot send; "
                     "register such an app with --db\n";
        return 2;
      }
      return print(api.call(
          "POST", "apps",
          boost::json::object{{"name", na.name},
                              {"client_id", na.client_id},
                              {"callbacks", strings(na.callbacks)},
                              {"scopes", na.scopes},
                              {"pkce", na.pkce},
                              {"require_secret_web_server", require_web == "true"},
                              {"require_secret_refresh", require_refresh == "true"},
                              {"permitted_users", na.permitted_users},
                              {"client_credentials_user", na.client_credentials_user},
                              {"refresh_policy", na.refresh_policy},
                              {"access_token_ttl", na.access_token_ttl_s},
                              {"allow_implicit", na.allow_implicit},
                              {"allow_password_flow", na.allow_password_flow},
                              {"token_format", na.token_format},
                              {"mtls_subject_dn", na.mtls_subject_dn},
                              {"token_endpoint_auth_method", na.token_endpoint_auth_method}}));
    }
    if (app_list->parsed()) return print(api.all_pages("apps", "apps"));
    if (app_show->parsed()) return print(api.call("GET", "apps/" + seg(client_id)));
    if (app_delete->parsed()) return print(api.call("DELETE", "apps/" + seg(client_id)));
    if (app_rotate->parsed()) return print(api.call("POST", "apps/" + seg(client_id) + "/secret"));
    if (app_pre->parsed()) {
      const bool profile = !pre_profile.empty();
      return print(api.call("POST", "apps/" + seg(client_id) + "/preauthorizations",
                            boost::json::object{{"kind", profile ? "profile" : "permission_set"},
                                                {"name", profile ? pre_profile : pre_permset}}));
    }
    if (app_unpre->parsed()) {
      const bool profile = !pre_profile.empty();
      return print(api.call("DELETE", "apps/" + seg(client_id) + "/preauthorizations/" +
                                          (profile ? "profile/" + seg(pre_profile)
                                                   : "permission_set/" + seg(pre_permset))));
    }
    if (app_approvals->parsed()) {
      return print(api.all_pages("apps/" + seg(client_id) + "/approvals", "approved_by"));
    }
    if (app_revoke->parsed()) {
      return print(
          api.call("DELETE", "apps/" + seg(client_id) + "/approvals/" + seg(approval_user)));
    }
    if (token_revoke->parsed()) {
      return print(api.call("DELETE", "users/" + seg(revoke_user) + "/tokens"));
    }
    if (keys_rotate->parsed()) {
      return print(api.call("POST", "keys/rotate", boost::json::object{{"alg", rotate_alg}}));
    }
    if (keys_list->parsed()) return print(api.all_pages("keys", "keys"));
    std::cerr << "latchkey: only the app, user, token and keys list/rotate commands run with "
                 "--server\n";
    return 2;
  }

  try {
    // Open their own databases (migrate its two; --db plays no part there).
    if (migrate_cmd->parsed()) {
      return cli::migrate(migrate_from, migrate_to, kek_file, std::cout, std::cerr);
    }
    if (export_cmd->parsed()) {
      return cli::export_installation(db_url, export_out, std::cout, std::cerr);
    }
    if (import_cmd->parsed()) {
      return cli::import_installation(db_url, import_file, kek_file, std::cout, std::cerr);
    }
    if (backup_cmd->parsed()) {
      return cli::backup_database(db_url, backup_path, std::cout, std::cerr);
    }
    auto db = store::open_database(db_url);
    crypto::OsRandom random;
    SystemClock clock;
    auto kek_path = app::kek_file_for(db_url, kek_file);
    if (!kek_path) {
      std::cerr << "latchkey: " << kek_path.error().description() << "\n";
      return 2;
    }
    app::KekSource kek(*kek_path, random);
    app::Admin admin(*db, random, clock, kek);

    if (serve_cmd->parsed()) return cli::serve(*db, settings, kek);
    if (demo_cmd->parsed()) {
      std::string host;
      unsigned short port = 0;
      if (!config::split_listen(demo_listen, host, port)) {
        std::cerr << "latchkey: --listen must be HOST:PORT\n";
        return 2;
      }
      std::string issuer = demo_issuer.empty() ? "http://" + demo_listen : demo_issuer;
      auto out = admin.ensure_demo(issuer);
      if (const auto* error = out.if_contains("error")) {
        std::cerr << "latchkey: no demo app: " << error->as_string().c_str()
                  << "\n  (give --issuer https://… or listen on 127.0.0.1)\n";
      }
      std::cerr << "\n  latchkey demo\n  open      " << issuer << "/\n  username  "
                << out["username"].as_string().c_str() << "\n  password  "
                << out["password"].as_string().c_str() << "\n\n";
      std::cout << boost::json::serialize(out) << "\n";
      return 0;
    }
    if (user_create->parsed()) {
      if (password_stdin) nu.password = read_password_line();
      return print(admin.create_user(nu));
    }
    if (user_list->parsed()) return print(admin.list_users());
    if (app_create->parsed()) {
      na.require_secret_web_server = require_web == "true";
      na.require_secret_refresh = require_refresh == "true";
      return print(admin.create_app(na));
    }
    if (app_list->parsed()) return print(admin.list_apps());
    if (app_show->parsed()) return print(admin.show_app(client_id));
    if (app_rotate->parsed()) return print(admin.rotate_secret(client_id));
    if (app_delete->parsed()) return print(admin.delete_app(client_id));
    if (app_pre->parsed()) {
      return print(pre_profile.empty()
                       ? admin.preauthorize(client_id, Kind::permission_set, pre_permset)
                       : admin.preauthorize(client_id, Kind::profile, pre_profile));
    }
    if (token_revoke->parsed()) return print(admin.revoke_user_tokens(revoke_user));
    if (user_update->parsed()) {
      std::optional<std::string> profile;
      if (!upd_profile.empty()) profile = upd_profile;
      std::optional<std::vector<std::string>> sets;
      if (!upd_sets.empty() || upd_clear_sets) sets = upd_sets;
      std::optional<bool> active;
      if (!upd_active.empty()) active = upd_active == "true";
      return print(admin.update_user(upd_username, profile, sets, active));
    }
    if (app_unpre->parsed()) {
      return print(pre_profile.empty()
                       ? admin.unpreauthorize(client_id, Kind::permission_set, pre_permset)
                       : admin.unpreauthorize(client_id, Kind::profile, pre_profile));
    }
    if (app_approvals->parsed()) return print(admin.approvals(client_id));
    if (keys_rotate->parsed()) return print(admin.rotate_key(rotate_alg));
    if (keys_list->parsed()) return print(admin.list_keys());
    if (keys_rewrap->parsed()) {
      app::KekSource new_kek(new_kek_file, random);
      return print(admin.rewrap_keys(new_kek));
    }
    if (app_revoke->parsed()) return print(admin.revoke_approval(client_id, approval_user));
    app::AdminTokens admin_tokens(*db, random, clock);
    if (admin_token_create->parsed()) return print(admin_tokens.create(admin_token_name));
    if (admin_token_list->parsed()) return print(admin_tokens.list());
    if (admin_token_revoke->parsed()) return print(admin_tokens.revoke(admin_token_name));
  } catch (const std::exception& e) {
    std::cerr << "latchkey: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // What escapes run() (CLI11 refusing an option table, memory running out while it is built)
  // ends the process with a message and status 1, not with std::terminate's abort.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "latchkey: " << e.what() << "\n";
    return 1;
  }
}
