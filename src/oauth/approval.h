// The connected-app approval model: "all users may self-authorize" apps are usable by a user
// who approved them (consent recorded in the web flow); "admin approved users are
// pre-authorized" apps only by users whose profile or a permission set was pre-authorized.
#pragma once

#include "store/stores.h"

namespace latchkey::oauth {

// Admin-approved apps: the user is covered by a pre-authorization. Self-authorize apps: true.
bool may_use(store::AppStore& apps, const store::App& app, const store::User& user);

// For flows without a person to ask (JWT and SAML bearer): the user is pre-authorized for an
// admin-approved app, or has approved a self-authorize app before.
bool has_approved(store::AppStore& apps, store::ConsentStore& consents, const store::App& app,
                  const store::User& user);

}  // namespace latchkey::oauth
