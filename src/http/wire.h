// The few rules where the HTTP layer touches the wire, shared by the session and the fuzz
// target so the fuzzer exercises the very code that serves requests.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string_view>

#include "http/message.h"

namespace latchkey::http {

// RFC 9110 §5.1: a header name must be a token.
bool is_token(std::string_view s);
// A CR, LF or NUL in a value would let a handler's data split the response (RFC 9110 §5.5).
bool is_field_value(std::string_view s);

// Fills `out` from a parsed Beast request: method upper-cased, target split into path and
// query at the first '?', header names lower-cased, body moved. Leaves remote_addr and the
// TLS fields as they are (the session sets them once per connection).
void fill_request(boost::beast::http::request<boost::beast::http::string_body>& message,
                  Request& out);

}  // namespace latchkey::http
