#include "oauth/front_door.h"

#include <boost/json.hpp>
#include <charconv>
#include <vector>

#include "core/paths.h"
#include "crypto/crypto.h"
#include "http/errors.h"
#include "http/params.h"
#include "oauth/client_auth.h"
#include "token/bearer.h"
#include "token/scopes.h"

namespace latchkey::oauth {
namespace {

constexpr int64_t kOtpTtlMs = 5 * 60 * 1000;
constexpr std::size_t kMaxRedirect = 2048;
constexpr std::size_t kMaxOtp = 4096;
constexpr std::string_view kVersion = "lk-frontdoor-1";

// A path of this server: "/" and then no second "/" or "\" (a browser reads "//host" and
// "/\host" as another host), printable ASCII only.
bool local_path(std::string_view p) {
  if (p.empty() || p.size() > kMaxRedirect || p[0] != '/') return false;
  if (p.size() > 1 && (p[1] == '/' || p[1] == '\\')) return false;
  for (char c : p) {
    if (c <= ' ' || c >= 0x7f || c == '\\') return false;
  }
  return true;
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto nl = s.find('\n', start);
    out.push_back(
        s.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) return out;
    start = nl + 1;
  }
}

}  // namespace

FrontDoor::FrontDoor(FrontDoorDeps deps) : d_(std::move(deps)) {
  if (d_.key.empty()) d_.key = d_.random.bytes(32);
}

std::string FrontDoor::mac(std::string_view payload) const {
  return crypto::hmac_sha256(d_.key, payload);
}

http::Response FrontDoor::single_access(const http::Request& request) {
  auto bearer = token::authenticate_bearer(request, d_.tokens, false);
  if (!bearer) return http::resource_error(bearer.error());
  auto user = d_.users.find_user(bearer->user_id);
  if (!user || !user->active) return http::resource_error(Error::invalid_token());
  // Salesforce: the `web` scope lets a token be used on the web, the front door included.
  if (!token::has_scope(bearer->scopes, "web") && !token::has_scope(bearer->scopes, "full")) {
    return http::resource_error(Error::insufficient_scope("web"));
  }
  auto params = http::parse_form(request.query);
  if (!params) return http::token_error(params.error(), false);
  std::string redirect(params->value("redirect_uri"));
  if (redirect.empty()) redirect = paths::kRoot;
  if (!local_path(redirect)) {
    return http::token_error(
        Error::invalid_request("redirect_uri must be a path of this server, such as /home"), false);
  }
  std::string payload = std::string(kVersion) + "\n" + bearer->client_id + "\n" + user->id + "\n" +
                        std::to_string(d_.clock.now_ms() + kOtpTtlMs) + "\n" +
                        crypto::random_token(d_.random, 16) + "\n" + redirect;
  std::string otp =
      crypto::base64url_encode(payload) + "." + crypto::base64url_encode(mac(payload));
  boost::json::object body{
      {"frontdoor_uri", d_.issuer + paths::kFrontDoor + "?otp=" + http::form_encode(otp)}};
  return http::token_json(boost::json::serialize(body));
}

http::Response FrontDoor::enter(const http::Request& request) {
  auto refused = [this](std::string why) {
    return d_.sessions.error_page(
        Error::invalid_request("this sign-in link is invalid, expired or already used")
            .with_debug(std::move(why)),
        401);
  };
  auto params = http::parse_form(request.query);
  if (!params) return d_.sessions.error_page(params.error());
  std::string_view otp = params->value("otp");
  auto dot = otp.find('.');
  if (otp.empty() || otp.size() > kMaxOtp || dot == std::string_view::npos) {
    return refused("malformed");
  }
  auto payload = crypto::base64url_decode(otp.substr(0, dot));
  auto tag = crypto::base64url_decode(otp.substr(dot + 1));
  if (!payload || !tag || !crypto::constant_time_equal(*tag, mac(*payload))) {
    return refused("bad mac");
  }
  auto fields = split_lines(*payload);
  if (fields.size() != 6 || fields[0] != kVersion) return refused("malformed");
  const std::string client_id(fields[1]);
  const std::string user_id(fields[2]);
  int64_t expires_ms = 0;
  auto exp = fields[3];
  if (std::from_chars(exp.data(), exp.data() + exp.size(), expires_ms).ec != std::errc{}) {
    return refused("malformed");
  }
  const std::string nonce(fields[4]);
  const std::string redirect(fields[5]);
  const int64_t now_ms = d_.clock.now_ms();
  if (now_ms >= expires_ms) return refused("expired");
  auto user = d_.users.find_user(user_id);
  if (!user || !user->active) return refused("user inactive");
  switch (d_.replays.first_use(std::string("frontdoor ") + nonce, client_id, expires_ms, now_ms,
                               ClientAuthLimits{}.max_live_assertions_per_client)) {
    case store::ReplayStore::Use::first:
      break;
    case store::ReplayStore::Use::replayed:
      return refused("used before");
    case store::ReplayStore::Use::over_quota:
      return refused("too many live sign-in links");
  }
  return d_.sessions.sign_in_and_redirect(request, *user, client_id, "frontdoor",
                                          d_.issuer + redirect);
}

}  // namespace latchkey::oauth
