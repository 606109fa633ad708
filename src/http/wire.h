// The few rules where the HTTP layer touches the wire, shared by the session and the fuzz
// target so the fuzzer exercises the very code that serves requests.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace latchkey::http {

// RFC 9110 §5.1: a header name must be a token.
bool is_token(std::string_view s);
// A CR, LF or NUL in a value would let a handler's data split the response (RFC 9110 §5.5).
bool is_field_value(std::string_view s);

// Replaces every run of '/' in `path` by one ("//services//data" → "/services/data"). The
// Salesforce CLI joins a login URL that ends in '/' with a path that starts with one, and
// Salesforce serves such paths as if the slash were single (docs/behaviour.md §4).
void collapse_slashes(std::string& path);

// Fills `out` from a parsed Beast request: method upper-cased, target split into path and
// query at the first '?' (the path with repeated slashes collapsed, collapse_slashes; the
// target stays as received), header names lower-cased, body moved. Leaves remote_addr and the
// TLS fields as they are (the session sets them once per connection).
void fill_request(boost::beast::http::request<boost::beast::http::string_body>& message,
                  Request& out);

// Why a request whose head parsed cannot be served: the status to answer it with and what to
// tell the client. Every such request is answered and its connection closed, because the bytes
// after the head can no longer be framed (RFC 9112 §6.3, §9.6).
struct FramingProblem {
  unsigned status;
  std::string_view description;
};

// The request framing rules Beast's parser leaves to us, checked once the head is parsed and
// before any of the body is read:
//  - Host: more than one field, or none in HTTP/1.1 (RFC 9112 §3.2), is 400. HTTP/1.0 does
//    not require it.
//  - Transfer-Encoding (every field, combined as one list, RFC 9110 §5.3; codings compared
//    case-insensitively, empty list elements ignored, RFC 9110 §5.6.1):
//    - in an HTTP/1.0 request: 400, the framing is faulty (RFC 9112 §6.1);
//    - together with Content-Length: 400 (RFC 9112 §6.1 allows rejecting it; Beast would frame
//      the body by Content-Length when the coding is not chunked, a smuggling vector);
//    - final coding not chunked (gzip, identity, xchunked, "chunked, identity", or an empty
//      list): 400, the body length cannot be determined (RFC 9112 §6.3);
//    - chunked more than once: 400 (RFC 9112 §7: a sender must not apply it twice);
//    - any other coding before a final chunked ("gzip, chunked"): 501 Not Implemented, since
//      we decode no coding but chunked (RFC 9112 §6.1: "SHOULD respond with 501").
// nullopt: the request may be served.
std::optional<FramingProblem> framing_problem(const boost::beast::http::request_header<>& head);

// obs-fold (RFC 9112 §5.2): a header line that begins with SP or HTAB continues the field
// before it. Beast unfolds such lines; we refuse them (400), as the RFC lets a server do, since
// a proxy in front may read the fields differently. Fed the head in the pieces the parser
// consumes it in: `after_newline` carries the state from one piece to the next and starts
// false (the request line itself is Beast's to judge). True once a folded line is seen.
bool has_obs_fold(std::string_view head_piece, bool& after_newline);

}  // namespace latchkey::http
