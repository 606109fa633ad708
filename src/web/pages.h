// Server-rendered HTML pages: login, consent, error, landing and the demo result.
//
// Templates and the stylesheet are compiled into the binary (src/web/templates, see assets.h)
// and parsed once when Pages is constructed. Every dynamic value is HTML-escaped by the
// templates ({{ }}), so views may carry untrusted strings such as app names, usernames or
// authorize parameters. No page contains scripts or external resources: the pages are served
// under a Content-Security-Policy that forbids both.
//
// Thread safety: Pages is immutable after construction; all methods may be called
// concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::web {

// A parameter carried through a form unchanged, e.g. the authorize request's client_id.
struct HiddenField {
  std::string name, value;
};

struct LoginView {
  std::string action;               // form action URL (POST)
  std::string app_name;             // "Sign in to continue to {app}"
  std::string username;             // prefilled (login_hint or previous attempt)
  std::string error;                // "" or e.g. "Please check your username and password."
  std::string csrf;                 // hidden input name="csrf"
  std::vector<HiddenField> hidden;  // carried authorize parameters
};

struct ConsentView {
  std::string action, app_name, username, csrf;
  std::vector<std::string> scopes;  // scope names; described in words via describe_scope
  std::vector<HiddenField> hidden;
};

// Authorize-time errors that must not redirect (docs/behaviour.md §5.1), e.g. redirect_uri_mismatch
// / "redirect_uri must match configuration". The page never links back to the client.
struct ErrorView {
  std::string title, code, description;
};

struct LandingView {
  std::string issuer;
  bool demo_available = false;
  std::string demo_start_url;
  std::string demo_username;
  std::string demo_password;
};

// JSON texts are shown pretty-printed; an empty text leaves its section out.
struct DemoResultView {
  std::string token_response_json, id_token_header_json, id_token_claims_json, userinfo_json, error;
};

// Salesforce's description of a scope in words ("api" -> "Manage user data via APIs");
// an unknown scope is described by its own name.
[[nodiscard]] std::string describe_scope(std::string_view scope);

class Pages {
 public:
  // Parses every template. Throws std::logic_error if an embedded template is missing or
  // malformed; that is a build defect, found at start-up and by the unit tests.
  Pages();
  ~Pages();
  Pages(Pages&&) noexcept;
  Pages& operator=(Pages&&) noexcept;
  Pages(const Pages&) = delete;
  Pages& operator=(const Pages&) = delete;

  [[nodiscard]] std::string login(const LoginView& view) const;
  [[nodiscard]] std::string consent(const ConsentView& view) const;
  [[nodiscard]] std::string error(const ErrorView& view) const;
  [[nodiscard]] std::string landing(const LandingView& view) const;
  [[nodiscard]] std::string demo_result(const DemoResultView& view) const;
  // style.css, served at /static/style.css. Views the binary's static data.
  [[nodiscard]] std::string_view stylesheet() const;

 private:
  struct Templates;
  std::unique_ptr<const Templates> templates_;
};

}  // namespace latchkey::web
