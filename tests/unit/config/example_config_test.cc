// `latchkey config example` (README "Running in production"): the commented configuration file
// the Debian package installs as /etc/latchkey/latchkey.toml, generated from the settings table.
#include "config/example_config.h"

#include <gtest/gtest.h>

#include <sstream>
#include <type_traits>
#include <variant>

#include "config/serve_config.h"

namespace latchkey::config {
namespace {

bool is_packaged(std::string_view key) {
  for (const PackagedValue& p : packaged_values()) {
    if (p.key == key) return true;
  }
  return false;
}

// The lines of the example that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(prefix)) out.push_back(line);
  }
  return out;
}

TEST(ExampleConfig, IsAFileServeAcceptsAsItIsWithThePackagedDatabaseAndListener) {
  ServeConfig c;
  const auto status = apply_toml(c, example_toml(), "/etc/latchkey/latchkey.toml");
  ASSERT_TRUE(status) << status.error().description();
  const auto valid = validate(c);
  EXPECT_TRUE(valid) << valid.error().description();
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.db, "sqlite:/var/lib/latchkey/latchkey.db");
  // Everything else is left at its default: only the packaged values are set.
  const ServeConfig defaults;
  for (const Setting& s : settings()) {
    if (is_packaged(s.key)) continue;
    std::visit([&](auto member) { EXPECT_EQ(c.*member, defaults.*member) << s.key; }, s.field);
  }
}

TEST(ExampleConfig, NamesEverySettingOnceWithItsDefaultCommentedOut) {
  const std::string text = example_toml();
  const ServeConfig defaults;
  for (const Setting& s : settings()) {
    const std::string key(s.key);
    const auto about = lines_starting(text, "# " + key + " (");
    EXPECT_EQ(about.size(), 1u) << key << ": its help comment";
    if (is_packaged(s.key)) {
      EXPECT_EQ(lines_starting(text, key + " = ").size(), 1u) << key;
      continue;
    }
    const auto lines = lines_starting(text, "#" + key + " = ");
    ASSERT_EQ(lines.size(), 1u) << key << ": its commented-out line";
    EXPECT_TRUE(lines_starting(text, key + " = ").empty()) << key << " is set";
    // Uncommented, the line is TOML giving the default itself, or for a default that is no
    // value (off, derived) a placeholder of the value's form.
    const std::string line = lines[0].substr(1);
    std::visit(
        [&](auto member) {
          const auto& value = defaults.*member;
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            if (value < s.min || value > s.max) {
              EXPECT_EQ(line, key + " = " + std::string(s.value_name));
              return;
            }
          }
          if constexpr (std::is_same_v<T, std::string>) {
            if (value.empty()) {
              EXPECT_EQ(line, key + " = \"" + std::string(s.value_name) + "\"");
              return;
            }
          }
          ServeConfig uncommented;
          // Another value first, so that the line must set it.
          if constexpr (std::is_same_v<T, bool>) {
            uncommented.*member = !value;
          } else if constexpr (std::is_same_v<T, int64_t>) {
            uncommented.*member = value + 1;
          } else if constexpr (std::is_same_v<T, std::string>) {
            uncommented.*member = value + "x";
          } else {
            uncommented.*member = {"x"};
          }
          const auto status = apply_toml(uncommented, line, "uncommented.toml");
          ASSERT_TRUE(status) << line << ": " << status.error().description();
          EXPECT_EQ(uncommented.*member, value) << line;
        },
        s.field);
  }
}

TEST(ExampleConfig, HelpTextsReadAsPlainCommentsWithinOneHundredColumns) {
  const std::string text = example_toml();
  EXPECT_EQ(text.find("]("), std::string::npos) << "a Markdown link left as it is";
  // The db help names a URL with brackets that are no link; they stay.
  EXPECT_NE(text.find("`postgresql://user[:password]@host[:port]/dbname`"), std::string::npos);
  EXPECT_NE(text.find("(see \"Signing keys at rest\" in operations.md)"), std::string::npos);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    // Columns, not bytes: "–" in the integer ranges is three bytes of UTF-8.
    std::size_t columns = 0;
    for (const char ch : line) columns += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
    if (line.find(' ', 2) == std::string::npos) continue;  // one word longer than a line
    EXPECT_LE(columns, 100u) << line;
  }
}

}  // namespace
}  // namespace latchkey::config
