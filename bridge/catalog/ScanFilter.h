#pragma once
// Translation of a Query's matching keys into a SQL pre-filter for the catalog's broad scans.
//
// Pure and thread-safe. The result is a WHERE clause (without the keyword) over one of the
// catalog tables (patients, studies or series, unaliased) plus its string parameters, numbered
// `$first`, `$first+1`, ... The clause selects a SUPERSET of the records that the PS3.4 matcher
// (bridge/query/Matcher.h) accepts: a key is pushed into SQL only where the translation can
// never drop a match (ASCII values, upper-cased comparisons, trailing-space tolerant patterns);
// everything else is left to the query engine, which re-applies exact matching.
//
// `exact` is true when every matching key of the query was pushed with exactly the matcher's
// semantics; only then may the caller apply ORDER BY + LIMIT for Query::limit.

#include "bridge/catalog/SqlDialect.h"
#include "bridge/query/Query.h"

#include <cstddef>
#include <string>
#include <vector>

namespace bridge {

struct ScanFilter {
    std::string where = "1=1";         ///< SQL condition, never empty
    std::vector<std::string> params;   ///< bound as text, in placeholder order
    bool exact = true;                 ///< the SQL filter equals PS3.4 matching for all keys
};

/// Builds the pre-filter for a scan at `level` (Patient, Study or Series; Image is not scanned).
/// `collections`: restrict to these collection names (compared case-insensitively); empty
/// vector = no restriction. Never throws for odd values: what it cannot translate it leaves
/// to the engine (and clears `exact`).
ScanFilter buildScanFilter(const Query& query, QueryLevel level, const std::vector<std::string>& collections,
                           SqlDialect dialect, std::size_t firstParameter = 1);

/// DICOM wildcard pattern -> SQL LIKE pattern for `LIKE ... ESCAPE '\'`: `*` -> `%`, `?` -> `_`,
/// and `%`, `_`, `\` escaped with a backslash. ASCII letters are upper-cased.
std::string wildcardToLikePattern(const std::string& dicomPattern);

/// ASCII upper-casing (the same as SQLite's built-in upper()); other bytes unchanged.
std::string asciiUpper(std::string text);

}  // namespace bridge
