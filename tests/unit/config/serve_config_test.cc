// The configuration of serve (docs/configuration.md): the file, then the environment, then the
// flags; a bad key or value is refused naming the key, the file and the line.
#include "config/serve_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "store/temp_dir.h"

namespace latchkey::config {
namespace {

GetEnv env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(const Status& s) { return s ? "" : s.error().description(); }

TEST(ServeConfig, FileSetsEveryKindOfSetting) {
  ServeConfig c;
  ASSERT_TRUE(apply_toml(c, R"(
db = "sqlite:/var/lib/latchkey/latchkey.db"
listen = "0.0.0.0:8080"
issuer = "https://login.example.com"
cache_ms = 250
quiet = true
trusted_proxies = ["10.0.0.0/8", "::1"]
drain_delay_ms = 5000
)",
                         "/etc/latchkey/latchkey.toml"));
  EXPECT_EQ(c.db, "sqlite:/var/lib/latchkey/latchkey.db");
  EXPECT_EQ(c.listen, "0.0.0.0:8080");
  EXPECT_EQ(c.issuer, "https://login.example.com");
  EXPECT_EQ(c.cache_ms, 250);
  EXPECT_TRUE(c.quiet);
  EXPECT_EQ(c.trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "::1"}));
  EXPECT_EQ(c.drain_delay_ms, 5000);
  EXPECT_EQ(c.drain_timeout_ms, 10'000);  // untouched: the default
  EXPECT_TRUE(validate(c));
}

TEST(ServeConfig, EnvironmentOverridesTheFileAndFlagsOverrideBoth) {
  ServeConfig c;
  ASSERT_TRUE(apply_toml(c, "listen = \"127.0.0.1:1\"\ncache_ms = 5\nworkers = 3\n", "f.toml"));
  ASSERT_TRUE(apply_env(c, env_of({{"LATCHKEY_CACHE_MS", "6"},
                                   {"LATCHKEY_LISTEN", "127.0.0.1:2"},
                                   {"LATCHKEY_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2"},
                                   {"LATCHKEY_QUIET", "1"}})));
  EXPECT_EQ(c.cache_ms, 6);
  EXPECT_EQ(c.workers, 3);
  EXPECT_TRUE(c.quiet);
  EXPECT_EQ(c.trusted_proxies, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  ASSERT_TRUE(apply_values(c, *find_by_key("listen"), {"127.0.0.1:3"}, "--listen"));
  ASSERT_TRUE(apply_values(c, *find_by_key("trusted_proxies"), {"192.0.2.1"}, "--trusted-proxy"));
  EXPECT_EQ(c.listen, "127.0.0.1:3");
  EXPECT_EQ(c.trusted_proxies, (std::vector<std::string>{"192.0.2.1"}));
  EXPECT_EQ(c.cache_ms, 6);
}

TEST(ServeConfig, EnvironmentOfOtherCommandsReadsOnlyTheGlobalSettings) {
  ServeConfig c;
  ASSERT_TRUE(
      apply_env(c, env_of({{"LATCHKEY_DB", "sqlite:x.db"}, {"LATCHKEY_LISTEN", "garbage"}}), true));
  EXPECT_EQ(c.db, "sqlite:x.db");
  EXPECT_EQ(c.listen, "");
}

TEST(ServeConfig, UnknownKeyNamesTheFileLineAndKey) {
  ServeConfig c;
  auto r = apply_toml(c, "listen = \"127.0.0.1:0\"\n\nlisten_port = 8080\n", "/etc/l.toml");
  EXPECT_EQ(error_of(r),
            "/etc/l.toml:3:1: listen_port is not a setting of latchkey serve "
            "(docs/configuration.md)");
}

TEST(ServeConfig, WrongTypeAndOutOfRangeNameTheLine) {
  ServeConfig c;
  EXPECT_EQ(error_of(apply_toml(c, "# comment\nworkers = \"four\"\n", "a.toml")),
            "a.toml:2:1: workers must be an integer");
  EXPECT_EQ(error_of(apply_toml(c, "cache_ms = 1\nmax_connections = 0\n", "a.toml")),
            "a.toml:2:1: max_connections must be between 1 and 1000000, got 0");
  EXPECT_EQ(error_of(apply_toml(c, "quiet = \"yes\"\n", "a.toml")),
            "a.toml:1:1: quiet must be true or false");
}

TEST(ServeConfig, ValueRefusedByItsCheckNamesTheLineOfTheItem) {
  ServeConfig c;
  EXPECT_EQ(error_of(apply_toml(c, "trusted_proxies = [\n  \"10.0.0.0/8\",\n  \"not-an-ip\",\n]\n",
                                "p.toml")),
            "p.toml:3:3: trusted_proxies must be an IP address or CIDR block, got 'not-an-ip'");
  EXPECT_EQ(error_of(apply_toml(c, "tls_issuer = \"http://x\"\n", "p.toml")),
            "p.toml:1:1: tls_issuer must be an https:// URL, got 'http://x'");
  EXPECT_EQ(error_of(apply_toml(c, "listen = \"8080\"\n", "p.toml")),
            "p.toml:1:1: listen must be HOST:PORT, got '8080'");
}

TEST(ServeConfig, SyntaxErrorNamesTheLine) {
  ServeConfig c;
  auto message = error_of(apply_toml(c, "listen = \"127.0.0.1:0\"\ncache_ms = \n", "s.toml"));
  EXPECT_EQ(message.rfind("s.toml:2:", 0), 0u) << message;
}

TEST(ServeConfig, EnvironmentAndFlagErrorsNameTheirSource) {
  ServeConfig c;
  EXPECT_EQ(error_of(apply_env(c, env_of({{"LATCHKEY_WORKERS", "many"}}))),
            "LATCHKEY_WORKERS must be an integer, got 'many'");
  EXPECT_EQ(error_of(apply_values(c, *find_by_key("max_connections_per_address"), {"0"},
                                  "--max-connections-per-address")),
            "--max-connections-per-address must be between 1 and 1000000, got 0");
  EXPECT_EQ(
      error_of(apply_values(c, *find_by_key("audience_aliases"), {"ftp://x"}, "--audience-alias")),
      "--audience-alias must be an http:// or https:// URL, got 'ftp://x'");
}

TEST(ServeConfig, FileOnDiskIsReadAndAMissingOneNamed) {
  store::test::TempDir dir;
  const std::string path = dir.file("latchkey.toml");
  std::ofstream(path) << "listen = \"127.0.0.1:0\"\nhandler_threads = 8\n";
  ServeConfig c;
  ASSERT_TRUE(apply_file(c, path));
  EXPECT_EQ(c.handler_threads, 8);
  EXPECT_EQ(error_of(apply_file(c, dir.file("none.toml"))),
            dir.file("none.toml") + ": cannot read the configuration file");
}

TEST(ServeConfig, ValidateNeedsListenAndConsistentTls) {
  ServeConfig c;
  EXPECT_NE(error_of(validate(c)).find("--listen is required"), std::string::npos);
  c.listen = "127.0.0.1:0";
  EXPECT_TRUE(validate(c));
  c.tls_listen = "127.0.0.1:0";
  EXPECT_EQ(error_of(validate(c)), "--tls-listen needs --tls-cert and --tls-key");
  c.tls_listen.clear();
  c.tls_issuer = "https://x";
  EXPECT_EQ(error_of(validate(c)),
            "--tls-cert, --tls-key, --tls-client-ca and --tls-issuer need --tls-listen");
}

TEST(ServeConfig, EverySettingHasItsNamesAndARowInTheDocs) {
  const std::string table = settings_markdown();
  for (const Setting& s : settings()) {
    EXPECT_TRUE(s.flag.starts_with("--")) << s.key;
    EXPECT_TRUE(s.env.starts_with("LATCHKEY_")) << s.key;
    // Appended: GCC 12 warns falsely (-Wrestrict) on "`" + std::string(…).
    std::string flag_cell = "| `", key_cell = "`";
    flag_cell.append(s.flag);
    key_cell.append(s.key).append("`");
    EXPECT_NE(table.find(flag_cell), std::string::npos) << s.key;
    EXPECT_NE(table.find(key_cell), std::string::npos) << s.key;
  }
}

TEST(ServeConfig, SplitListen) {
  std::string host;
  unsigned short port = 0;
  ASSERT_TRUE(split_listen("[::1]:8443", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8443);
  EXPECT_FALSE(split_listen("127.0.0.1:70000", host, port));
  EXPECT_FALSE(split_listen(":80", host, port));
}

}  // namespace
}  // namespace latchkey::config
