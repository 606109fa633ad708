// Which requests the server may run on its I/O threads: those that never wait for a write of
// their own (their token or code write is awaited by the response instead), and never the
// password check of a posted login form.
#include <gtest/gtest.h>

#include <string>

#include "app/application.h"
#include "http/message.h"

namespace latchkey::app {
namespace {

http::Request request(std::string method, std::string path, std::string query = "") {
  http::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.target = r.path + (r.query.empty() ? "" : "?" + r.query);
  return r;
}

TEST(InlineRoutes, EveryGrantAndEveryReadOnlyEndpointRunsInline) {
  for (const char* path :
       {"/services/oauth2/token", "/services/oauth2/introspect", "/services/oauth2/userinfo",
        "/id/00Dx/005x", "/healthz", "/.well-known/openid-configuration", "/services/data/v59.0"}) {
    EXPECT_TRUE(Application::never_waits_on_disk(request("POST", path))) << path;
  }
}

// A client assertion or a JWT/SAML bearer assertion has its identifier recorded as used in
// the database before the grant goes on (store::ReplayStore): a durable write of its own.
TEST(InlineRoutes, RequestsCarryingAnAssertionDoNotRunInline) {
  for (const char* path : {"/services/oauth2/token", "/services/oauth2/introspect"}) {
    for (const char* body :
         {"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=x.y.z",
          "grant_type=client_credentials&client_assertion_type=t&client_assertion=x.y.z"}) {
      http::Request r = request("POST", path);
      r.body = body;
      EXPECT_FALSE(Application::never_waits_on_disk(r)) << path << " " << body;
    }
  }
}

// grant_type=password checks an Argon2id hash (tens of milliseconds of CPU), as a posted login
// form does; other grants whose body merely mentions "password" still run inline.
TEST(InlineRoutes, ThePasswordGrantDoesNotRunInline) {
  http::Request r = request("POST", "/services/oauth2/token");
  r.body = "grant_type=password&client_id=c&client_secret=s&username=u%40x&password=p";
  EXPECT_FALSE(Application::never_waits_on_disk(r));
  r.body = "client_id=c&password=p&grant_type=password";
  EXPECT_FALSE(Application::never_waits_on_disk(r));
  r.body = "grant_type=pass%77ord&client_id=c&client_secret=s&username=u&pass%77ord=p";
  EXPECT_FALSE(Application::never_waits_on_disk(r));
  r.body = "grant_type=client_credentials&client_id=c&client_secret=password";
  EXPECT_TRUE(Application::never_waits_on_disk(r));
  r.body = "grant_type=refresh_token&refresh_token=password";
  EXPECT_TRUE(Application::never_waits_on_disk(r));
}

TEST(InlineRoutes, AuthorizeRunsInlineUnlessItWritesTokensOrChecksAPassword) {
  const std::string authorize = "/services/oauth2/authorize";
  EXPECT_TRUE(Application::never_waits_on_disk(
      request("GET", authorize, "response_type=code&client_id=x")));
  EXPECT_TRUE(Application::never_waits_on_disk(
      request("GET", authorize, "response_type=code%20id_token&client_id=x")));
  EXPECT_FALSE(Application::never_waits_on_disk(
      request("GET", authorize, "response_type=token&client_id=x")));
  EXPECT_FALSE(Application::never_waits_on_disk(
      request("GET", authorize, "response_type=code+token&client_id=x")));
  EXPECT_FALSE(Application::never_waits_on_disk(
      request("GET", authorize, "response_type=id_token%20token")));
  EXPECT_FALSE(Application::never_waits_on_disk(request("POST", authorize)));
  EXPECT_FALSE(Application::never_waits_on_disk(request("POST", "/services/oauth2/revoke")));
}

// Every grant runs inline but the password grant and the assertion grants, the code exchange
// included: on a database across the network its code is read by the store's reader thread and
// awaited as the write is (oauth::TokenGrantHandler::reads_later), never on an I/O thread.
TEST(InlineRoutes, TheCodeExchangeRunsInline) {
  http::Request r = request("POST", "/services/oauth2/token");
  for (const char* body :
       {"grant_type=authorization_code&code=x&redirect_uri=y", "grant_type=client_credentials",
        "grant_type=refresh_token&refresh_token=x"}) {
    r.body = body;
    EXPECT_TRUE(Application::never_waits_on_disk(r)) << body;
  }
}

}  // namespace
}  // namespace latchkey::app
