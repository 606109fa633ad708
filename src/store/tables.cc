#include "store/tables.h"

namespace latchkey::store {

std::string count_rows_sql() {
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < kTableNames.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += "(SELECT count(*) FROM ";
    sql += kTableNames[i];
    sql += ")";
  }
  return sql;
}

}  // namespace latchkey::store
