#include "oauth/token_endpoint.h"

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
  std::string detail = e.code() + " " + std::string(grant_type.substr(0, 64));
  events_.emit({"token_refused", client_id.substr(0, 256), {}, detail, remote_addr});
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
  http::Response response = http::token_json(boost::json::serialize(*body));
  if (deferred.write) response.await = awaiting(std::move(deferred), request, tried_basic);
  return response;
}

// The tokens in the response exist only once their write is durable; until then the response
// waits (without a thread), and the write may still turn it into a refusal.
std::function<void(http::Response::Release)> TokenEndpoint::awaiting(Deferred deferred,
                                                                     const http::Request& request,
                                                                     bool tried_basic) {
  return [this, d = std::move(deferred), remote = request.remote_addr,
          tried_basic](http::Response::Release release) {
    auto write = d.write;
    write->on_settled([this, d = std::move(d), remote, tried_basic,
                       release = std::move(release)](std::exception_ptr error) {
      if (!error) {
        events_.emit({"token_issued", d.client_id, d.user_id, d.grant_type, {}});
        release(std::nullopt);
        return;
      }
      Error e = Error::temporarily_unavailable("storage is unavailable, try again")
                    .with_debug("the token write failed");
      try {
        std::rethrow_exception(error);
      } catch (const store::AlreadyRedeemed& used) {
        if (d.if_redeemed) e = *d.if_redeemed;
        // RFC 6749 §4.1.2 / RFC 9700 §4.14.2: the replay revoked what the first use issued.
        if (used.revoked > 0) {
          events_.emit({"token_revoked", d.client_id, d.user_id, d.revoke_reason, remote});
        }
      } catch (...) {
      }
      release(refused(e, d.grant_type, d.client_id, remote, tried_basic));
    });
  };
}

}  // namespace latchkey::oauth
