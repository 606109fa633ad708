// Raw bytes as they would arrive on a connection: Beast's request parser set up as
// http::detail::Session sets it up (header and body limits of http::ServerOptions, head measured
// the same way), the conversion to http::Request that Session::serve() does, and then the router
// and every endpoint through app::Application::handle on a seeded in-memory database. Several
// pipelined requests in one input are served in turn, as on a keep-alive connection.
//
// Invariants: the handler never throws (errors are values), answers with a final status, and
// emits only header fields the session can send as they are. Framing (RFC 9112 §6.1, §6.3,
// §3.2, §5.2): a request is answered only if an oracle reading the raw head on its own, line by
// line, agrees it is framed unambiguously (one Host, or none in HTTP/1.0; Transfer-Encoding
// only as a single "chunked" in HTTP/1.1 without Content-Length; no folded line); nothing after
// a refused head is ever parsed as a request, so the answers never outnumber the requests that
// were framed validly.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <string_view>

#include "app/application.h"
#include "fuzz_world.h"
#include "http/message.h"
#include "http/server.h"
#include "http/wire.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace latchkey;

constexpr int kMaxRequestsPerInput = 4;

app::Application& application() {
  static app::Application* a = [] {
    auto& w = fuzz::World::get();
    app::AppOptions o;
    o.issuer = fuzz::kIssuer;
    o.argon2_memory_kib = fuzz::kArgon2MemoryKib;
    o.argon2_iterations = fuzz::kArgon2Iterations;
    return new app::Application(w.db->stores(), w.random, w.clock, w.sealer, o);
  }();
  return *a;
}

// The session's own conversion (http/wire.h): Beast message -> transport-neutral request.
http::Request to_request(bhttp::request<bhttp::string_body>& message) {
  http::Request r;
  r.remote_addr = "127.0.0.1";
  http::fill_request(message, r);
  return r;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The oracle: judges a head the session served from its raw bytes alone, without Beast or
// http::framing_problem, so a request either of them frames wrongly is caught.
void check_served_head(std::string_view head, unsigned version) {
  int hosts = 0;
  int transfer_encodings = 0;
  int content_lengths = 0;
  std::string coding;
  bool first = true;
  while (!head.empty()) {
    const std::size_t newline = head.find('\n');
    const std::string_view line = head.substr(0, newline);
    head.remove_prefix(newline == std::string_view::npos ? head.size() : newline + 1);
    if (first) {
      first = false;
      continue;  // the request line
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      fuzz::fail("served a request with a folded header line");
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lowered(line.substr(0, colon));
    if (name == "host") ++hosts;
    if (name == "content-length") ++content_lengths;
    if (name == "transfer-encoding") {
      ++transfer_encodings;
      coding = lowered(trimmed(line.substr(colon + 1)));
    }
  }
  if (hosts > 1 || (hosts == 0 && version >= 11)) fuzz::fail("served a request without one Host");
  if (transfer_encodings == 0) return;
  if (version < 11) fuzz::fail("served an HTTP/1.0 request with Transfer-Encoding");
  if (content_lengths > 0) fuzz::fail("served a request with Transfer-Encoding and Content-Length");
  // Empty list elements aside, the only coding served is one chunked.
  std::string codings;
  for (char c : coding) {
    if (c != ' ' && c != '\t' && c != ',') codings += c;
  }
  if (transfer_encodings > 1 || codings != "chunked" ||
      coding.find("chunked") == std::string::npos) {
    fuzz::fail("served a request with a transfer coding other than a single chunked");
  }
}

void check(const http::Response& response) {
  // Session::serve() turns anything else into a 500 and logs a handler bug.
  if (response.status < 200 || response.status > 599) fuzz::fail("status outside 200..599");
  for (const auto& [name, value] : response.headers) {
    if (!http::is_token(name)) fuzz::fail("response header name is not a token");
    // A CR or LF here would be response splitting, had Session not dropped the field.
    if (!http::is_field_value(value)) fuzz::fail("response header value with CR, LF or NUL");
  }
  if (response.status == 302 && !response.header("Location")) fuzz::fail("302 without Location");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& world = fuzz::World::get();
  auto& app = application();
  // Time moves on between inputs so lockouts and expiries do not stay fixed for the whole run.
  world.clock.advance_s(60);

  const std::string input =
      world.expand(std::string_view(reinterpret_cast<const char*>(data), size));
  std::string_view rest(input);
  const http::ServerOptions limits;  // the limits `serve` runs with (docs/behaviour.md §6)

  for (int n = 0; n < kMaxRequestsPerInput && !rest.empty(); ++n) {
    // Session::wait_for_request() and Session::parse().
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(limits.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(limits.max_body_bytes);
    parser.eager(false);
    std::size_t head_bytes = 0;
    bool after_newline = false;
    const std::string_view head_start = rest;
    beast::error_code ec;
    while (!rest.empty() && !parser.is_done()) {
      const bool in_head = !parser.is_header_done();
      const std::size_t used = parser.put(asio::buffer(rest.data(), rest.size()), ec);
      // 400 and close: nothing after this is parsed.
      if (in_head && http::has_obs_fold(rest.substr(0, used), after_newline)) return 0;
      rest.remove_prefix(used);
      if (in_head) {
        head_bytes += used;
        const std::size_t pending = parser.is_header_done() ? 0 : rest.size();
        if (head_bytes + pending > limits.max_header_bytes) return 0;  // 431
        // 400 or 501 and close.
        if (parser.is_header_done() && http::framing_problem(parser.get())) return 0;
      }
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec) break;
      if (used == 0) break;
    }
    if (ec || !parser.is_done()) return 0;  // 4xx, or waiting for bytes that never come

    check_served_head(head_start.substr(0, head_bytes), parser.get().version());
    auto message = parser.release();
    const http::Request request = to_request(message);
    http::Response response;
    try {
      response = app.handle(request);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "handler threw for %s %s: %s\n", request.method.c_str(),
                   request.path.c_str(), e.what());
      fuzz::fail("exception escaped Application::handle");
    } catch (...) {
      fuzz::fail("unknown exception escaped Application::handle");
    }
    check(response);
    // For looking at what the seeds reach: FUZZ_VERBOSE=1 fuzz_http_parse corpus/fuzz_http_parse/*
    static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
    if (verbose) {
      std::fprintf(stderr, "%s %s -> %u %.160s\n", request.method.c_str(), request.path.c_str(),
                   response.status, response.body.c_str());
    }
    if (!message.keep_alive()) break;
  }
  return 0;
}
