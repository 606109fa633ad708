// The landing page's one-click walk through the web server flow with PKCE, for the demo app
// that `latchkey demo` registers: /demo/start sends the browser to authorize with a fresh
// verifier; /demo/callback redeems the code at the real token endpoint (in process), calls
// userinfo, and shows the token response, the decoded ID token and the userinfo.
#pragma once

#include <functional>
#include <string>

#include "core/random.h"
#include "http/message.h"
#include "web/pages.h"
#include "core/paths.h"

namespace latchkey::app {

inline constexpr std::string_view kDemoAppName = "latchkey demo";
inline constexpr std::string_view kDemoUsername = "demo@localhost";
inline constexpr std::string_view kDemoPassword = "latchkey-demo";

class Demo {
 public:
  using Handler = std::function<http::Response(const http::Request&)>;
  // client_id empty: no demo app in this database.
  Demo(std::string issuer, std::string client_id, Random& random, const web::Pages& pages,
       Handler token_endpoint, Handler userinfo)
      : issuer_(std::move(issuer)),
        client_id_(std::move(client_id)),
        random_(random),
        pages_(pages),
        token_(std::move(token_endpoint)),
        userinfo_(std::move(userinfo)) {}

  bool available() const { return !client_id_.empty(); }
  std::string callback() const { return issuer_ + paths::kDemoCallback; }
  http::Response start(const http::Request& request);
  http::Response callback(const http::Request& request);

 private:
  // The result page for a settled token response: the decoded ID token and a userinfo call
  // with the new access token.
  http::Response result_page(const http::Response& token_response);

  std::string issuer_;
  std::string client_id_;
  Random& random_;
  const web::Pages& pages_;
  Handler token_;
  Handler userinfo_;
};

}  // namespace latchkey::app
