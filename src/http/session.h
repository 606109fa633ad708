// Internal to src/http: one Session per accepted TCP connection, and the state the sessions
// share with the Server (options, handler, connection count and slots per address, the set of
// live sessions so stop() and pressure can reach them). Modelled on Boost.Beast's advanced
// server (and its "flex" variant for TLS), with the request parsed by our own read loop so a
// complete request already in the buffer costs no extra executor round trip. The session is a
// template over the stream: plain TCP and TLS over TCP share every line of the request logic;
// only the handshake and the access to the socket underneath differ (if constexpr). Both
// instantiations live in session.cc.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/mutex.h"
#include "http/message.h"
#include "http/request_id.h"
#include "http/server.h"

namespace latchkey::http::detail {

// What the registry (and stop()) needs of a session, whatever its stream.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Thread-safe. Closes the connection if it is idle; otherwise the current request is
  // answered (with Connection: close) and then the connection closes.
  virtual void shutdown() = 0;
  // Thread-safe. The server is under pressure (ServerOptions::pressure_idle_timeout_s): if the
  // connection is waiting for a request, it waits at most the pressure timeout from when it
  // fell idle, closing at once if that has passed already.
  virtual void tighten() = 0;
  // Thread-safe. Closes the connection now, whatever it is doing: the end of a drain whose
  // timeout ran out (ServerOptions::drain_timeout). A response still being made is dropped.
  virtual void abort() = 0;
};

// Connections per client address (ServerOptions::max_connections_per_address). Thread-safe;
// holds an entry only for addresses with a connection open, so it is bounded by them.
class AddressSlots {
 public:
  // Takes one of `key`'s slots; false, taking nothing, when it already holds `cap`.
  bool acquire(const std::string& key, std::size_t cap);
  void release(const std::string& key);

 private:
  Mutex mu_;
  std::unordered_map<std::string, std::size_t> held_ GUARDED_BY(mu_);
};

// Shared by the Server and all its sessions; outlives every session (the Server drains or
// destroys its io_context before destroying this). Thread-safe as marked.
class ServerState {
 public:
  ServerState(ServerOptions opts, Handler fn);

  const ServerOptions options;
  // max_connections_per_address with its default resolved.
  const std::size_t per_address_cap;
  // More connections than this in use is pressure (ServerOptions::pressure_idle_timeout_s).
  const std::size_t pressure_threshold;
  // Called concurrently from every I/O thread, or from the handler pool's threads.
  const Handler handler;
  // Where handlers run when ServerOptions::handler_threads > 0; null: on the I/O threads.
  boost::asio::thread_pool* handler_pool = nullptr;
  // Set once by stop(); sessions stop keeping connections alive when they see it.
  std::atomic<bool> stopping{false};
  // Set once a drain begins (SIGTERM, ServerOptions::drain_delay): responses close their
  // connection, so that clients come back on a new one, which a load balancer sends elsewhere.
  std::atomic<bool> draining{false};
  // Connections being served (not those being refused with 503).
  std::atomic<std::size_t> connections{0};
  // The served connections by client address; each served session holds one slot.
  AddressSlots slots;
  // Ids for requests that bring no acceptable X-Request-Id.
  RequestIds request_ids;

  bool under_pressure() const {
    return options.pressure_idle_timeout_s > 0 &&
           connections.load(std::memory_order_relaxed) > pressure_threshold;
  }

  // Registry of live sessions; per connection, never per request.
  void add(const std::shared_ptr<SessionBase>& session);
  void remove(SessionBase* session);
  std::vector<std::shared_ptr<SessionBase>> sessions();

 private:
  Mutex mu_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_ GUARDED_BY(mu_);
};

// A connection lives on one I/O thread's io_context, named by its concrete executor type: the
// type-erased any_io_executor that Beast's tcp_stream uses by default cost a few percent of the
// server's time in copies and queries on every operation.
using IoExecutor = boost::asio::io_context::executor_type;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, IoExecutor>;
using PlainStream = boost::beast::basic_stream<boost::asio::ip::tcp, IoExecutor>;
using TlsStream = boost::beast::ssl_stream<PlainStream>;

// Serves one connection: reads requests under the header/body limits and timeouts, calls the
// handler, writes responses, keeps the connection alive when the client asks. All member
// functions but start() and shutdown() run on the connection's I/O thread. Stream is PlainStream
// or TlsStream; a TLS session first completes the handshake (within the read timeout counted
// from the accept) and hands the client certificate, if any, to every request.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `refuse` sessions answer 503 at once (over max_connections) and are not counted.
  // `tls` is the context for a TLS session (kept alive by the session, so that a reload may
  // replace the server's context meanwhile); null for a plain one. `address_key` names the slot
  // the session holds in state.slots and gives back when it ends; empty: none.
  Session(ServerState& state, Socket socket, std::shared_ptr<boost::asio::ssl::context> tls,
          bool refuse, std::string address_key = {});
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();
  void shutdown() override;
  void tighten() override;
  void abort() override;

 private:
  enum class Phase { idle, reading, writing, lingering, closed };
  using Clock = std::chrono::steady_clock;

  void begin();
  void on_handshake(boost::beast::error_code ec);
  void ready();
  void remember_client_certificate();
  PlainStream& tcp() { return boost::beast::get_lowest_layer(stream_); }
  std::shared_ptr<Session> self() { return this->shared_from_this(); }
  void wait_for_request();
  void read_more();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void parse();
  void on_continue_written(boost::beast::error_code ec, std::size_t bytes);
  void serve();
  Response call_handler();
  void respond(Response response);
  // Answers `error` with `status` and Connection: close, then lingers and closes: for a request
  // that cannot be served or framed, and for connections over max_connections.
  void refuse(unsigned status, const oauth::Error& error);
  void start_response(unsigned version, unsigned status);
  void add_field(std::string_view name, std::string_view value);
  void finish_response(unsigned version, bool keep_alive, std::string_view body);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void linger();
  void on_linger(boost::beast::error_code ec, std::size_t bytes);
  void close();
  void on_shutdown();
  void go_idle();
  void on_tighten();
  void on_pressure_timer(std::uint64_t idle_round, boost::beast::error_code ec);

  ServerState& state_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // before stream_, which refers to it
  Stream stream_;
  // Reused across requests on the connection; holds pipelined bytes between requests.
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::string wire_;            // the response as sent; reused so it keeps its capacity
  std::size_t body_bytes_ = 0;  // of the response being sent, for the access log
  Request request_;             // reused so its vectors keep their capacity
  // What respond() needs of the request after the parser let go of it.
  bool request_keep_alive_ = false;
  unsigned request_version_ = 11;
  bool request_is_head_ = false;
  std::string remote_;
  const bool refuse_;
  Phase phase_ = Phase::idle;
  bool first_request_ = true;
  bool continue_checked_ = false;
  std::size_t head_bytes_ = 0;       // bytes of the current request's head consumed so far
  bool head_after_newline_ = false;  // has_obs_fold's state over the current head
  bool linger_after_write_ = false;
  std::size_t lingered_bytes_ = 0;
  const std::string address_key_;
  // When the connection began waiting for a request (the accept, or the end of the last
  // response), and a count of such waits, so a pressure timer set in one wait cannot close the
  // connection in a later one.
  Clock::time_point idle_since_;
  std::uint64_t idle_round_ = 0;
  // Set by on_tighten() while idle: the stream's own timer cannot be moved under the read
  // that is waiting, so this one closes the connection at the shorter deadline.
  std::optional<
      boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, IoExecutor>>
      pressure_timer_;
  bool tightened_ = false;     // this wait already has the pressure deadline
  Clock::time_point started_;  // first byte of the request
  Clock::time_point parsed_;   // the request complete, handed to the handler
  unsigned status_ = 0;
};

}  // namespace latchkey::http::detail
