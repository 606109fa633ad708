#include "oauth/approval.h"

#include <algorithm>

namespace latchkey::oauth {

bool may_use(store::AppStore& apps, const store::App& app, const store::User& user) {
  if (!app.admin_approved_only) return true;
  for (const auto& p : apps.preauthorizations(app.client_id)) {
    using Kind = store::Preauthorization::Kind;
    if (p.kind == Kind::profile && p.name == user.profile) return true;
    if (p.kind == Kind::permission_set &&
        std::find(user.permission_sets.begin(), user.permission_sets.end(), p.name) !=
            user.permission_sets.end()) {
      return true;
    }
  }
  return false;
}

bool has_approved(store::AppStore& apps, store::ConsentStore& consents, const store::App& app,
                  const store::User& user) {
  if (app.admin_approved_only) return may_use(apps, app, user);
  return consents.find_consent(user.id, app.client_id).has_value();
}

}  // namespace latchkey::oauth
