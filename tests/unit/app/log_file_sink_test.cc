// Log files and logrotate (app/log_file_sink.h, docs/operations.md "Logs"): the file is made
// 0600, and after the file is renamed, reopen() makes the sink write to a new file at the path
// while the renamed one keeps every earlier line; lines written meanwhile are never lost or cut.
#include "app/log_file_sink.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/audit_log.h"
#include "core/clock.h"
#include "store/temp_dir.h"

namespace latchkey::app {
namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::shared_ptr<spdlog::logger> logger_on(const std::shared_ptr<LogFileSink>& sink) {
  auto log = std::make_shared<spdlog::logger>("test", sink);
  log->set_pattern("%v");
  return log;
}

TEST(LogFileSink, CreatesTheFileForItsOwnerOnlyWhateverTheUmask) {
  store::test::TempDir dir;
  const mode_t old = ::umask(0);
  auto sink = std::make_shared<LogFileSink>(dir.file("server.log"), "the log file");
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("server.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(LogFileSink, AppendsToAnExistingFile) {
  store::test::TempDir dir;
  { std::ofstream(dir.file("server.log")) << "earlier\n"; }
  auto log = logger_on(std::make_shared<LogFileSink>(dir.file("server.log"), "the log file"));
  log->info("later");
  EXPECT_EQ(lines_of(dir.file("server.log")), (std::vector<std::string>{"earlier", "later"}));
}

TEST(LogFileSink, ReopenAfterARenameWritesToANewFileAtThePath) {
  store::test::TempDir dir;
  const std::string path = dir.file("server.log");
  auto sink = std::make_shared<LogFileSink>(path, "the log file");
  auto log = logger_on(sink);
  log->info("one");
  ASSERT_EQ(std::rename(path.c_str(), dir.file("server.log.1").c_str()), 0);
  log->info("two");  // still the renamed file: nothing reopened it yet
  EXPECT_EQ(sink->reopen(), std::nullopt);
  log->info("three");
  EXPECT_EQ(lines_of(dir.file("server.log.1")), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(lines_of(path), (std::vector<std::string>{"three"}));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(LogFileSink, AFailedReopenKeepsWritingToTheOldFile) {
  store::test::TempDir dir;
  const std::string sub = dir.file("logs");
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  const std::string path = sub + "/server.log";
  auto sink = std::make_shared<LogFileSink>(path, "the log file");
  auto log = logger_on(sink);
  log->info("one");
  ASSERT_EQ(std::rename(path.c_str(), dir.file("moved.log").c_str()), 0);
  ASSERT_EQ(::rmdir(sub.c_str()), 0);  // the path can no longer be created
  const auto error = sink->reopen();
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find(path), std::string::npos) << *error;
  log->info("two");
  EXPECT_EQ(lines_of(dir.file("moved.log")), (std::vector<std::string>{"one", "two"}));
}

TEST(LogFileSink, LinesWrittenDuringRotationsAreNeitherLostNorCut) {
  store::test::TempDir dir;
  const std::string path = dir.file("server.log");
  auto sink = std::make_shared<LogFileSink>(path, "the log file");
  auto log = logger_on(sink);
  constexpr int kThreads = 4;
  constexpr int kLines = 3000;
  const std::string padding(200, 'p');  // long lines make a torn write likelier to show
  std::atomic<bool> writing{true};
  std::atomic<int> rotations{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kLines; ++i) {
        // Halfway, each writer waits for a few rotations, so that some happen between its
        // lines however the threads are scheduled (on a busy machine the writers could
        // otherwise finish before the rotator first runs).
        while (i == kLines / 2 && rotations.load() < 3) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        log->info("writer={} line={} {}", t, i, padding);
      }
    });
  }
  std::thread rotator([&] {
    while (writing.load()) {
      const std::string old = path + "." + std::to_string(rotations.load() + 1);
      if (std::rename(path.c_str(), old.c_str()) != 0) continue;
      if (const auto error = sink->reopen()) {
        ADD_FAILURE() << *error;
        rotations.store(1 << 20);  // lets the writers go on
        return;
      }
      ++rotations;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  for (auto& w : writers) w.join();
  writing.store(false);
  rotator.join();
  ASSERT_GT(rotations, 1);

  const std::regex line(R"(writer=(\d) line=(\d+) p{200})");
  std::map<int, std::vector<char>> seen;
  for (int t = 0; t < kThreads; ++t) seen[t].assign(kLines, 0);
  int files = 0;
  for (int r = 0; r <= rotations; ++r) {
    const std::string name = r == 0 ? path : path + "." + std::to_string(r);
    if (::access(name.c_str(), F_OK) != 0) continue;
    ++files;
    for (const auto& text : lines_of(name)) {
      std::smatch m;
      ASSERT_TRUE(std::regex_match(text, m, line))
          << "a cut or mixed line in " << name << ": " << text.substr(0, 80);
      auto& mark = seen[std::stoi(m[1])][static_cast<std::size_t>(std::stoi(m[2]))];
      ASSERT_EQ(mark, 0) << "written twice: " << text.substr(0, 30);
      mark = 1;
    }
  }
  EXPECT_GT(files, 1);
  for (const auto& [t, marks] : seen) {
    for (int i = 0; i < kLines; ++i) {
      ASSERT_EQ(marks[static_cast<std::size_t>(i)], 1) << "lost: writer " << t << " line " << i;
    }
  }
}

TEST(AuditLog, ReopensItsFileAndNamesTheRequestOfEachEvent) {
  store::test::TempDir dir;
  const std::string path = dir.file("audit.log");
  SystemClock clock;
  AuditLog audit(path, clock);
  audit.emit({EventType::login_failure, "client-1", "unknown", {}, "10.0.0.1", "req-1"});
  ASSERT_EQ(std::rename(path.c_str(), dir.file("audit.log.1").c_str()), 0);
  EXPECT_EQ(audit.reopen(), std::nullopt);
  audit.emit({EventType::token_issued, "client-1", "005x", "client_credentials", {}, {}});
  const auto before = lines_of(dir.file("audit.log.1"));
  const auto after = lines_of(path);
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(before[0].find(R"("event":"login_failure")"), std::string::npos) << before[0];
  EXPECT_NE(before[0].find(R"("request_id":"req-1")"), std::string::npos) << before[0];
  EXPECT_NE(after[0].find(R"("event":"token_issued")"), std::string::npos) << after[0];
  EXPECT_EQ(after[0].find("request_id"), std::string::npos) << "no request, no request_id";
}

}  // namespace
}  // namespace latchkey::app
