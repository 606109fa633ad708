#include "http/wire.h"

#include <algorithm>

#include "core/ascii.h"

namespace latchkey::http {
namespace {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

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

std::optional<FramingProblem> framing_problem(const boost::beast::http::request_header<>& head) {
  namespace bhttp = boost::beast::http;
  const std::size_t hosts = head.count(bhttp::field::host);
  if (hosts > 1) return FramingProblem{400, "more than one Host header field"};
  if (hosts == 0 && head.version() >= 11) return FramingProblem{400, "missing Host header field"};

  const auto codings = head.equal_range(bhttp::field::transfer_encoding);
  if (codings.first == codings.second) return std::nullopt;
  if (head.version() < 11) {
    return FramingProblem{400, "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
  }
  if (head.count(bhttp::field::content_length) > 0) {
    return FramingProblem{400, "both Transfer-Encoding and Content-Length"};
  }
  std::size_t count = 0;
  std::size_t chunked = 0;
  bool last_chunked = false;
  for (auto it = codings.first; it != codings.second; ++it) {
    std::string_view list = it->value();
    for (;;) {
      const std::size_t comma = list.find(',');
      const std::string_view coding = trim_ows(list.substr(0, comma));
      if (!coding.empty()) {
        ++count;
        last_chunked = iequals(coding, "chunked");
        if (last_chunked) ++chunked;
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  if (!last_chunked) {
    return FramingProblem{400, "Transfer-Encoding must end in chunked"};
  }
  if (chunked > 1) return FramingProblem{400, "chunked applied more than once"};
  if (count > 1) return FramingProblem{501, "transfer coding not implemented"};
  return std::nullopt;
}

bool has_obs_fold(std::string_view head_piece, bool& after_newline) {
  for (std::size_t at = 0; at < head_piece.size();) {
    if (after_newline && (head_piece[at] == ' ' || head_piece[at] == '\t')) return true;
    const std::size_t newline = head_piece.find('\n', at);
    if (newline == std::string_view::npos) {
      after_newline = false;
      break;
    }
    after_newline = true;
    at = newline + 1;
  }
  return false;
}

void collapse_slashes(std::string& path) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '/' && kept > 0 && path[kept - 1] == '/') continue;
    path[kept++] = path[i];
  }
  path.resize(kept);
}

void fill_request(boost::beast::http::request<boost::beast::http::string_body>& message,
                  Request& out) {
  out.method.assign(message.method_string());
  for (char& c : out.method) c = ascii_upper(c);
  out.target.assign(message.target());
  const std::string_view target(out.target);
  const std::size_t question = target.find('?');
  out.path.assign(target.substr(0, question));
  collapse_slashes(out.path);
  out.query.assign(question == std::string_view::npos ? std::string_view()
                                                      : target.substr(question + 1));
  // Assigned over the previous request's strings, which keeps their memory: a connection's
  // requests carry much the same fields, so after the first one this allocates nothing.
  std::size_t n = 0;
  for (const auto& field : message) {
    if (n == out.headers.size()) out.headers.emplace_back();
    auto& [name, value] = out.headers[n++];
    name.assign(field.name_string());
    for (char& c : name) c = ascii_lower(c);
    value.assign(field.value());
  }
  out.headers.resize(n);
  out.body = std::move(message.body());
}

}  // namespace latchkey::http
