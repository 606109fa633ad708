#include "web/console_pages.h"

#include <kainjow/mustache.hpp>
#include <stdexcept>
#include <utility>

#include "web/assets.h"
#include "web/template.h"

namespace latchkey::web {
namespace {

namespace mustache = kainjow::mustache;

mustache::data flag(bool b) { return mustache::data{b}; }

// A list of objects, each made by `fill` from one item.
template <class T, class F>
mustache::data list(const std::vector<T>& items, F fill) {
  mustache::data out{mustache::data::type::list};
  for (const auto& item : items) {
    mustache::data d;
    fill(d, item);
    out.push_back(d);
  }
  return out;
}

mustache::data fields(const std::vector<ConsoleField>& items) {
  return list(items, [](mustache::data& d, const ConsoleField& f) {
    d.set("label", f.label);
    d.set("value", f.value);
  });
}

// The frame's values, which every page's template and the layout read.
mustache::data framed(const ConsoleFrame& f) {
  mustache::data d;
  d.set("csrf", f.csrf);
  d.set("admin", f.admin);
  d.set("notice", f.notice);
  d.set("has_notice", flag(!f.notice.empty()));
  d.set("error", f.error);
  d.set("has_error", flag(!f.error.empty()));
  return d;
}

}  // namespace

struct ConsolePages::Templates {
  mustache::mustache layout = parse_template("admin_layout.mustache");
  mustache::mustache login = parse_template("admin_login.mustache");
  mustache::mustache apps = parse_template("admin_apps.mustache");
  mustache::mustache secret = parse_template("admin_secret.mustache");
  mustache::mustache app = parse_template("admin_app.mustache");
  mustache::mustache users = parse_template("admin_users.mustache");
  mustache::mustache user = parse_template("admin_user.mustache");
  mustache::mustache keys = parse_template("admin_keys.mustache");
  mustache::mustache audit = parse_template("admin_audit.mustache");
  mustache::mustache error = parse_template("admin_error.mustache");
  std::string stylesheet = std::string(asset("style.css")) + std::string(asset("admin.css"));

  // As Pages does: each render works on a copy, kainjow's render() not being const.
  static std::string render(const mustache::mustache& tmpl, const mustache::data& data) {
    mustache::mustache copy = tmpl;
    return copy.render(data);
  }

  // `data` rendered by `tmpl` inside the layout, whose navigation shows when signed in. The
  // body is our own rendered HTML, the one value inserted unescaped ({{{body}}}).
  std::string page(const mustache::mustache& tmpl, const mustache::data& data,
                   const ConsoleFrame& frame, std::string_view title) const {
    mustache::data l = framed(frame);
    l.set("title", std::string(title));
    l.set("signed_in", flag(!frame.admin.empty()));
    l.set("body", render(tmpl, data));
    return render(layout, l);
  }
};

ConsolePages::ConsolePages() : templates_(std::make_unique<const Templates>()) {
  if (asset("style.css").empty() || asset("admin.css").empty()) {
    throw std::logic_error("web asset missing: style.css or admin.css");
  }
}
ConsolePages::~ConsolePages() = default;
ConsolePages::ConsolePages(ConsolePages&&) noexcept = default;
ConsolePages& ConsolePages::operator=(ConsolePages&&) noexcept = default;

std::string ConsolePages::login(const ConsoleLoginView& view) const {
  ConsoleFrame frame;
  frame.error = view.error;
  mustache::data d = framed(frame);
  d.set("csrf", view.csrf);
  return templates_->page(templates_->login, d, frame, "Admin console sign-in");
}

std::string ConsolePages::apps(const ConsoleAppsView& view) const {
  mustache::data d = framed(view.frame);
  d.set("apps", list(view.apps, [](mustache::data& o, const ConsoleAppRow& a) {
          o.set("client_id", a.client_id);
          o.set("name", a.name);
          o.set("auth_method", a.auth_method);
          o.set("scopes", a.scopes);
          o.set("href", a.href);
        }));
  d.set("has_apps", flag(!view.apps.empty()));
  d.set("more", flag(view.more));
  d.set("name", view.form.name);
  d.set("client_id", view.form.client_id);
  d.set("callbacks", view.form.callbacks);
  d.set("scopes", view.form.scopes);
  d.set("run_as", view.form.run_as);
  for (std::string_view m : {"client_secret_basic", "client_secret_post", "none"}) {
    d.set("method_" + std::string(m), flag(view.form.auth_method == m));
  }
  return templates_->page(templates_->apps, d, view.frame, "Apps");
}

std::string ConsolePages::secret(const ConsoleSecretView& view) const {
  mustache::data d = framed(view.frame);
  d.set("heading", view.heading);
  d.set("client_id", view.client_id);
  d.set("client_secret", view.client_secret);
  d.set("has_secret", flag(!view.client_secret.empty()));
  d.set("app_href", view.app_href);
  return templates_->page(templates_->secret, d, view.frame, view.heading);
}

std::string ConsolePages::app(const ConsoleAppView& view) const {
  mustache::data d = framed(view.frame);
  d.set("client_id", view.client_id);
  d.set("name", view.name);
  d.set("base", view.base);
  d.set("details", fields(view.details));
  d.set("uses_secret", flag(view.uses_secret));
  d.set("preauthorized", list(view.preauthorized, [](mustache::data& o, const auto& p) {
          o.set("kind", p.kind);
          o.set("name", p.name);
        }));
  d.set("has_preauthorized", flag(!view.preauthorized.empty()));
  d.set("approvals", list(view.approvals, [](mustache::data& o, const auto& a) {
          o.set("username", a.username);
          o.set("scopes", a.scopes);
          o.set("approved", a.approved);
        }));
  d.set("has_approvals", flag(!view.approvals.empty()));
  return templates_->page(templates_->app, d, view.frame, "App " + view.name);
}

std::string ConsolePages::users(const ConsoleUsersView& view) const {
  mustache::data d = framed(view.frame);
  d.set("users", list(view.users, [](mustache::data& o, const ConsoleUserRow& u) {
          o.set("username", u.username);
          o.set("email", u.email);
          o.set("profile", u.profile);
          o.set("href", u.href);
          o.set("active", flag(u.active));
        }));
  d.set("has_users", flag(!view.users.empty()));
  d.set("more", flag(view.more));
  d.set("username", view.form.username);
  d.set("name", view.form.name);
  d.set("email", view.form.email);
  d.set("profile", view.form.profile);
  return templates_->page(templates_->users, d, view.frame, "Users");
}

std::string ConsolePages::user(const ConsoleUserView& view) const {
  mustache::data d = framed(view.frame);
  d.set("username", view.username);
  d.set("base", view.base);
  d.set("details", fields(view.details));
  d.set("active", flag(view.active));
  return templates_->page(templates_->user, d, view.frame, "User " + view.username);
}

std::string ConsolePages::keys(const ConsoleKeysView& view) const {
  mustache::data d = framed(view.frame);
  d.set("keys", list(view.keys, [](mustache::data& o, const ConsoleKeyRow& k) {
          o.set("kid", k.kid);
          o.set("alg", k.alg);
          o.set("state", k.state);
          o.set("created", k.created);
        }));
  return templates_->page(templates_->keys, d, view.frame, "Signing keys");
}

std::string ConsolePages::audit(const ConsoleAuditView& view) const {
  mustache::data d = framed(view.frame);
  d.set("events",
        list(view.events, [](mustache::data& o, const std::string& e) { o.set("text", e); }));
  d.set("has_events", flag(!view.events.empty()));
  d.set("unavailable", view.unavailable);
  d.set("is_unavailable", flag(!view.unavailable.empty()));
  return templates_->page(templates_->audit, d, view.frame, "Audit log");
}

std::string ConsolePages::error(const ConsoleErrorView& view) const {
  const std::string title = view.title.empty() ? "Something went wrong" : view.title;
  mustache::data d = framed(view.frame);
  d.set("title", title);
  d.set("description", view.description);
  return templates_->page(templates_->error, d, view.frame, title);
}

std::string_view ConsolePages::stylesheet() const { return templates_->stylesheet; }

}  // namespace latchkey::web
