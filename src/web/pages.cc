#include "web/pages.h"

#include <array>
#include <kainjow/mustache.hpp>
#include <stdexcept>
#include <utility>

#include "web/assets.h"
#include "web/template.h"
#include "web/json_pretty.h"

namespace latchkey::web {
namespace {

namespace mustache = kainjow::mustache;

struct ScopeDescription {
  std::string_view scope;
  std::string_view description;
};

// Salesforce's wording for connected-app OAuth scopes.
constexpr std::array<ScopeDescription, 20> kScopeDescriptions{{
    {"api", "Manage user data via APIs"},
    {"web", "Manage user data via Web browsers"},
    {"full", "Full access"},
    {"id", "Access the identity URL service"},
    {"openid", "Access unique user identifiers"},
    {"profile", "Access your basic information"},
    {"email", "Access your email address"},
    {"address", "Access your physical address"},
    {"phone", "Access your phone number"},
    {"refresh_token", "Perform requests at any time"},
    {"offline_access", "Perform requests at any time"},
    {"custom_permissions", "Access custom permissions"},
    {"chatter_api", "Access Connect REST API resources"},
    {"visualforce", "Access Visualforce applications"},
    {"lightning", "Access Lightning applications"},
    {"content", "Access content resources"},
    {"wave_api", "Access Analytics REST API resources"},
    {"eclair_api", "Access Analytics REST API Charts Geodata resources"},
    {"pardot_api", "Access Pardot services"},
    {"cdp_api", "Access Data Cloud API resources"},
}};

mustache::data hidden_fields(const std::vector<HiddenField>& fields) {
  mustache::data list{mustache::data::type::list};
  for (const auto& f : fields) {
    mustache::data item;
    item.set("name", f.name);
    item.set("value", f.value);
    list.push_back(item);
  }
  return list;
}

mustache::data flag(bool b) { return mustache::data{b}; }

}  // namespace

std::string describe_scope(std::string_view scope) {
  for (const auto& d : kScopeDescriptions) {
    if (d.scope == scope) return std::string(d.description);
  }
  return std::string(scope);
}

struct Pages::Templates {
  mustache::mustache layout = parse_template("layout.mustache");
  mustache::mustache login = parse_template("login.mustache");
  mustache::mustache consent = parse_template("consent.mustache");
  mustache::mustache error = parse_template("error.mustache");
  mustache::mustache landing = parse_template("landing.mustache");
  mustache::mustache demo_result = parse_template("demo_result.mustache");
  std::string_view stylesheet = asset("style.css");

  // kainjow's render() is not const (it records render errors in the template object), so
  // each call renders a private copy of the parsed template; the copy shares the immutable
  // parts and keeps concurrent renders independent.
  static std::string render(const mustache::mustache& tmpl, const mustache::data& data) {
    mustache::mustache copy = tmpl;
    return copy.render(data);
  }

  // Renders `page` and wraps it in the shared layout. The body is our own rendered HTML, so it
  // is the one value inserted unescaped ({{{body}}}); every view value went through {{ }}.
  std::string page(const mustache::mustache& tmpl, const mustache::data& data,
                   std::string_view title, std::string_view page_class) const {
    mustache::data layout_data;
    layout_data.set("title", std::string(title));
    layout_data.set("page_class", std::string(page_class));
    layout_data.set("body", render(tmpl, data));
    return render(layout, layout_data);
  }
};

Pages::Pages() : templates_(std::make_unique<const Templates>()) {
  if (templates_->stylesheet.empty()) throw std::logic_error("web asset missing: style.css");
}
Pages::~Pages() = default;
Pages::Pages(Pages&&) noexcept = default;
Pages& Pages::operator=(Pages&&) noexcept = default;

std::string Pages::login(const LoginView& view) const {
  mustache::data d;
  d.set("action", view.action);
  d.set("app_name", view.app_name);
  d.set("has_app_name", flag(!view.app_name.empty()));
  d.set("username", view.username);
  d.set("has_username", flag(!view.username.empty()));
  d.set("error", view.error);
  d.set("has_error", flag(!view.error.empty()));
  d.set("csrf", view.csrf);
  d.set("hidden", hidden_fields(view.hidden));
  return templates_->page(templates_->login, d, "Log In", "page-login");
}

std::string Pages::consent(const ConsentView& view) const {
  mustache::data scopes{mustache::data::type::list};
  for (const auto& s : view.scopes) {
    mustache::data item;
    item.set("name", s);
    item.set("description", describe_scope(s));
    scopes.push_back(item);
  }
  mustache::data d;
  d.set("action", view.action);
  d.set("app_name", view.app_name);
  d.set("username", view.username);
  d.set("csrf", view.csrf);
  d.set("scopes", scopes);
  d.set("has_scopes", flag(!view.scopes.empty()));
  d.set("hidden", hidden_fields(view.hidden));
  return templates_->page(templates_->consent, d, "Allow access?", "page-consent");
}

std::string Pages::error(const ErrorView& view) const {
  const std::string title = view.title.empty() ? "Something went wrong" : view.title;
  mustache::data d;
  d.set("title", title);
  d.set("code", view.code);
  d.set("has_code", flag(!view.code.empty()));
  d.set("description", view.description);
  d.set("has_description", flag(!view.description.empty()));
  return templates_->page(templates_->error, d, title, "page-error");
}

std::string Pages::landing(const LandingView& view) const {
  mustache::data d;
  d.set("issuer", view.issuer);
  d.set("demo_available", flag(view.demo_available));
  d.set("demo_start_url", view.demo_start_url);
  d.set("demo_username", view.demo_username);
  d.set("demo_password", view.demo_password);
  return templates_->page(templates_->landing, d, "OAuth 2.0 and OpenID Connect server",
                          "page-landing");
}

std::string Pages::demo_result(const DemoResultView& view) const {
  struct Section {
    std::string_view id, heading;
    const std::string& json;
  };
  const std::array<Section, 4> all{{
      {"token-response", "Token response", view.token_response_json},
      {"id-token-header", "ID token header", view.id_token_header_json},
      {"id-token-claims", "ID token claims", view.id_token_claims_json},
      {"userinfo", "Userinfo", view.userinfo_json},
  }};
  mustache::data sections{mustache::data::type::list};
  for (const auto& s : all) {
    if (s.json.empty()) continue;
    mustache::data item;
    item.set("id", std::string(s.id));
    item.set("heading", std::string(s.heading));
    item.set("json", pretty_json(s.json));
    sections.push_back(item);
  }
  mustache::data d;
  d.set("error", view.error);
  d.set("has_error", flag(!view.error.empty()));
  d.set("sections", sections);
  return templates_->page(templates_->demo_result, d, "Demo result", "page-demo");
}

std::string_view Pages::stylesheet() const { return templates_->stylesheet; }

}  // namespace latchkey::web
