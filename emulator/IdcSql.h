#pragma once
// Pure SQL text handling for the emulator's POST /v3/sql (API.md 3): the "one SELECT/WITH
// only" guard and the rewrite of IDC's table name `index`, a reserved word in SQLite.
//
// Table naming choice: the SQLite table is created as "index" (quoted) and every bare
// identifier token `index` in a query (outside literals, quoted names and comments; any case)
// is rewritten to "index", so `SELECT * FROM index` works as it does on IDC's DuckDB, and
// `FROM "index"` works unchanged. No state; safe from any thread.

#include <optional>
#include <string>

namespace emulator::idc {

/// nullopt when `sql` is exactly one statement starting with SELECT or WITH (leading comments
/// and whitespace allowed; trailing semicolons, whitespace and comments allowed); otherwise
/// the invalid_query message. Unterminated literals or comments are rejected too.
std::optional<std::string> sqlGuardError(const std::string& sql);

/// `sql` with each bare `index` identifier replaced by "index" (see above).
std::string rewriteIndexTable(const std::string& sql);

}  // namespace emulator::idc
