// StoreConformance: HealthStore::ping, what GET /readyz asks (docs/behaviour.md §4).
#include "conformance.h"

namespace latchkey::store::testing {
namespace {

// A fresh database, one with rows in it, and another handle on it (another node, a restart)
// all answer.
TEST_P(StoreConformance, PingAnswersOnAFreshDatabaseAndFromEveryHandle) {
  EXPECT_NO_THROW(db().ping());
  db().create_org(sample_org("00D000000000001", 1));
  EXPECT_NO_THROW(db().ping());
  if (GetParam().persistent) {
    auto other = open_again();
    EXPECT_NO_THROW(other->ping());
    EXPECT_EQ(other->default_org()->id, "00D000000000001");
  }
}

}  // namespace
}  // namespace latchkey::store::testing
