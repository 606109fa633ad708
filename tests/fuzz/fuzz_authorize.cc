// Authorization request validation (src/oauth/authorize/authorize_request.h) on the form
// decoding of the input, against an in-memory store holding one app (fuzz_world.h; $CLIENT_ID
// in the input names it).
//
// Invariants (RFC 6749 §4.1.2.1, RFC 9700 §4.11): exactly one of request and error; an error is
// redirected only to a callback registered for the app the request names, and a request only
// ever carries such a callback; granted scopes are scopes the app has.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_world.h"
#include "http/params.h"
#include "oauth/authorize/authorize_request.h"

namespace {

using namespace latchkey;

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& world = fuzz::World::get();
  const std::string input =
      world.expand(std::string_view(reinterpret_cast<const char*>(data), size));
  auto params = http::parse_form(input);
  if (!params.ok()) return 0;

  const oauth::AuthorizeParse r = oauth::parse_authorize(*params, *world.db);
  if (r.request.has_value() == r.error.has_value()) fuzz::fail("not exactly one of request/error");

  const auto app = world.db->find_app(std::string(params->value("client_id")));
  if (r.request) {
    if (!app || r.request->app.client_id != app->client_id) fuzz::fail("request for another app");
    if (!contains(app->callbacks, r.request->redirect_uri)) {
      fuzz::fail("request carries an unregistered redirect_uri");
    }
    for (const auto& s : r.request->scopes) {
      if (!contains(app->scopes, s)) fuzz::fail("granted a scope the app does not have");
    }
    if (r.request->wants_code && r.request->wants_token) fuzz::fail("code and token together");
    if ((r.request->wants_token || r.request->wants_id_token) && !app->allow_implicit) {
      fuzz::fail("front-channel tokens for an app that does not allow them");
    }
  } else if (r.error->redirect) {
    // The open redirector check: never redirect to anything the app did not register.
    if (!app || !contains(app->callbacks, r.error->redirect_uri)) {
      fuzz::fail("error redirected to an unregistered redirect_uri");
    }
  } else if (!r.error->redirect_uri.empty()) {
    fuzz::fail("page error with a redirect_uri");
  }
  return 0;
}
