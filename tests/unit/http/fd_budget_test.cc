#include "http/fd_budget.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace latchkey::http {
namespace {

TEST(FdBudget, ConfiguredCapStandsWhenTheLimitAllowsIt) {
  EXPECT_EQ(connection_cap(10'000, 1 << 20, fd_reserve(2)), 10'000u);
  EXPECT_EQ(connection_cap(4, 1024, fd_reserve(2)), 4u);
}

TEST(FdBudget, CapFitsUnderTheSoftLimitWithTheReserveToSpare) {
  // The usual soft limit: 10,000 connections would run accept() into EMFILE.
  const std::size_t reserve = fd_reserve(2);
  EXPECT_EQ(connection_cap(10'000, 1024, reserve), 1024 - reserve);
}

TEST(FdBudget, TinyLimitStillServesSomething) {
  EXPECT_EQ(connection_cap(10'000, 100, 200), 50u);
  EXPECT_EQ(connection_cap(10'000, 1, 200), 1u);
  EXPECT_EQ(connection_cap(10'000, 0, 200), 1u);
}

TEST(FdBudget, ReserveGrowsWithTheReaderPool) {
  EXPECT_GT(fd_reserve(64), fd_reserve(2));
  EXPECT_GE(fd_reserve(0), fd_reserve(1));
}

TEST(FdBudget, RaisesTheSoftLimitToTheHardLimit) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_NE(saved.rlim_max, RLIM_INFINITY);  // Linux refuses an infinite RLIMIT_NOFILE
  rlimit low = saved;
  low.rlim_cur = saved.rlim_max / 2;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  const FdLimits got = raise_open_file_limit();
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_EQ(now.rlim_cur, saved.rlim_max);
  EXPECT_EQ(got.soft, saved.rlim_max);
  EXPECT_EQ(got.hard, saved.rlim_max);
}

}  // namespace
}  // namespace latchkey::http
