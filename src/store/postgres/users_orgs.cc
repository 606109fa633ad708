// OrgStore and UserStore.
#include "store/postgres/postgres_database.h"
#include "store/postgres/row_writes.h"

namespace latchkey::store::postgres {
namespace {

#define LK_ORG_COLUMNS "id, name, created_ms"
#define LK_USER_COLUMNS                                                                          \
  "id, org_id, username, email, first_name, last_name, password_hash, profile, permission_sets," \
  " active, created_ms"

Org read_org(const Result& r, int row) {
  return Org{r.text(row, 0), r.text(row, 1), r.int64(row, 2)};
}

User read_user(const Result& r, int row) {
  User u;
  u.id = r.text(row, 0);
  u.org_id = r.text(row, 1);
  u.username = r.text(row, 2);
  u.email = r.text(row, 3);
  u.first_name = r.text(row, 4);
  u.last_name = r.text(row, 5);
  u.password_hash = r.text(row, 6);
  u.profile = r.text(row, 7);
  u.permission_sets = r.list(row, 8);
  u.active = r.boolean(row, 9);
  u.created_ms = r.int64(row, 10);
  return u;
}

std::optional<User> one_user(const Result& r) {
  if (r.rows() == 0) return std::nullopt;
  return read_user(r, 0);
}

}  // namespace

void insert_org(Connection& conn, const Org& org) {
  conn.run("INSERT INTO orgs (" LK_ORG_COLUMNS ") VALUES ($1, $2, $3)",
           Params().text(org.id).text(org.name).int64(org.created_ms));
}

void PostgresDatabase::create_org(const Org& org) {
  write([&](Connection& conn) { insert_org(conn, org); });
}

std::optional<Org> PostgresDatabase::default_org() {
  return read([&](Connection& conn) -> std::optional<Org> {
    // seq breaks ties between orgs created in the same millisecond by insertion order.
    Result r = conn.run("SELECT " LK_ORG_COLUMNS " FROM orgs ORDER BY created_ms, seq LIMIT 1");
    if (r.rows() == 0) return std::nullopt;
    return read_org(r, 0);
  });
}

std::optional<Org> PostgresDatabase::find_org(const std::string& id) {
  return read([&](Connection& conn) -> std::optional<Org> {
    Result r = conn.run("SELECT " LK_ORG_COLUMNS " FROM orgs WHERE id = $1", Params().text(id));
    if (r.rows() == 0) return std::nullopt;
    return read_org(r, 0);
  });
}

std::vector<Org> PostgresDatabase::list_orgs() {
  return read([&](Connection& conn) {
    Result r = conn.run("SELECT " LK_ORG_COLUMNS " FROM orgs ORDER BY created_ms, seq");
    std::vector<Org> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_org(r, i));
    return out;
  });
}

bool insert_user(Connection& conn, const User& user) {
  // DO NOTHING on the (ASCII case-insensitive) username only: a clash of the random id is a
  // bug and still raises StoreError rather than passing for "username taken".
  return conn.run("INSERT INTO users (" LK_USER_COLUMNS
                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                  " ON CONFLICT ((lower(username COLLATE \"C\"))) DO NOTHING",
                  Params()
                      .text(user.id)
                      .text(user.org_id)
                      .text(user.username)
                      .text(user.email)
                      .text(user.first_name)
                      .text(user.last_name)
                      .text(user.password_hash)
                      .text(user.profile)
                      .list(user.permission_sets)
                      .boolean(user.active)
                      .int64(user.created_ms))
             .affected() == 1;
}

bool PostgresDatabase::create_user(const User& user) {
  return write([&](Connection& conn) { return insert_user(conn, user); });
}

std::optional<User> PostgresDatabase::find_user_by_username(const std::string& username) {
  return read([&](Connection& conn) {
    // The expression of the unique index users_by_username: ASCII letters compare caselessly.
    return one_user(
        conn.run("SELECT " LK_USER_COLUMNS
                 " FROM users WHERE lower(username COLLATE \"C\") = lower($1 COLLATE \"C\")",
                 Params().text(username)));
  });
}

std::optional<User> PostgresDatabase::find_user(const std::string& id) {
  return read([&](Connection& conn) {
    return one_user(
        conn.run("SELECT " LK_USER_COLUMNS " FROM users WHERE id = $1", Params().text(id)));
  });
}

std::vector<User> PostgresDatabase::list_users() {
  return read([&](Connection& conn) {
    Result r = conn.run("SELECT " LK_USER_COLUMNS " FROM users ORDER BY created_ms, seq");
    std::vector<User> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_user(r, i));
    return out;
  });
}

bool PostgresDatabase::update_user_access(const std::string& user_id, const std::string& profile,
                                          const std::vector<std::string>& permission_sets) {
  return write_announced(Change::user(user_id), [&](Connection& conn) -> int64_t {
           return conn
               .run("UPDATE users SET profile = $2, permission_sets = $3 WHERE id = $1",
                    Params().text(user_id).text(profile).list(permission_sets))
               .affected();
         }) == 1;
}

bool PostgresDatabase::set_user_active(const std::string& user_id, bool active) {
  return write_announced(Change::user(user_id), [&](Connection& conn) -> int64_t {
           return conn
               .run("UPDATE users SET active = $2 WHERE id = $1",
                    Params().text(user_id).boolean(active))
               .affected();
         }) == 1;
}

#undef LK_ORG_COLUMNS
#undef LK_USER_COLUMNS

}  // namespace latchkey::store::postgres
