#include "http/wire.h"

#include <algorithm>

namespace latchkey::http {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool is_field_value(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void fill_request(boost::beast::http::request<boost::beast::http::string_body>& message,
                  Request& out) {
  out.method.assign(message.method_string());
  for (char& c : out.method) c = upper(c);
  out.target.assign(message.target());
  const std::string_view target(out.target);
  const std::size_t question = target.find('?');
  out.path.assign(target.substr(0, question));
  out.query.assign(question == std::string_view::npos ? std::string_view()
                                                      : target.substr(question + 1));
  // Assigned over the previous request's strings, which keeps their memory: a connection's
  // requests carry much the same fields, so after the first one this allocates nothing.
  std::size_t n = 0;
  for (const auto& field : message) {
    if (n == out.headers.size()) out.headers.emplace_back();
    auto& [name, value] = out.headers[n++];
    name.assign(field.name_string());
    for (char& c : name) c = lower(c);
    value.assign(field.value());
  }
  out.headers.resize(n);
  out.body = std::move(message.body());
}

}  // namespace latchkey::http
