#include "app/admin_pages.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "crypto/crypto.h"
#include "http/params.h"

namespace latchkey::app {
namespace {

using oauth::Error;

// Cursors carry a version letter, so that their form may change without misreading old ones.
constexpr std::string_view kCursorPrefix = "k";

std::string_view key_of(const boost::json::value& item, std::string_view key) {
  const auto* o = item.if_object();
  const auto* v = o ? o->if_contains(key) : nullptr;
  const auto* s = v ? v->if_string() : nullptr;
  return s ? std::string_view(*s) : std::string_view();
}

}  // namespace

Result<PageRequest> page_request(std::string_view query) {
  auto form = http::parse_form(query);
  if (!form) return std::move(form).error();
  PageRequest out;
  if (std::string_view limit = form->value("limit"); !limit.empty()) {
    int64_t n = 0;
    auto r = std::from_chars(limit.data(), limit.data() + limit.size(), n);
    if (r.ec != std::errc{} || r.ptr != limit.data() + limit.size() || n < 1 || n > kMaxPageLimit) {
      return Error::invalid_request("limit must be an integer from 1 to " +
                                    std::to_string(kMaxPageLimit));
    }
    out.limit = n;
  }
  if (std::string_view cursor = form->value("cursor"); !cursor.empty()) {
    auto raw = crypto::base64url_decode(cursor);
    if (!raw || !raw->starts_with(kCursorPrefix) || raw->size() == kCursorPrefix.size()) {
      return Error::invalid_request("cursor is not one this server returned");
    }
    out.after = raw->substr(kCursorPrefix.size());
  }
  return out;
}

void paginate(boost::json::object& whole, std::string_view member, std::string_view key,
              const PageRequest& request) {
  boost::json::array& items = whole[member].as_array();
  std::vector<boost::json::value> sorted(items.begin(), items.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [key](const auto& a, const auto& b) { return key_of(a, key) < key_of(b, key); });
  boost::json::array page;
  std::string last;
  bool more = false;
  for (auto& item : sorted) {
    if (!request.after.empty() && key_of(item, key) <= request.after) continue;
    if (std::cmp_greater_equal(page.size(), request.limit)) {
      more = true;
      break;
    }
    last = std::string(key_of(item, key));
    page.push_back(std::move(item));
  }
  items = std::move(page);
  if (more) {
    whole["next_cursor"] = crypto::base64url_encode(std::string(kCursorPrefix) + last);
  } else {
    whole["next_cursor"] = nullptr;
  }
}

}  // namespace latchkey::app
