// The admin commands against a running server (`--server URL`, docs/admin-api.md "The command
// line against a server"): each command's request to the admin API, with the admin token of
// LATCHKEY_ADMIN_TOKEN, printing the object the API answers, which is the one the command
// prints against the database. Lists are fetched page by page and printed whole.
// One blocking HTTP/1.1 connection per request; plain http:// only (the admin listener's).
// Not thread-safe (one per command).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace latchkey::cli {

class AdminClient {
 public:
  // `url`: http://HOST:PORT of the admin listener (a trailing slash or /admin/v1/ is allowed).
  // An error names what is wrong with it.
  static Result<AdminClient> connect_to(std::string_view url, std::string token);

  // METHOD /admin/v1/PATH with `body` as JSON; the answer's object, or an error whose
  // description is the API's error_description (or why no answer came).
  Result<boost::json::object> call(std::string_view method, const std::string& path,
                                   const std::optional<boost::json::object>& body = std::nullopt);
  // Every page of the list at PATH: the first page's object with `member` holding the items
  // of all pages, and no next_cursor.
  Result<boost::json::object> all_pages(const std::string& path, std::string_view member);

  // One path segment, percent-encoded (RFC 3986 §3.3: unreserved characters as they are).
  static std::string segment(std::string_view text);

 private:
  AdminClient(std::string host, std::string port, std::string token)
      : host_(std::move(host)), port_(std::move(port)), token_(std::move(token)) {}
  std::string host_, port_, token_;
};

}  // namespace latchkey::cli
