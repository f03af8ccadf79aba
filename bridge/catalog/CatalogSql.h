#pragma once
// SQL plumbing shared by the catalog's pieces (internal to bridge/catalog): the filter key
// rule, exception translation, WHERE-clause building, typed SELECTs, upsert and staging SQL,
// a scoped transaction and the harvest page-cache bound. No state; every function takes the
// Session it works on.

#include "bridge/catalog/RecordBinding.h"
#include "bridge/catalog/SqlDialect.h"
#include "bridge/common/Error.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <cstdint>
#include <new>
#include <string>
#include <vector>

namespace bridge::catalog {

/// TCIA compares filter values case-insensitively (API.md 2.4): keys and comparisons use this.
std::string key(const std::string& s);

/// Epoch seconds -> DICOM DA (UTC).
std::string epochToDa(std::int64_t seconds);

/// Runs `body`, turning database exceptions into BridgeError(Internal).
template <class F>
auto guarded(const char* what, F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const BridgeError&) {
        throw;
    } catch (const Poco::Exception& e) {
        throw BridgeError(ErrorCode::Internal, std::string("catalog ") + what + ": " + e.displayText());
    } catch (const std::bad_alloc&) {
        throw;
    }
}

/// A condition list `upper(col) = $n` / `col = $n` with its parameters. Empty values add nothing.
struct Conditions {
    std::vector<std::string> sql;
    std::vector<std::string> params;

    void addCaseInsensitive(const char* column, const std::string& value);
    void addExact(const char* column, const std::string& value);
    /// " WHERE a AND b", or "" without conditions.
    std::string where() const;
};

/// Runs `sql` with `params` bound by position and returns the rows as records.
template <class R>
std::vector<R> selectRecords(Poco::Data::Session& s, const std::string& sql, std::vector<std::string>& params) {
    std::vector<R> rows;
    Poco::Data::Statement st(s);
    st << sql;
    for (auto& p : params) st.addBind(Poco::Data::Keywords::useRef(p));
    st.addExtract(Poco::Data::Keywords::into(rows));
    st.execute();
    return rows;
}

/// Runs `sql` (one text column) with `params` bound by position.
std::vector<std::string> selectStrings(Poco::Data::Session& s, const std::string& sql,
                                       std::vector<std::string>& params);

/// "INSERT INTO t (cols) VALUES ($1..) ON CONFLICT (pk) DO UPDATE SET c = excluded.c, ..."
std::string upsertSql(const std::string& table, const std::string& columns, const std::string& conflict);
const std::string& patientUpsertSql();
const std::string& studyUpsertSql();
const std::string& seriesUpsertSql();

/// "INSERT INTO table (columns) SELECT columns FROM table_staging WHERE harvest = $1 ON CONFLICT ..."
/// (SQLite wants the WHERE before an upsert's ON CONFLICT; PostgreSQL accepts it alike).
std::string upsertFromStagingSql(const std::string& table, const std::string& columns, const std::string& conflict);

/// "INSERT INTO table_staging (harvest, columns) VALUES ('id', $1, ...)"; the id is ours
/// (digits and dashes only), so it is written into the text.
std::string stagingInsertSql(const std::string& table, const std::string& columns, std::size_t count,
                             const std::string& stagingId);

/// Commits on success, rolls back when an exception leaves the scope.
class Transaction {
public:
    explicit Transaction(Poco::Data::Session& s) : session_(s) { session_.begin(); }
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Poco::Data::Session& session_;
    bool done_ = false;
};

/// SQLite: bounds the page cache of the session a harvest write runs on (staging batches and
/// the commit that copies a collection), restored afterwards. Harvest writes walk tables and
/// indexes once; a 64 MiB cache per pooled connection (CatalogDatabase) would only add to the
/// bridge's peak RSS while it harvests (bench row 6d, goal < 150 MB). Lowering cache_size
/// releases the pages above the new bound at once.
class HarvestCacheBound {
public:
    HarvestCacheBound(Poco::Data::Session& s, SqlDialect dialect);
    ~HarvestCacheBound();
    HarvestCacheBound(const HarvestCacheBound&) = delete;
    HarvestCacheBound& operator=(const HarvestCacheBound&) = delete;

private:
    Poco::Data::Session& session_;
    bool active_;
};

}  // namespace bridge::catalog
