#include "store/postgres/postgres_connection.h"

#include <charconv>
#include <limits>

#include "store/postgres/postgres_array.h"

namespace latchkey::store::postgres {
namespace {

// libpq's messages end in a newline; ours do not.
std::string trimmed(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Params& Params::text(std::string_view v) {
  values_.emplace_back(v);
  return *this;
}

Params& Params::int64(int64_t v) {
  values_.push_back(std::to_string(v));
  return *this;
}

Params& Params::boolean(bool v) {
  values_.emplace_back(v ? "true" : "false");
  return *this;
}

Params& Params::list(const std::vector<std::string>& v) {
  values_.push_back(encode_text_array(v));
  return *this;
}

const char* Result::value(int row, int col) const {
  if (row >= PQntuples(res_.get()) || col >= PQnfields(res_.get()) ||
      PQgetisnull(res_.get(), row, col)) {
    throw StoreError("postgres: missing value in a result row");
  }
  return PQgetvalue(res_.get(), row, col);
}

std::string Result::text(int row, int col) const {
  const char* v = value(row, col);
  return std::string(v, static_cast<std::size_t>(PQgetlength(res_.get(), row, col)));
}

int64_t Result::int64(int row, int col) const {
  const char* v = value(row, col);
  const char* end = v + PQgetlength(res_.get(), row, col);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v, end, out);
  if (ec != std::errc() || p != end) throw StoreError("postgres: not an integer in a result row");
  return out;
}

bool Result::boolean(int row, int col) const {
  std::string_view v = value(row, col);
  if (v == "t") return true;
  if (v == "f") return false;
  throw StoreError("postgres: not a boolean in a result row");
}

std::vector<std::string> Result::list(int row, int col) const {
  return decode_text_array(text(row, col));
}

int64_t Result::affected() const {
  std::string_view n = PQcmdTuples(res_.get());
  int64_t out = 0;
  std::from_chars(n.data(), n.data() + n.size(), out);
  return out;
}

Connection::Connection(const std::string& conninfo, SessionSettings settings) {
  // `dbname` holding a URI or key=value string is expanded in place, and the last value of a
  // keyword wins: what comes before it is a default the URL may change (a server that does not
  // answer fails the connection after 10 s rather than the system's TCP timeout of minutes;
  // over TCP, a server that falls silent on an open connection, a host gone or a network cut,
  // is noticed within about 30 s, by keepalive probes while waiting for an answer and by
  // tcp_user_timeout while what was sent is not acknowledged, where a read would otherwise wait
  // for ever and a send for the kernel's retransmissions), what comes after it overrides the URL
  // (client_encoding) or fills in what it leaves out (the application name).
  const char* const keywords[] = {
      "connect_timeout",           "keepalives_idle",  "keepalives_interval",
      "keepalives_count",          "tcp_user_timeout", "dbname",
      "fallback_application_name", "client_encoding",  nullptr};
  const char* const values[] = {"10",       "10",   "5",    "3", "30000", conninfo.c_str(),
                                "latchkey", "UTF8", nullptr};
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) throw ConnectionLost("postgres: out of memory opening a connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    // libpq's message names the host and the reason, never the password.
    std::string msg = "postgres: cannot connect: " + trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw ConnectionLost(msg);
  }
  // Notices (DROP ... CASCADE's list, "already exists, skipping") would go to stderr, which
  // belongs to the command's output; nothing in them needs acting on.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  std::string setup =
      "SELECT set_config('synchronous_commit', 'on', false)"
      " WHERE current_setting('synchronous_commit') = 'off'";
  if (settings.statement_timeout.count() > 0) {
    setup += "; SET statement_timeout = " + std::to_string(settings.statement_timeout.count());
  }
  try {
    exec(setup);
  } catch (...) {
    PQfinish(conn_);
    conn_ = nullptr;
    throw;
  }
}

std::string Connection::option(std::string_view keyword) const {
  std::string out;
  PQconninfoOption* options = PQconninfo(conn_);
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    if (keyword == o->keyword && o->val != nullptr) out = o->val;
  }
  PQconninfoFree(options);
  return out;
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

std::exception_ptr Connection::error_of(const PGresult* res, std::string_view during) const {
  if (broken()) {
    return std::make_exception_ptr(ConnectionLost("postgres: connection lost " +
                                                  std::string(during) + ": " +
                                                  trimmed(PQerrorMessage(conn_))));
  }
  // The primary message and SQLSTATE only: DETAIL quotes the values of the offending row.
  const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = "postgres: " + trimmed(primary != nullptr ? primary : PQerrorMessage(conn_));
  if (state != nullptr) msg += std::string(" (SQLSTATE ") + state + ")";
  const std::string_view code = state != nullptr ? state : "";
  if (code == "40P01" || code == "40001") return std::make_exception_ptr(Contention(msg));
  return std::make_exception_ptr(StoreError(msg));
}

Result Connection::check(PGresult* res, std::string_view during) {
  Result out(res);
  ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return out;
  std::rethrow_exception(error_of(res, during));
}

const std::string& Connection::prepared(const std::string& sql, int n_params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "lk" + std::to_string(prepared_.size() + 1);
    check(PQprepare(conn_, name.c_str(), sql.c_str(), n_params, nullptr), "preparing a statement");
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  return it->second;
}

namespace {

// libpq's arguments for `params`: pointers into it and lengths, all as text.
struct Bound {
  explicit Bound(const Params& params) {
    const auto& values = params.values();
    if (values.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw StoreError("postgres: too many parameters");
    }
    n = static_cast<int>(values.size());
    ptrs.reserve(values.size());
    lengths.reserve(values.size());
    for (const std::string& v : values) {
      if (v.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw StoreError("postgres: value too large to store");
      }
      ptrs.push_back(v.c_str());
      lengths.push_back(static_cast<int>(v.size()));
    }
  }
  int n = 0;
  std::vector<const char*> ptrs;
  std::vector<int> lengths;
};

}  // namespace

Result Connection::run(const std::string& sql, const Params& params) {
  const Bound b(params);
  const std::string& name = prepared(sql, b.n);
  return check(PQexecPrepared(conn_, name.c_str(), b.n, b.ptrs.data(), b.lengths.data(),
                              /*paramFormats=*/nullptr, /*resultFormat=*/0),
               "running a statement");
}

std::vector<Answer> Connection::pipeline(const std::vector<const Statement*>& statements) {
  std::vector<Answer> answers(statements.size());
  std::vector<Bound> bound;
  std::vector<const std::string*> names;
  bound.reserve(statements.size());
  names.reserve(statements.size());
  for (const Statement* s : statements) {
    bound.emplace_back(s->params);
    // Outside pipeline mode, where PQprepare waits for its answer.
    names.push_back(&prepared(s->sql, bound.back().n));
  }
  // A lost connection, or one whose state is no longer known: every statement from `from` on
  // has that outcome, and the connection is given up.
  const auto lost = [&](std::size_t from, std::string_view during) {
    given_up_ = true;
    const std::exception_ptr error = error_of(nullptr, during);
    for (std::size_t i = from; i < answers.size(); ++i) answers[i].error = error;
    return std::move(answers);
  };
  if (PQenterPipelineMode(conn_) != 1) {
    std::rethrow_exception(error_of(nullptr, "entering pipeline mode"));
  }
  // Sent in blocking mode: libpq flushes as its buffer fills, and the server can go on writing
  // its answers meanwhile, since they are small (a command tag each: no statement sent this way
  // returns more than a few rows) and fit the socket's buffer until they are read below.
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const Bound& b = bound[i];
    if (PQsendQueryPrepared(conn_, names[i]->c_str(), b.n, b.ptrs.data(), b.lengths.data(),
                            /*paramFormats=*/nullptr, /*resultFormat=*/0) != 1) {
      return lost(0, "sending a pipeline");
    }
  }
  if (PQpipelineSync(conn_) != 1) return lost(0, "sending a pipeline");
  for (std::size_t i = 0; i < statements.size(); ++i) {
    PGresult* res = PQgetResult(conn_);
    if (res == nullptr || broken()) {
      if (res != nullptr) PQclear(res);
      return lost(i, "reading a pipeline's answers");
    }
    Result held(res);
    const ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      answers[i].result.emplace(std::move(held));
    } else if (status == PGRES_PIPELINE_ABORTED) {
      answers[i].skipped = true;
      answers[i].error = std::make_exception_ptr(
          StoreError("postgres: not run: an earlier statement of its pipeline failed"));
    } else {
      answers[i].error = error_of(res, "running a statement");
    }
    // Each statement's results end with a null.
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    if (broken()) return lost(i + 1, "reading a pipeline's answers");
  }
  PGresult* sync = PQgetResult(conn_);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  if (sync != nullptr) PQclear(sync);
  if (!synced || PQexitPipelineMode(conn_) != 1) {
    given_up_ = true;
    std::rethrow_exception(error_of(nullptr, "leaving pipeline mode"));
  }
  return answers;
}

Result Connection::exec(const std::string& sql) {
  return check(PQexec(conn_, sql.c_str()), "running a statement");
}

void Connection::consume_input() {
  if (PQconsumeInput(conn_) == 0 || broken()) {
    throw ConnectionLost("postgres: connection lost while listening: " +
                         trimmed(PQerrorMessage(conn_)));
  }
}

std::vector<std::string> Connection::take_notifications(std::string_view channel) {
  std::vector<std::string> out;
  while (PGnotify* n = PQnotifies(conn_)) {
    if (channel == n->relname) out.emplace_back(n->extra);
    PQfreemem(n);
  }
  return out;
}

Transaction::Transaction(Connection& conn) : conn_(conn) { conn_.exec("BEGIN"); }

Transaction::~Transaction() {
  if (done_ || conn_.broken() || conn_.idle()) return;
  try {
    conn_.exec("ROLLBACK");
  } catch (...) {
    // The connection is not idle then and the pool drops it; the caller has its error already.
  }
}

void Transaction::commit() {
  done_ = true;
  Result r = conn_.exec("COMMIT");
  // A transaction that failed earlier answers COMMIT with ROLLBACK, successfully.
  if (r.tag() != "COMMIT") throw StoreError("postgres: the transaction was rolled back");
}

}  // namespace latchkey::store::postgres
