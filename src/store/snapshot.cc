#include "store/snapshot.h"

namespace latchkey::store {

Snapshot read_snapshot(Database& db) {
  Snapshot s;
  s.orgs = db.list_orgs();
  s.users = db.list_users();
  s.apps = db.list_apps();
  for (const App& app : s.apps) {
    for (Preauthorization& p : db.preauthorizations(app.client_id)) {
      s.preauthorizations.push_back(std::move(p));
    }
  }
  s.consents = db.list_all_consents();
  std::vector<SigningKeyRecord> newest_first = db.list_keys();
  s.keys.assign(newest_first.rbegin(), newest_first.rend());
  return s;
}

}  // namespace latchkey::store
