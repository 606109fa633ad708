// Pagination of the admin API's lists (docs/admin-api.md "Pagination"): `limit` items from
// after `cursor`, and a `next_cursor` for the page after, null on the last page. The list is
// read whole and sorted by each item's key (byte order), then sliced in memory: the lists an
// admin pages through (apps, users, keys, one app's approvals) are read whole by the stores
// anyway. A cursor is opaque to clients: base64url of the last key returned, so a page is
// where it was even when items were added or removed since. Pure; thread-safe.
#pragma once

#include <boost/json.hpp>
#include <string_view>

#include "core/result.h"

namespace latchkey::app {

inline constexpr int64_t kDefaultPageLimit = 100;
inline constexpr int64_t kMaxPageLimit = 1000;

struct PageRequest {
  int64_t limit = kDefaultPageLimit;
  std::string after;  // the key of the last item seen; empty: from the start
};

// `limit` (1 to kMaxPageLimit) and `cursor` of a request's query string; an error names a
// bad limit or a cursor this server did not make.
Result<PageRequest> page_request(std::string_view query);

// `whole[member]`, an array of objects each with a string member `key`, replaced by the page
// `request` asks for, and `next_cursor` added to `whole` (null when no item follows).
void paginate(boost::json::object& whole, std::string_view member, std::string_view key,
              const PageRequest& request);

}  // namespace latchkey::app
