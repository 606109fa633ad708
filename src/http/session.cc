#include "http/session.h"
#include "core/ascii.h"
#include "http/access_line.h"
#include "http/errors.h"
#include "http/wire.h"

#include <spdlog/logger.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <exception>
#include <limits>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <utility>

namespace latchkey::http::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// Bytes read per receive once the buffer is full; Beast's own read loop uses the same.
constexpr std::size_t kReadChunk = 64 * 1024;
// Initial buffer: most requests fit, so the first receive takes them whole.
constexpr std::size_t kInitialBuffer = 4 * 1024;
// Kept between requests; a connection that once sent a large body gives the rest back.
constexpr std::size_t kIdleBufferCap = 16 * 1024;
// After an error answer we read and discard what the client is still sending before closing,
// so the close does not turn into a reset that destroys the answer in flight (RFC 9112 §9.6).
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 1024 * 1024;
constexpr std::size_t kLingerChunk = 4 * 1024;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string remote_address(const Socket& socket) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  auto address = endpoint.address();
  // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; log and rate-limit them by
  // their IPv4 address.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// Constructs the stream in place (guaranteed copy elision), so neither stream type need be
// movable.
template <class Stream>
Stream make_stream(Socket socket, asio::ssl::context* tls) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    return Stream(std::move(socket), *tls);
  } else {
    (void)tls;
    return Stream(std::move(socket));
  }
}

// ServerOptions::unlogged_paths: answered, counted, but no access line.
bool is_unlogged(const ServerOptions& options, std::string_view path) {
  return std::find(options.unlogged_paths.begin(), options.unlogged_paths.end(), path) !=
         options.unlogged_paths.end();
}

}  // namespace

ServerState::ServerState(ServerOptions opts, Handler fn)
    : options(std::move(opts)),
      per_address_cap(http::per_address_cap(options)),
      pressure_threshold(options.max_connections - options.max_connections / 4),
      handler(std::move(fn)) {}

bool AddressSlots::acquire(const std::string& key, std::size_t cap) {
  MutexLock lock(mu_);
  auto it = held_.try_emplace(key, 0).first;
  if (it->second >= cap) return false;
  ++it->second;
  return true;
}

void AddressSlots::release(const std::string& key) {
  MutexLock lock(mu_);
  auto it = held_.find(key);
  if (it == held_.end()) return;
  if (--it->second == 0) held_.erase(it);
}

void ServerState::add(const std::shared_ptr<SessionBase>& session) {
  MutexLock lock(mu_);
  sessions_.emplace(session.get(), session);
}

void ServerState::remove(SessionBase* session) {
  MutexLock lock(mu_);
  sessions_.erase(session);
}

std::vector<std::shared_ptr<SessionBase>> ServerState::sessions() {
  std::vector<std::shared_ptr<SessionBase>> out;
  MutexLock lock(mu_);
  out.reserve(sessions_.size());
  for (const auto& [raw, weak] : sessions_) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

template <class Stream>
Session<Stream>::Session(ServerState& state, Socket socket, std::shared_ptr<asio::ssl::context> tls,
                         bool refuse, std::string address_key)
    : state_(state),
      tls_(std::move(tls)),
      stream_(make_stream<Stream>(std::move(socket), tls_.get())),
      refuse_(refuse),
      address_key_(std::move(address_key)) {}

template <class Stream>
Session<Stream>::~Session() {
  if (!refuse_) state_.connections.fetch_sub(1, std::memory_order_relaxed);
  if (!address_key_.empty()) state_.slots.release(address_key_);
  state_.remove(this);
}

template <class Stream>
void Session<Stream>::start() {
  asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::begin, self()));
}

template <class Stream>
void Session<Stream>::shutdown() {
  asio::post(stream_.get_executor(), beast::bind_front_handler(&Session::on_shutdown, self()));
}

template <class Stream>
void Session<Stream>::tighten() {
  asio::post(stream_.get_executor(), beast::bind_front_handler(&Session::on_tighten, self()));
}

template <class Stream>
void Session<Stream>::begin() {
  // Registered before reading `stopping`, under the registry's mutex, so a stop() racing with
  // this accept either sees this session or this session sees `stopping`.
  state_.add(this->shared_from_this());
  remote_ = remote_address(tcp().socket());
  if (state_.stopping.load(std::memory_order_acquire)) return close();
  beast::error_code ec;
  // Responses go out in one write; Nagle would only hold them back for the client's ACK.
  tcp().socket().set_option(asio::ip::tcp::no_delay(true), ec);
  // The first request must arrive whole within the read timeout, counted from the accept, so
  // a client that connects and sends nothing (or dribbles) is dropped (slowloris). On the TLS
  // listener the handshake runs under the same deadline.
  tcp().expires_after(std::chrono::seconds(state_.options.read_timeout_s));
  go_idle();
  if (!refuse_ && state_.under_pressure()) on_tighten();
  if constexpr (kTls) {
    stream_.async_handshake(asio::ssl::stream_base::server,
                            beast::bind_front_handler(&Session::on_handshake, self()));
  } else {
    ready();
  }
}

template <class Stream>
void Session<Stream>::on_handshake(beast::error_code ec) {
  if (phase_ == Phase::closed) return;
  if (ec) {
    // Scanners, plain HTTP on the TLS port, protocol versions below 1.2: routine, not a warning.
    if (auto& log = state_.options.log) {
      log->debug("{}: TLS handshake failed: {}", remote_, ec.message());
    }
    return close();
  }
  if (state_.stopping.load(std::memory_order_acquire)) return close();
  remember_client_certificate();
  ready();
}

template <class Stream>
void Session<Stream>::remember_client_certificate() {
  if constexpr (kTls) {
    request_.tls = true;
    SSL* ssl = stream_.native_handle();
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) return;
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    if (len > 0 && der != nullptr) {
      request_.client_cert_der.assign(reinterpret_cast<const char*>(der),
                                      static_cast<std::size_t>(len));
      // The verify callback accepts every certificate (RFC 8705 §2.2: self-signed ones are
      // matched by thumbprint); whether it chained to --tls-client-ca is kept here.
      request_.client_cert_chained = SSL_get_verify_result(ssl) == X509_V_OK;
    }
    OPENSSL_free(der);
    X509_free(cert);
  }
}

template <class Stream>
void Session<Stream>::ready() {
  if (refuse_) {
    return refuse(503, oauth::Error::temporarily_unavailable("too many connections, retry later"));
  }
  request_.remote_addr = remote_;
  buffer_.reserve(kInitialBuffer);
  wait_for_request();
}

template <class Stream>
void Session<Stream>::wait_for_request() {
  if (state_.stopping.load(std::memory_order_acquire)) return close();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
      state_.options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(state_.options.max_body_bytes);
  // Header first, then body: each put() stops after the head, so the head is measured
  // exactly (see parse()).
  parser_->eager(false);
  head_bytes_ = 0;
  head_after_newline_ = false;
  continue_checked_ = false;

  if (buffer_.size() > 0) {
    // A pipelined request is already (partly) here: it is being read now, not idle.
    phase_ = Phase::reading;
    started_ = Clock::now();
    if (!first_request_) {
      tcp().expires_after(std::chrono::seconds(state_.options.read_timeout_s));
    }
    return parse();
  }
  phase_ = Phase::idle;
  if (!first_request_) {
    if (buffer_.capacity() > kIdleBufferCap) buffer_.shrink_to_fit();
    go_idle();
    unsigned timeout_s = state_.options.idle_timeout_s;
    if (state_.under_pressure()) {
      timeout_s = std::min(timeout_s, state_.options.pressure_idle_timeout_s);
      tightened_ = true;
    }
    tcp().expires_after(std::chrono::seconds(timeout_s));
  }
  read_more();
}

template <class Stream>
void Session<Stream>::read_more() {
  stream_.async_read_some(buffer_.prepare(beast::read_size(buffer_, kReadChunk)),
                          beast::bind_front_handler(&Session::on_read, self()));
}

template <class Stream>
void Session<Stream>::on_read(beast::error_code ec, std::size_t bytes) {
  if (phase_ == Phase::closed) return;
  if (ec) {
    if (ec == asio::error::eof && (buffer_.size() > 0 || parser_->got_some())) {
      if (auto& log = state_.options.log) log->debug("{}: connection closed mid-request", remote_);
    } else if (ec == beast::error::timeout) {
      // Idle keep-alive expiry is routine; a request that did not arrive in time is not.
      if (auto& log = state_.options.log) {
        if (phase_ == Phase::reading) log->warn("{}: request not received in time", remote_);
      }
    }
    return close();
  }
  buffer_.commit(bytes);
  if (phase_ == Phase::idle) {
    phase_ = Phase::reading;
    started_ = Clock::now();
    // No longer idle: a pressure timer set for this wait must not close the connection.
    ++idle_round_;
    if (pressure_timer_) pressure_timer_->cancel();
    // Between keep-alive requests the idle timeout applied; from the first byte on, the whole
    // request must arrive within the read timeout (the first one counted from the accept).
    if (!first_request_) {
      tcp().expires_after(std::chrono::seconds(state_.options.read_timeout_s));
    }
  }
  parse();
}

template <class Stream>
void Session<Stream>::parse() {
  // docs/behaviour.md §6: request line and headers together at most max_header_bytes. Beast's
  // header_limit let heads spread over many lines grow past it, so the head is measured here:
  // the bytes the parser consumed while reading the head plus, until the head is complete,
  // everything still buffered (which can only be more head).
  const std::size_t limit = state_.options.max_header_bytes;
  beast::error_code ec;
  while (buffer_.size() > 0 && !parser_->is_done()) {
    const bool in_head = !parser_->is_header_done();
    const std::size_t used = parser_->put(buffer_.data(), ec);
    if (in_head &&
        has_obs_fold(std::string_view(static_cast<const char*>(buffer_.data().data()), used),
                     head_after_newline_)) {
      return refuse(400, oauth::Error::invalid_request("obsolete line folding in header"));
    }
    buffer_.consume(used);
    if (in_head) {
      head_bytes_ += used;
      const std::size_t pending = parser_->is_header_done() ? 0 : buffer_.size();
      if (head_bytes_ + pending > limit) {
        return refuse(431, oauth::Error::invalid_request("request header fields too large"));
      }
      if (parser_->is_header_done()) {
        // Before a byte of the body is read: what follows a head we cannot frame must never be
        // taken for the body, nor for the next request (request smuggling).
        if (auto problem = framing_problem(parser_->get())) {
          return refuse(problem->status,
                        oauth::Error::invalid_request(std::string(problem->description)));
        }
      }
    }
    if (ec == bhttp::error::need_more) {
      ec = {};
      break;
    }
    if (ec) break;
    if (used == 0) break;
  }
  if (ec) {
    // docs/behaviour.md §6: every malformed request gets a clear 4xx, then the connection closes
    // because what follows in the stream can no longer be framed.
    if (ec == bhttp::error::header_limit) {
      return refuse(431, oauth::Error::invalid_request("request header fields too large"));
    }
    if (ec == bhttp::error::body_limit) {
      return refuse(413, oauth::Error::payload_too_large("request body too large"));
    }
    return refuse(400, oauth::Error::invalid_request("malformed HTTP request"));
  }
  if (parser_->is_done()) return serve();

  if (parser_->is_header_done() && !continue_checked_) {
    continue_checked_ = true;
    const auto& header = parser_->get();
    // RFC 9110 §10.1.1: a client that sent Expect: 100-continue may wait for this before
    // sending the body (curl does, for a second, on bodies over 1 KiB).
    if (header.version() >= 11 && iequals(header[bhttp::field::expect], "100-continue")) {
      return asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                               beast::bind_front_handler(&Session::on_continue_written, self()));
    }
  }
  read_more();
}

template <class Stream>
void Session<Stream>::on_continue_written(beast::error_code ec, std::size_t /*bytes*/) {
  if (phase_ == Phase::closed) return;
  if (ec) return close();
  read_more();
}

template <class Stream>
void Session<Stream>::serve() {
  phase_ = Phase::writing;
  parsed_ = Clock::now();
  auto message = parser_->release();
  fill_request(message, request_);
  // The client's (or its proxy's) id when it is one we may log and echo, else ours; the first
  // field only, should there be several.
  if (auto given = request_.header("x-request-id"); given && acceptable_request_id(*given)) {
    request_.request_id.assign(*given);
  } else {
    state_.request_ids.next(request_.request_id);
  }
  request_keep_alive_ = message.keep_alive();
  request_version_ = message.version();
  request_is_head_ = message.method() == bhttp::verb::head;

  if (state_.handler_pool == nullptr ||
      (state_.options.run_inline && state_.options.run_inline(request_))) {
    return respond(call_handler());
  }
  // The handler may wait on the disk (a durable write commits with others in a batch): run it
  // on the handler pool so this I/O thread goes on serving other connections, then come back
  // to the connection's I/O thread to write. The work guard keeps the io_context running (and a
  // stopping server waiting) until the response is handed back.
  asio::post(*state_.handler_pool,
             [self = self(), work = asio::make_work_guard(stream_.get_executor())]() mutable {
               Response response = self->call_handler();
               auto executor = work.get_executor();
               asio::post(executor, [self = std::move(self), work = std::move(work),
                                     response = std::move(response)]() mutable {
                 self->respond(std::move(response));
               });
             });
}

template <class Stream>
Response Session<Stream>::call_handler() {
  Response response;
  try {
    response = state_.handler(request_);
  } catch (const std::exception& e) {
    // The text may carry internals; it goes to the log only (docs/design.md, "Errors are
    // values": a client sees server_error and nothing more).
    if (auto& log = state_.options.log) {
      log->warn("handler failed for {} {} from {}: {}", request_.method, request_.path, remote_,
                e.what());
    }
    response = token_error(oauth::Error::server_error("handler failed"), false);
  } catch (...) {
    if (auto& log = state_.options.log) {
      log->warn("handler failed for {} {} from {}: unknown exception", request_.method,
                request_.path, remote_);
    }
    response = token_error(oauth::Error::server_error("handler failed"), false);
  }
  // 1xx would need a second response and we never send one; anything else is a handler bug.
  if (response.status < 200 || response.status > 599) {
    if (auto& log = state_.options.log) {
      log->warn("handler returned status {} for {} {}", response.status, request_.method,
                request_.path);
    }
    response = token_error(oauth::Error::server_error("handler failed"), false);
  }
  return response;
}

template <class Stream>
void Session<Stream>::respond(Response response) {
  if (!response.await) {
    // The final answer, even if the client left meanwhile (it was decided all the same).
    if (auto& observe = state_.options.on_response) {
      observe(request_, response.status,
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - parsed_));
    }
  }
  if (phase_ == Phase::closed) return;
  if (response.await) {
    // Sent only once what it reports is durable; meanwhile this thread serves others. The work
    // guard keeps the io_context (and a stopping server) waiting for the release.
    auto await = std::move(response.await);
    response.await = nullptr;
    await([self = self(), work = asio::make_work_guard(stream_.get_executor()),
           response = std::move(response)](std::optional<Response> instead) mutable {
      auto executor = work.get_executor();
      asio::post(executor,
                 [self = std::move(self), work = std::move(work), response = std::move(response),
                  instead = std::move(instead)]() mutable {
                   self->respond(instead ? std::move(*instead) : std::move(response));
                 });
    });
    return;
  }
  bool keep_alive = request_keep_alive_ && !state_.stopping.load(std::memory_order_acquire) &&
                    !state_.draining.load(std::memory_order_acquire);
  const unsigned status = response.status;
  start_response(request_version_, status);
  bool has_server = false;
  for (auto& [name, value] : response.headers) {
    if (!is_token(name) || !is_field_value(value)) {
      if (auto& log = state_.options.log) {
        log->warn("dropping an invalid response header for {}", request_.path);
      }
      continue;
    }
    // Framing is ours to decide, and so is the request id.
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
        iequals(name, "X-Request-Id")) {
      continue;
    }
    if (iequals(name, "Connection")) {
      if (iequals(value, "close")) keep_alive = false;
      continue;
    }
    if (iequals(name, "Server")) has_server = true;
    add_field(name, value);
  }
  if (!has_server) add_field("Server", "latchkey");
  add_field("X-Request-Id", request_.request_id);

  status_ = status;
  if (status == 204 || status == 304) {
    // RFC 9110 §6.4.1: these carry no content and no Content-Length to frame it.
    return finish_response(request_version_, keep_alive, {});
  }
  add_field("Content-Length", std::to_string(response.body.size()));
  // RFC 9110 §9.3.2: HEAD gets the same header fields as GET, no content.
  finish_response(request_version_, keep_alive,
                  request_is_head_ ? std::string_view() : std::string_view(response.body));
}

template <class Stream>
void Session<Stream>::refuse(unsigned status, const oauth::Error& error) {
  // A new id whatever the client sent: its head may not even have been parsed.
  state_.request_ids.next(request_.request_id);
  if (auto& log = state_.options.log) {
    log->warn("{}: answered {} ({}) request_id={}", remote_.empty() ? "-" : remote_, status,
              error.description(), request_.request_id);
  }
  phase_ = Phase::writing;
  // The body and its no-store fields come from the one serializer of errors (http/errors.h);
  // the status is the transport's (431, 501 have no OAuth error code of their own).
  const Response response = token_error(error, false);
  start_response(11, status);
  add_field("Server", "latchkey");
  for (const auto& [name, value] : response.headers) add_field(name, value);
  add_field("X-Request-Id", request_.request_id);
  if (status == 503) add_field("Retry-After", "1");
  add_field("Content-Length", std::to_string(response.body.size()));
  status_ = status;
  linger_after_write_ = true;
  // Not counted as an access: no request was understood, and the warn line above says why.
  request_.method.clear();
  // Connection: close, and nothing after this head is parsed: the connection lingers, only
  // discarding what the client still sends, and closes.
  finish_response(11, false, response.body);
}

// A response is rendered straight into one buffer and sent with one write: Beast's serializer
// walked a chain of buffer views that cost about a tenth of the server's time on small JSON
// answers, and building a Beast message first cost an allocation per field. The bytes are what
// Beast would send: status line, the fields in order, Content-Length, then Connection as
// keep_alive() sets it, a blank line and the body.
template <class Stream>
void Session<Stream>::start_response(unsigned version, unsigned status) {
  wire_.assign(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  wire_ += std::to_string(status);
  wire_ += ' ';
  wire_ += bhttp::obsolete_reason(bhttp::int_to_status(status));
  wire_ += "\r\n";
}

template <class Stream>
void Session<Stream>::add_field(std::string_view name, std::string_view value) {
  wire_ += name;
  wire_ += ": ";
  wire_ += value;
  wire_ += "\r\n";
}

template <class Stream>
void Session<Stream>::finish_response(unsigned version, bool keep_alive, std::string_view body) {
  // HTTP/1.1 connections persist unless closed; HTTP/1.0 ones close unless kept alive.
  if (version >= 11 && !keep_alive) add_field("Connection", "close");
  if (version == 10 && keep_alive) add_field("Connection", "keep-alive");
  wire_ += "\r\n";
  wire_ += body;
  body_bytes_ = body.size();
  // A client that stops reading must not hold the connection forever either.
  tcp().expires_after(std::chrono::seconds(state_.options.read_timeout_s));
  asio::async_write(stream_, asio::buffer(wire_),
                    beast::bind_front_handler(&Session::on_write, self(), keep_alive));
}

template <class Stream>
void Session<Stream>::on_write(bool keep_alive, beast::error_code ec, std::size_t /*bytes*/) {
  if (auto& log = state_.options.log;
      log && !request_.method.empty() && !is_unlogged(state_.options, request_.path)) {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count();
    // One line per request, so log tools can pick fields by name. Path only: the query string
    // can carry codes and tokens.
    log_access_line(*log, state_.options.log_format,
                    {request_.method, request_.path, status_, body_bytes_,
                     static_cast<std::int64_t>(micros), remote_, request_.request_id});
  }
  if (phase_ == Phase::closed) return;
  if (ec) return close();
  if (linger_after_write_) return linger();
  if (!keep_alive) return close();
  first_request_ = false;
  wait_for_request();
}

template <class Stream>
void Session<Stream>::linger() {
  phase_ = Phase::lingering;
  beast::error_code ec;
  // Our half is done: the client sees the answer followed by end of stream.
  tcp().socket().shutdown(Socket::shutdown_send, ec);
  if (ec) return close();
  tcp().expires_after(kLingerTime);
  buffer_.clear();
  // Raw bytes off the socket: what is discarded needs no decryption.
  tcp().async_read_some(buffer_.prepare(kLingerChunk),
                        beast::bind_front_handler(&Session::on_linger, self()));
}

template <class Stream>
void Session<Stream>::on_linger(beast::error_code ec, std::size_t bytes) {
  if (phase_ == Phase::closed) return;
  lingered_bytes_ += bytes;
  if (ec || lingered_bytes_ > kLingerBytes) return close();
  tcp().async_read_some(buffer_.prepare(kLingerChunk),
                        beast::bind_front_handler(&Session::on_linger, self()));
}

template <class Stream>
void Session<Stream>::go_idle() {
  idle_since_ = Clock::now();
  ++idle_round_;
  tightened_ = false;
  if (pressure_timer_) pressure_timer_->cancel();
}

template <class Stream>
void Session<Stream>::on_tighten() {
  const unsigned pressure_s = state_.options.pressure_idle_timeout_s;
  if (phase_ != Phase::idle || tightened_ || pressure_s == 0) return;
  tightened_ = true;
  // Counted from when the connection fell idle, so the longest idle go first.
  const Clock::time_point deadline = idle_since_ + std::chrono::seconds(pressure_s);
  if (deadline <= Clock::now()) {
    if (auto& log = state_.options.log) log->debug("{}: idle under pressure, closed", remote_);
    return close();
  }
  if (!pressure_timer_) pressure_timer_.emplace(stream_.get_executor());
  pressure_timer_->expires_at(deadline);
  pressure_timer_->async_wait(
      beast::bind_front_handler(&Session::on_pressure_timer, self(), idle_round_));
}

template <class Stream>
void Session<Stream>::on_pressure_timer(std::uint64_t idle_round, beast::error_code ec) {
  if (ec || phase_ != Phase::idle || idle_round != idle_round_) return;
  if (auto& log = state_.options.log) log->debug("{}: idle under pressure, closed", remote_);
  close();
}

template <class Stream>
void Session<Stream>::close() {
  if (pressure_timer_) pressure_timer_->cancel();
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  beast::error_code ec;
  tcp().socket().shutdown(Socket::shutdown_send, ec);
  tcp().close();
}

template <class Stream>
void Session<Stream>::abort() {
  asio::post(stream_.get_executor(), [self = self()] { self->close(); });
}

template <class Stream>
void Session<Stream>::on_shutdown() {
  // Idle keep-alive connections and lingering closes have nothing left to deliver. A request
  // being read or answered finishes first and then closes, because `stopping` is set.
  if (phase_ == Phase::idle || phase_ == Phase::lingering) close();
}

template class Session<PlainStream>;
template class Session<TlsStream>;

}  // namespace latchkey::http::detail
