#pragma once
// The two SQL back ends of the catalog. The catalog's SQL is written once, in the subset both
// accept (ON CONFLICT upserts, expression indexes, `$n` placeholders -- SQLite reads `$1` as a
// named parameter bound by position, PostgreSQL natively); the few places where they differ ask
// for the dialect.

namespace bridge {

enum class SqlDialect {
    Sqlite,
    PostgreSql,
};

}  // namespace bridge
