// The lines of `serve --log-format json|text` (http/json_log_formatter.h, http/access_line.h),
// as a log collector reads them: one JSON object per line, every field where it is documented.
#include "http/json_log_formatter.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "http/access_line.h"

namespace latchkey::http {
namespace {

// A logger writing to memory in the given format, as serve sets it up.
struct MemoryLog {
  explicit MemoryLog(LogFormat format) {
    log = std::make_shared<spdlog::logger>("test",
                                           std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    if (format == LogFormat::json) {
      log->set_formatter(std::make_unique<JsonLogFormatter>());
    } else {
      log->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    }
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> log;
};

boost::json::object parse(const std::string& line) {
  boost::system::error_code ec;
  // Strict: invalid UTF-8 or a raw control character is an error.
  auto value = boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << ec.message() << ": " << line;
  EXPECT_TRUE(value.is_object()) << line;
  return value.is_object() ? value.as_object() : boost::json::object{};
}

const std::regex kRfc3339Ms(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

TEST(JsonLogFormatter, AServerMessageIsOneObjectWithTsLevelAndMsg) {
  MemoryLog m(LogFormat::json);
  m.log->warn("{}: answered {} ({})", "10.0.0.1", 400, "bad \"quote\"\nsecond line\tand\x01");
  const auto lines = m.lines();
  ASSERT_EQ(lines.size(), 1u) << m.out.str();
  const auto o = parse(lines[0]);
  ASSERT_EQ(o.size(), 3u) << lines[0];
  EXPECT_TRUE(std::regex_match(std::string(o.at("ts").as_string()), kRfc3339Ms)) << lines[0];
  EXPECT_EQ(o.at("level").as_string(), "warning");
  EXPECT_EQ(o.at("msg").as_string(),
            "10.0.0.1: answered 400 (bad \"quote\"\nsecond line\tand\x01)");
}

TEST(JsonLogFormatter, TsIsUtcWithMilliseconds) {
  using std::chrono::milliseconds;
  using std::chrono::system_clock;
  auto ts = [](std::int64_t ms) {
    spdlog::memory_buf_t out;
    append_rfc3339_ms(system_clock::time_point(milliseconds(ms)), out);
    return std::string(out.data(), out.size());
  };
  EXPECT_EQ(ts(1796336522206), "2026-12-03T22:22:02.206Z");
  EXPECT_EQ(ts(951782400005), "2000-02-29T00:00:00.005Z");
  EXPECT_EQ(ts(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(ts(-1), "1969-12-31T23:59:59.999Z");
}

TEST(JsonLogFormatter, BytesThatAreNotUtf8StillMakeValidJson) {
  MemoryLog m(LogFormat::json);
  // Valid UTF-8 (é, €, 😀) stays as it is; a lone continuation byte, a truncated sequence, an
  // overlong form and a surrogate are escaped byte by byte.
  m.log->info("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 | \x80 \xe2\x82 \xc0\xaf \xed\xa0\x80");
  const auto lines = m.lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto o = parse(lines[0]);
  EXPECT_EQ(
      o.at("msg").as_string(),
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 | \xc2\x80 \xc3\xa2\xc2\x82 \xc3\x80\xc2\xaf "
      "\xc3\xad\xc2\xa0\xc2\x80");
}

TEST(AccessLine, JsonCarriesEveryDocumentedFieldWithItsType) {
  MemoryLog m(LogFormat::json);
  log_access_line(*m.log, LogFormat::json,
                  {"POST", "/services/oauth2/token", 400, 75, 4899, "127.0.0.1", "hello-1"});
  const auto lines = m.lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto o = parse(lines[0]);
  EXPECT_TRUE(std::regex_match(std::string(o.at("ts").as_string()), kRfc3339Ms)) << lines[0];
  EXPECT_EQ(o.at("level").as_string(), "info");
  EXPECT_EQ(o.at("msg").as_string(), "POST /services/oauth2/token 400");
  EXPECT_EQ(o.at("method").as_string(), "POST");
  EXPECT_EQ(o.at("path").as_string(), "/services/oauth2/token");
  EXPECT_EQ(o.at("status").as_int64(), 400);
  EXPECT_DOUBLE_EQ(o.at("duration_ms").to_number<double>(), 4.899);
  EXPECT_EQ(o.at("client").as_string(), "127.0.0.1");
  EXPECT_EQ(o.at("request_id").as_string(), "hello-1");
  EXPECT_EQ(o.at("bytes").as_int64(), 75);
  EXPECT_EQ(o.size(), 10u) << lines[0];
}

TEST(AccessLine, JsonDurationKeepsItsLeadingZeros) {
  MemoryLog m(LogFormat::json);
  log_access_line(*m.log, LogFormat::json, {"GET", "/", 200, 0, 42, "::1", "x"});
  const auto o = parse(m.lines().at(0));
  EXPECT_DOUBLE_EQ(o.at("duration_ms").to_number<double>(), 0.042);
}

TEST(AccessLine, JsonEscapesWhatThePathCarries) {
  MemoryLog m(LogFormat::json);
  log_access_line(*m.log, LogFormat::json, {"GET", "/a\"b\\c\xff", 404, 0, 1, "::1", "x"});
  const auto o = parse(m.lines().at(0));
  EXPECT_EQ(o.at("path").as_string(), "/a\"b\\c\xc3\xbf");
}

TEST(AccessLine, TextIsTodaysLogfmtLineWithTheRequestId) {
  MemoryLog m(LogFormat::text);
  log_access_line(*m.log, LogFormat::text,
                  {"GET", "/services/oauth2/userinfo", 200, 12, 345, "127.0.0.1", "abc-1"});
  const auto lines = m.lines();
  ASSERT_EQ(lines.size(), 1u);
  const std::regex line(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3} info method=GET path=/services/oauth2/userinfo )"
      R"(status=200 bytes=12 us=345 addr=127\.0\.0\.1 request_id=abc-1)");
  EXPECT_TRUE(std::regex_match(lines[0], line)) << lines[0];
}

}  // namespace
}  // namespace latchkey::http
