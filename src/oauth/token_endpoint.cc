#include "oauth/token_endpoint.h"

#include "core/mutex.h"
#include "http/errors.h"

namespace latchkey::oauth {

Result<http::Params> form_of(const http::Request& request) {
  if (request.method != "POST") return Error::method_not_allowed();
  auto ct = request.header("content-type").value_or("");
  // RFC 6749 §3.2: the token endpoint takes application/x-www-form-urlencoded.
  if (ct.substr(0, 33) != "application/x-www-form-urlencoded") {
    return Error::invalid_request("Content-Type must be application/x-www-form-urlencoded");
  }
  return http::parse_form(request.body);
}

void TokenEndpoint::add(std::unique_ptr<TokenGrantHandler> handler) {
  std::string type(handler->grant_type());
  handlers_[type] = std::move(handler);
}

std::vector<std::string> TokenEndpoint::grant_types() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : handlers_) {
    if (v->advertised()) out.push_back(k);
  }
  return out;
}

http::Response TokenEndpoint::refused(const Error& e, std::string_view grant_type,
                                      std::string_view client_id, std::string_view remote_addr,
                                      std::string_view request_id, bool tried_basic) {
  std::string detail = std::string(e.code()) + " " + std::string(grant_type.substr(0, 64));
  events_.emit(
      {EventType::token_refused, client_id.substr(0, 256), {}, detail, remote_addr, request_id});
  return http::token_error(e, tried_basic);
}

http::Response TokenEndpoint::handle(const http::Request& request) {
  bool tried_basic = false;
  auto params = form_of(request);
  if (!params) return http::token_error(params.error(), false);
  auto grant_type = params->value("grant_type");
  if (grant_type.empty()) {
    return http::token_error(Error::invalid_request("grant_type is required"), false);
  }
  auto it = handlers_.find(std::string(grant_type));
  if (it == handlers_.end()) return http::token_error(Error::unsupported_grant_type(), false);

  bool anonymous = !request.header("authorization") && !params->has("client_id") &&
                   !params->has("client_secret") && !params->has("client_assertion");
  Result<ClientAuth> client = ClientAuth{};
  if (!anonymous || !it->second->client_named_by_assertion()) {
    client = clients_.authenticate(request, *params, tried_basic);
    if (!client) {
      return refused(client.error(), grant_type, params->value("client_id"),
                     clients_.client_address(request), request.request_id, tried_basic);
    }
  }

  if (it->second->reads_later()) {
    return later(*it->second, request, std::move(*params), std::move(*client), tried_basic);
  }
  auto outcome = it->second->handle({request, *params, *client});
  if (!outcome) {
    return refused(outcome.error(), grant_type, client->app.client_id,
                   clients_.client_address(request), request.request_id, tried_basic);
  }
  // Serialized now when complete (the I/O thread, not the writer's, pays for it) and sent as it
  // is once the write is durable; a body still to be signed is kept and sent completed instead.
  const bool sent = !outcome->sign_id_token && !outcome->refusal;
  http::Response response =
      http::token_json(sent ? boost::json::serialize(outcome->body) : std::string());
  response.await = awaiting(std::move(outcome).value(), sent, request, tried_basic);
  return response;
}

http::Response TokenEndpoint::later(TokenGrantHandler& handler, const http::Request& request,
                                    http::Params params, ClientAuth client, bool tried_basic) {
  // The grant's request, kept until the grant has answered (the session's may be gone).
  struct Held {
    Held(const http::Request& r, http::Params p, ClientAuth c)
        : http(r), params(std::move(p)), client(std::move(c)) {}
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    http::Request http;
    http::Params params;
    ClientAuth client;
    TokenRequest request{http, params, client};
  };
  auto held = std::make_shared<Held>(request, std::move(params), std::move(client));
  // Never sent as it is: the release always gives the answer, which exists only then.
  http::Response response;
  response.await = [this, &handler, held, tried_basic](http::Response::Release release) {
    handler.handle_later(held->request, [this, &handler, held, tried_basic,
                                         release = std::move(release)](
                                            Result<TokenOutcome> outcome) mutable {
      if (!outcome) {
        release(refused(outcome.error(), handler.grant_type(), held->client.app.client_id,
                        clients_.client_address(held->http), held->http.request_id, tried_basic));
        return;
      }
      awaiting(std::move(outcome).value(), false, held->http, tried_basic)(std::move(release));
    });
  };
  return response;
}

// The tokens in the response exist only once their write is durable; until then the response
// waits (without a thread), and the write may still turn it into a refusal. An ID token is
// signed meanwhile, on another thread when there is one (offload_).
std::function<void(http::Response::Release)> TokenEndpoint::awaiting(TokenOutcome outcome,
                                                                     bool sent,
                                                                     const http::Request& request,
                                                                     bool tried_basic) {
  return [this, o = std::move(outcome), sent, remote = clients_.client_address(request),
          request_id = request.request_id, tried_basic](http::Response::Release release) mutable {
    if (!o.sign_id_token) {
      auto write = o.write;
      write->on_settled([this, o = std::move(o), sent, remote, request_id, tried_basic,
                         release = std::move(release)](const store::WriteOutcome& written) mutable {
        answer(o, sent, written, std::nullopt, remote, request_id, tried_basic, release);
      });
      return;
    }
    // Two things to wait for; whichever finishes second answers, with what both recorded.
    struct Awaited {
      store::WriteOutcome written;
      std::optional<std::string> id_token;  // nullopt if signing failed
    };
    struct Join {
      explicit Join(TokenOutcome o) : outcome(std::move(o)) {}
      // Each returns what was awaited to the second of the two to record, and nothing to the
      // first.
      std::optional<Awaited> record_write(const store::WriteOutcome& written) EXCLUDES(mu) {
        MutexLock lock(mu);
        awaited.written = written;
        return last();
      }
      std::optional<Awaited> record_id_token(std::optional<std::string> id_token) EXCLUDES(mu) {
        MutexLock lock(mu);
        awaited.id_token = std::move(id_token);
        return last();
      }
      std::optional<Awaited> last() REQUIRES(mu) {
        if (--outstanding > 0) return std::nullopt;
        return std::move(awaited);
      }

      // Not guarded: signing only reads it, and only the one that answers changes it, after
      // both have recorded (under mu).
      TokenOutcome outcome;
      Mutex mu;
      int outstanding GUARDED_BY(mu) = 2;
      Awaited awaited GUARDED_BY(mu);
    };
    auto join = std::make_shared<Join>(std::move(o));
    auto finish = [this, join, sent, remote, request_id, tried_basic,
                   release = std::move(release)](std::optional<Awaited> both) {
      if (!both) return;
      answer(join->outcome, sent, both->written, std::move(both->id_token), remote, request_id,
             tried_basic, release);
    };
    auto sign = [join, finish] {
      std::optional<std::string> token;
      try {
        token = join->outcome.sign_id_token();
      } catch (...) {
        // Answered as server_error by settle(); the token write stands, unused by the client.
      }
      finish(join->record_id_token(std::move(token)));
    };
    auto write = join->outcome.write;
    write->on_settled([join, finish](const store::WriteOutcome& written) {
      finish(join->record_write(written));
    });
    if (offload_) {
      offload_(std::move(sign));
    } else {
      sign();
    }
  };
}

void TokenEndpoint::answer(TokenOutcome& o, bool sent, const store::WriteOutcome& written,
                           std::optional<std::string> id_token, const std::string& remote,
                           const std::string& request_id, bool tried_basic,
                           const http::Response::Release& release) {
  // RFC 6749 §4.1.2 / RFC 9700 §4.14.2: a replay revoked what the first use issued.
  if (written.status == store::WriteOutcome::Status::already_redeemed && written.revoked > 0) {
    events_.emit(
        {EventType::token_revoked, o.client_id, o.user_id, o.revoke_reason, remote, request_id});
  }
  if (auto refusal = settle(o, written, std::move(id_token))) {
    release(refused(*refusal, o.grant_type, o.client_id, remote, request_id, tried_basic));
    return;
  }
  events_.emit({EventType::token_issued, o.client_id, o.user_id, o.grant_type, {}, request_id});
  release(sent ? std::nullopt
               : std::optional<http::Response>(http::token_json(boost::json::serialize(o.body))));
}

}  // namespace latchkey::oauth
