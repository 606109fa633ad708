#include "app/demo.h"

#include <boost/json.hpp>

#include "crypto/crypto.h"
#include "http/errors.h"
#include "http/params.h"
#include "web/json_pretty.h"
#include "core/paths.h"

namespace latchkey::app {
namespace {

constexpr std::string_view kDemoCookie = "lk_demo";

// One part of a compact JWS, decoded for display.
std::string jws_part(std::string_view b64) {
  return crypto::base64url_decode(b64).value_or("(not base64url)");
}

}  // namespace

http::Response Demo::start(const http::Request&) {
  if (!available()) return http::Response::redirect("/");
  std::string verifier = crypto::random_token(random_, 48);
  std::string state = crypto::random_token(random_, 16);
  std::string challenge = crypto::base64url_encode(crypto::sha256(verifier));
  std::string url = std::string(paths::kAuthorize) +
                    "?response_type=code&client_id=" + http::form_encode(client_id_) +
                    "&redirect_uri=" + http::form_encode(callback()) +
                    "&scope=" + http::form_encode("api refresh_token openid profile email") +
                    "&state=" + state + "&nonce=" + crypto::random_token(random_, 16) +
                    "&code_challenge=" + challenge + "&code_challenge_method=S256";
  http::Response r = http::Response::redirect(url);
  r.headers.emplace_back("Set-Cookie", std::string(kDemoCookie) + "=" + state + "." + verifier +
                                           "; Path=/demo; HttpOnly; SameSite=Lax");
  http::no_store(r);
  return r;
}

namespace {

http::Response failed(const web::Pages& pages, web::DemoResultView v, std::string msg) {
  v.error = std::move(msg);
  http::Response r = http::Response::html(400, pages.demo_result(v));
  http::no_store(r);
  return r;
}

}  // namespace

http::Response Demo::callback(const http::Request& request) {
  auto q = http::parse_form(request.query);
  std::string cookie;
  if (auto c = request.header("cookie")) cookie = http::cookie_value(*c, kDemoCookie).value_or("");
  auto dot = cookie.find('.');
  if (!q) return failed(pages_, {}, "malformed callback");
  if (q->has("error")) {
    return failed(
        pages_, {},
        std::string(q->value("error")) + ": " + std::string(q->value("error_description")));
  }
  if (dot == std::string::npos || q->value("state") != std::string_view(cookie).substr(0, dot)) {
    return failed(pages_, {}, "state does not match: start again from the home page");
  }
  http::Request token_req;
  token_req.method = "POST";
  token_req.path = token_req.target = paths::kToken;
  token_req.remote_addr = request.remote_addr;
  token_req.request_id = request.request_id;
  token_req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  token_req.body = "grant_type=authorization_code&code=" + http::form_encode(q->value("code")) +
                   "&client_id=" + http::form_encode(client_id_) +
                   "&redirect_uri=" + http::form_encode(callback()) +
                   "&code_verifier=" + cookie.substr(dot + 1);
  http::Response tr = token_(token_req);
  if (!tr.await) return result_page(tr);
  // The token response is final only once its write is durable (or refused there, as a
  // replayed code is), and userinfo knows the new token only then: the page is made when the
  // write settles, in place of this placeholder.
  auto settle = std::move(tr.await);
  tr.await = nullptr;
  http::Response pending;
  pending.await = [this, settle = std::move(settle),
                   tr = std::move(tr)](http::Response::Release release) {
    settle([this, tr, release = std::move(release)](std::optional<http::Response> instead) {
      release(result_page(instead ? *instead : tr));
    });
  };
  return pending;
}

http::Response Demo::result_page(const http::Response& token_response) {
  web::DemoResultView v;
  v.token_response_json = web::pretty_json(token_response.body);
  boost::system::error_code ec;
  auto tv = boost::json::parse(token_response.body, ec);
  if (ec || token_response.status != 200 || !tv.is_object()) {
    return failed(pages_, std::move(v), "token request failed: " + token_response.body);
  }
  const auto& t = tv.get_object();
  if (auto it = t.find("id_token"); it != t.end() && it->value().is_string()) {
    std::string_view idt = it->value().get_string();
    auto p1 = idt.find('.');
    auto p2 = idt.find('.', p1 + 1);
    if (p1 != std::string_view::npos && p2 != std::string_view::npos) {
      v.id_token_header_json = web::pretty_json(jws_part(idt.substr(0, p1)));
      v.id_token_claims_json = web::pretty_json(jws_part(idt.substr(p1 + 1, p2 - p1 - 1)));
    }
  }
  http::Request ui;
  ui.method = "GET";
  ui.path = ui.target = paths::kUserinfo;
  ui.headers.emplace_back("authorization",
                          "Bearer " + std::string(t.at("access_token").get_string()));
  v.userinfo_json = web::pretty_json(userinfo_(ui).body);
  http::Response r = http::Response::html(200, pages_.demo_result(v));
  http::no_store(r);
  r.headers.emplace_back("Set-Cookie", std::string(kDemoCookie) + "=; Path=/demo; Max-Age=0");
  return r;
}

}  // namespace latchkey::app
