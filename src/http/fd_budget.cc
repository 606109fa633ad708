#include "http/fd_budget.h"

#include <sys/resource.h>

#include <algorithm>

namespace latchkey::http {
namespace {

// Linux refuses an infinite RLIMIT_NOFILE; its default ceiling (fs.nr_open) is 2^20.
constexpr rlim_t kInfiniteStandIn = rlim_t{1} << 20;

}  // namespace

FdLimits raise_open_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return {};
  if (lim.rlim_cur != lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? kInfiniteStandIn : lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  auto value = [](rlim_t v) { return v == RLIM_INFINITY ? uint64_t{kInfiniteStandIn} : v; };
  return {value(lim.rlim_cur), value(lim.rlim_max)};
}

std::size_t fd_reserve(unsigned cores) { return 128 + 4 * std::size_t{std::max(cores, 1u)}; }

std::size_t connection_cap(std::size_t configured, uint64_t soft_limit, std::size_t reserve) {
  const uint64_t room = soft_limit > reserve ? soft_limit - reserve : soft_limit / 2;
  return static_cast<std::size_t>(std::max<uint64_t>(1, std::min<uint64_t>(configured, room)));
}

}  // namespace latchkey::http
