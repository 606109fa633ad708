#include "oauth/token_endpoint.h"

#include <mutex>

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
  for (const auto& [k, v] : handlers_) out.push_back(k);
  return out;
}

http::Response TokenEndpoint::refused(const Error& e, std::string_view grant_type,
                                      std::string_view client_id, std::string_view remote_addr,
                                      bool tried_basic) {
  std::string detail = std::string(e.code()) + " " + std::string(grant_type.substr(0, 64));
  events_.emit({EventType::token_refused, client_id.substr(0, 256), {}, detail, remote_addr});
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
      return refused(client.error(), grant_type, params->value("client_id"), request.remote_addr,
                     tried_basic);
    }
  }

  Deferred deferred;
  auto body = it->second->handle({request, *params, *client, &deferred});
  if (!body) {
    return refused(body.error(), grant_type, client->app.client_id, request.remote_addr,
                   tried_basic);
  }
  if (!deferred.write) return http::token_json(boost::json::serialize(*body));
  // Sent as it is once the write is durable; a body still to be signed is kept and sent
  // completed instead.
  const bool sign_later = static_cast<bool>(deferred.id_token);
  http::Response response =
      http::token_json(sign_later ? std::string() : boost::json::serialize(*body));
  response.await =
      awaiting(std::move(deferred), sign_later ? std::move(*body) : boost::json::object(), request,
               tried_basic);
  return response;
}

// The tokens in the response exist only once their write is durable; until then the response
// waits (without a thread), and the write may still turn it into a refusal. An ID token is
// signed meanwhile, on another thread when there is one (offload_).
std::function<void(http::Response::Release)> TokenEndpoint::awaiting(Deferred deferred,
                                                                     boost::json::object body,
                                                                     const http::Request& request,
                                                                     bool tried_basic) {
  return [this, d = std::move(deferred), body = std::move(body), remote = request.remote_addr,
          tried_basic](http::Response::Release release) mutable {
    if (!d.id_token) {
      auto write = d.write;
      write->on_settled([this, d = std::move(d), remote, tried_basic,
                         release = std::move(release)](std::exception_ptr error) {
        boost::json::object unused;  // the body was serialized already
        settle(d, unused, std::move(error), std::nullopt, remote, tried_basic, release);
      });
      return;
    }
    // Two things to wait for; whichever finishes second answers.
    struct Join {
      Join(Deferred d, boost::json::object b) : deferred(std::move(d)), body(std::move(b)) {}
      Deferred deferred;
      boost::json::object body;
      std::mutex mu;
      int outstanding = 2;  // guarded by mu, as are the two below
      std::exception_ptr write_error;
      std::optional<std::string> id_token;  // nullopt if signing failed
    };
    auto join = std::make_shared<Join>(std::move(d), std::move(body));
    auto finish = [this, join, remote, tried_basic, release = std::move(release)] {
      settle(join->deferred, join->body, join->write_error, std::move(join->id_token), remote,
             tried_basic, release);
    };
    auto done = [join, finish](const std::function<void(Join&)>& record) {
      {
        std::lock_guard lock(join->mu);
        record(*join);
        if (--join->outstanding > 0) return;
      }
      finish();
    };
    auto sign = [join, done] {
      std::optional<std::string> token;
      try {
        token = join->deferred.id_token();
      } catch (...) {
        // Answered as server_error below; the token write stands, unused by the client.
      }
      done([&token](Join& j) { j.id_token = std::move(token); });
    };
    auto write = join->deferred.write;
    write->on_settled([done](std::exception_ptr error) {
      done([&error](Join& j) { j.write_error = std::move(error); });
    });
    if (offload_) {
      offload_(std::move(sign));
    } else {
      sign();
    }
  };
}

void TokenEndpoint::settle(const Deferred& d, boost::json::object& body,
                           std::exception_ptr write_error, std::optional<std::string> id_token,
                           const std::string& remote, bool tried_basic,
                           const http::Response::Release& release) {
  if (!write_error) {
    if (d.id_token && !id_token) {
      release(refused(Error::server_error("signing the ID token failed"), d.grant_type, d.client_id,
                      remote, tried_basic));
      return;
    }
    events_.emit({EventType::token_issued, d.client_id, d.user_id, d.grant_type, {}});
    if (!d.id_token) {
      release(std::nullopt);
      return;
    }
    body["id_token"] = std::move(*id_token);
    release(http::token_json(boost::json::serialize(body)));
    return;
  }
  Error e = Error::temporarily_unavailable("storage is unavailable, try again")
                .with_debug("the token write failed");
  try {
    std::rethrow_exception(write_error);
  } catch (const store::AlreadyRedeemed& used) {
    if (d.if_redeemed) e = *d.if_redeemed;
    // RFC 6749 §4.1.2 / RFC 9700 §4.14.2: the replay revoked what the first use issued.
    if (used.revoked > 0) {
      events_.emit({EventType::token_revoked, d.client_id, d.user_id, d.revoke_reason, remote});
    }
  } catch (...) {
  }
  release(refused(e, d.grant_type, d.client_id, remote, tried_basic));
}

}  // namespace latchkey::oauth
