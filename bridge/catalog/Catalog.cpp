#include "bridge/catalog/Catalog.h"

#include "bridge/catalog/CatalogDatabase.h"
#include "bridge/catalog/RecordBinding.h"
#include "bridge/catalog/ScanFilter.h"
#include "bridge/common/Error.h"
#include "bridge/common/Text.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <sstream>

#include <unistd.h>

using namespace Poco::Data::Keywords;
using Poco::Data::Session;
using Poco::Data::Statement;

namespace bridge {
namespace {

/// TCIA compares filter values case-insensitively (API.md 2.4): keys and comparisons use this.
std::string key(const std::string& s) { return asciiUpper(trimSpaces(s)); }

/// The identity of calls made without credentials (Catalog::setIdentity).
const char* const kAnonymousIdentity = "anonymous";
/// Until setIdentity: the catalog's own answers are never taken for the anonymous ones.
const char* const kUnspecifiedIdentity = "unspecified";

std::string epochToDa(std::int64_t seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
    return buf;
}

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

/// A condition list `upper(col) = $n` / `col = $n` with its parameters.
struct Conditions {
    std::vector<std::string> sql;
    std::vector<std::string> params;

    void addCaseInsensitive(const char* column, const std::string& value) {
        if (trimSpaces(value).empty()) return;
        params.push_back(key(value));
        sql.push_back(std::string("upper(") + column + ") = $" + std::to_string(params.size()));
    }
    void addExact(const char* column, const std::string& value) {
        if (trimSpaces(value).empty()) return;
        params.push_back(trimSpaces(value));
        sql.push_back(std::string(column) + " = $" + std::to_string(params.size()));
    }
    std::string where() const {
        if (sql.empty()) return "";
        std::string out = " WHERE ";
        for (std::size_t i = 0; i < sql.size(); ++i) out += (i ? " AND " : "") + sql[i];
        return out;
    }
};

template <class R>
std::vector<R> selectRecords(Session& s, const std::string& sql, std::vector<std::string>& params) {
    std::vector<R> rows;
    Statement st(s);
    st << sql;
    for (auto& p : params) st.addBind(useRef(p));
    st.addExtract(into(rows));
    st.execute();
    return rows;
}

std::vector<std::string> selectStrings(Session& s, const std::string& sql, std::vector<std::string>& params) {
    std::vector<std::string> rows;
    Statement st(s);
    st << sql;
    for (auto& p : params) st.addBind(useRef(p));
    st.addExtract(into(rows));
    st.execute();
    return rows;
}

/// "INSERT INTO t (cols) VALUES ($1..) ON CONFLICT (pk) DO UPDATE SET c = excluded.c, ..."
std::string upsertSql(const std::string& table, const std::string& columns, const std::string& conflict) {
    std::vector<std::string> names;
    std::stringstream in(columns);
    std::string c;
    while (std::getline(in, c, ',')) names.push_back(trimSpaces(c));
    std::string sql = "INSERT INTO " + table + " (" + columns + ") VALUES (";
    for (std::size_t i = 0; i < names.size(); ++i) sql += (i ? ", $" : "$") + std::to_string(i + 1);
    sql += ") ON CONFLICT (" + conflict + ") DO UPDATE SET ";
    bool first = true;
    for (const auto& n : names) {
        if (conflict.find(n) != std::string::npos) continue;
        sql += (first ? "" : ", ") + n + " = excluded." + n;
        first = false;
    }
    return sql;
}

const std::string& patientUpsertSql() {
    static const std::string sql = upsertSql("patients", catalog::kPatientColumns, "collection, patient_id");
    return sql;
}
const std::string& studyUpsertSql() {
    static const std::string sql = upsertSql("studies", catalog::kStudyColumns, "study_uid");
    return sql;
}
const std::string& seriesUpsertSql() {
    static const std::string sql = upsertSql("series", catalog::kSeriesColumns, "series_uid");
    return sql;
}

/// Commits on success, rolls back when an exception leaves the scope.
class Transaction {
public:
    explicit Transaction(Session& s) : session_(s) { session_.begin(); }
    ~Transaction() {
        if (!done_) {
            try {
                session_.rollback();
            } catch (...) {
            }
        }
    }
    void commit() {
        session_.commit();
        done_ = true;
    }

private:
    Session& session_;
    bool done_ = false;
};

/// SQLite: bounds the page cache of the session a harvest write runs on (staging batches and
/// the commit that copies a collection), restored afterwards. Harvest writes walk tables and
/// indexes once; a 64 MiB cache per pooled connection (CatalogDatabase) would only add to the
/// bridge's peak RSS while it harvests (bench row 6d, goal < 150 MB). Lowering cache_size
/// releases the pages above the new bound at once.
class HarvestCacheBound {
public:
    HarvestCacheBound(Session& s, SqlDialect dialect) : session_(s), active_(dialect == SqlDialect::Sqlite) {
        if (active_) session_ << "PRAGMA cache_size=-16384", Poco::Data::Keywords::now;
    }
    ~HarvestCacheBound() {
        if (!active_) return;
        try {
            session_ << "PRAGMA cache_size=-65536", Poco::Data::Keywords::now;  // CatalogDatabase's value
        } catch (...) {
        }
    }

private:
    Session& session_;
    bool active_;
};

struct CollectionState {
    std::string name;
    bool harvested = false;
    std::int64_t freshAt = 0;  ///< max(harvested_at, refreshed_at)
    bool listed = false;
    std::int64_t studiesAt = 0;  ///< study level harvested (harvest_state), 0 = never
};

/// "INSERT INTO table (columns) SELECT columns FROM table_staging WHERE harvest = $1 ON CONFLICT ..."
/// (SQLite wants the WHERE before an upsert's ON CONFLICT; PostgreSQL accepts it alike).
std::string upsertFromStagingSql(const std::string& table, const std::string& columns, const std::string& conflict) {
    const std::string upsert = upsertSql(table, columns, conflict);
    const std::string onConflict = upsert.substr(upsert.find(" ON CONFLICT"));
    return "INSERT INTO " + table + " (" + columns + ") SELECT " + columns + " FROM " + table +
           "_staging WHERE harvest = $1" + onConflict;
}

/// "INSERT INTO table_staging (harvest, columns) VALUES ('id', $1, ...)"; the id is ours
/// (digits and dashes only), so it is written into the text.
std::string stagingInsertSql(const std::string& table, const std::string& columns, std::size_t count,
                             const std::string& stagingId) {
    std::string sql = "INSERT INTO " + table + "_staging (harvest, " + columns + ") VALUES ('" + stagingId + "'";
    for (std::size_t i = 1; i <= count; ++i) sql += ", $" + std::to_string(i);
    return sql + ")";
}

}  // namespace

struct Catalog::Impl {
    Impl(const CatalogSettings& s, const CacheSettings& c, tcia::TciaApi& api) : settings(s), database(s, c), tcia(api) {}

    CatalogSettings settings;
    CatalogDatabase database;
    tcia::TciaApi& tcia;
    std::shared_ptr<tcia::TciaApi> anonymous;
    std::atomic<bool> partialScans{false};
    /// Who `tcia` is to TCIA (see Catalog::setIdentity): prefixes every query_cache key.
    std::string identity = kUnspecifiedIdentity;
    std::mutex clockMutex;
    std::function<std::int64_t()> clock = [] {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    };

    std::int64_t currentTime() {
        std::lock_guard<std::mutex> lock(clockMutex);
        return clock();
    }
    std::int64_t ttl() const { return settings.ttl.count(); }
    bool isFresh(std::int64_t at) { return at > 0 && ttl() > 0 && at + ttl() > currentTime(); }

    // ---- query_cache ----
    // Every key is "<identity>|<call>": an answer fetched with one set of credentials never
    // answers the same call made with another (anonymous vs token, or two accounts).
    bool freshCall(Session& s, const std::string& callKey) { return freshCallAs(s, identity, callKey); }
    bool freshCallAs(Session& s, const std::string& who, const std::string& callKey) {
        std::vector<std::string> params{who + "|" + callKey};
        std::vector<Poco::Int64> at;
        Statement st(s);
        st << "SELECT answered_at FROM query_cache WHERE call_key = $1", useRef(params[0]), into(at);
        st.execute();
        return !at.empty() && isFresh(at.front());
    }
    /// Caller holds the write mutex.
    void recordCall(Session& s, const std::string& callKey, const std::string& collection) {
        recordCallAs(s, identity, callKey, collection);
    }
    /// Caller holds the write mutex. Keeps query_cache within settings.maxCachedCalls rows:
    /// expired rows go first, then the oldest answers (they are merely asked again).
    void recordCallAs(Session& s, const std::string& who, const std::string& callKey, const std::string& collection) {
        std::string k = who + "|" + callKey, c = key(collection);
        Poco::Int64 t = currentTime();
        s << "INSERT INTO query_cache (call_key, collection, answered_at) VALUES ($1, $2, $3)"
             " ON CONFLICT (call_key) DO UPDATE SET collection = excluded.collection, answered_at = excluded.answered_at",
            use(k), use(c), use(t), now;
        boundCallCache(s);
    }
    void boundCallCache(Session& s) {
        if (ttl() > 0) {
            Poco::Int64 expired = currentTime() - ttl();
            s << "DELETE FROM query_cache WHERE answered_at <= $1", use(expired), now;
        }
        Poco::Int64 rows = 0;
        s << "SELECT count(*) FROM query_cache", into(rows), now;
        const auto max = static_cast<Poco::Int64>(std::max<std::size_t>(1, settings.maxCachedCalls));
        if (rows <= max) return;
        Poco::Int64 excess = rows - max;
        s << "DELETE FROM query_cache WHERE call_key IN"
             " (SELECT call_key FROM query_cache ORDER BY answered_at, call_key LIMIT $1)",
            use(excess), now;
    }

    // ---- collection lists per identity ----
    /// The collections() answer of `api`, which calls TCIA as `who`: from collection_lists
    /// while fresh (TTL), else fetched and stored. When the fetch fails (TCIA down) and
    /// `staleOnFailure`, the last stored list of that identity is used; with none stored the
    /// error propagates (nothing to fall back on: fail closed).
    std::vector<std::string> listAs(const std::string& who, tcia::TciaApi& api, bool staleOnFailure, const RequestContext& context) {
        const bool fresh = guarded("collections", [&] {
            Session s = database.session();
            return freshCallAs(s, who, "collections");
        });
        if (fresh) return storedList(who);
        std::vector<std::string> names;
        try {
            names = api.collections(context);
        } catch (const BridgeError& e) {
            if (!staleOnFailure || e.code() == ErrorCode::Internal) throw;
            const bool stored = guarded("collections", [&] {
                Session s = database.session();
                return meta(s, "collections_listed|" + who) == "1";
            });
            if (!stored) throw;
            return storedList(who);
        }
        storeList(who, names);
        std::sort(names.begin(), names.end());
        return names;
    }
    std::vector<std::string> storedList(const std::string& who) {
        return guarded("collections", [&] {
            Session s = database.session();
            std::vector<std::string> params{who};
            return selectStrings(s, "SELECT name FROM collection_lists WHERE identity = $1 ORDER BY name", params);
        });
    }
    void storeList(const std::string& who, const std::vector<std::string>& names) {
        guarded("store collections", [&] {
            Session s = database.session();
            std::lock_guard<std::mutex> lock(database.writeMutex());
            Transaction tx(s);
            std::string w = who;
            s << "DELETE FROM collection_lists WHERE identity = $1", use(w), now;
            std::set<std::string> seen;
            for (const auto& n : names) {
                if (trimSpaces(n).empty() || !seen.insert(key(n)).second) continue;
                std::string name = n;
                s << "INSERT INTO collection_lists (identity, name) VALUES ($1, $2)", use(w), use(name), now;
            }
            if (who == identity) {
                // The `listed` flags (allHarvestedFresh) follow this replica's own list.
                s << "UPDATE collections SET listed = 0", now;
                for (const auto& n : names) {
                    std::string name = n, upper = key(n);
                    s << "UPDATE collections SET listed = 1 WHERE upper(name) = $1", use(upper), now;
                    s << "INSERT INTO collections (name, listed) SELECT $1, 1 WHERE NOT EXISTS"
                         " (SELECT 1 FROM collections WHERE upper(name) = $2)",
                        use(name), use(upper), now;
                }
            }
            recordCallAs(s, who, "collections", "");
            setMeta(s, "collections_listed|" + who, "1");
            tx.commit();
            invalidateStates();
        });
    }

    // ---- collections table ----
    // The collections table is read by every lazy call (is this collection harvested?). It is
    // small and changes rarely: keep it in memory, reloaded after our own writes and at most
    // kStatesMaxAge after another process's (a `sync` next to the running bridge).
    static constexpr std::chrono::seconds kStatesMaxAge{2};
    std::mutex statesMutex;
    std::vector<CollectionState> states;
    std::chrono::steady_clock::time_point statesLoadedAt;
    bool statesValid = false;
    std::uint64_t statesGeneration = 0;  ///< bumped by each invalidation

    void invalidateStates() {
        std::lock_guard<std::mutex> lock(statesMutex);
        statesValid = false;
        ++statesGeneration;
    }

    std::vector<CollectionState> collectionStates(Session& s) {
        std::uint64_t generation;
        {
            std::lock_guard<std::mutex> lock(statesMutex);
            if (statesValid && std::chrono::steady_clock::now() - statesLoadedAt < kStatesMaxAge) return states;
            generation = statesGeneration;
        }
        const auto loadedAt = std::chrono::steady_clock::now();
        std::vector<std::string> names;
        std::vector<int> harvested, listed;
        std::vector<Poco::Int64> harvestedAt, refreshedAt, studiesAt;
        s << "SELECT c.name, c.harvested_complete, c.harvested_at, c.refreshed_at, c.listed,"
             " coalesce(h.studies_at, 0) FROM collections c LEFT JOIN harvest_state h ON h.collection = upper(c.name)",
            into(names), into(harvested), into(harvestedAt), into(refreshedAt), into(listed), into(studiesAt), now;
        std::vector<CollectionState> out(names.size());
        for (std::size_t i = 0; i < names.size(); ++i)
            out[i] = {names[i], harvested[i] != 0, std::max(harvestedAt[i], refreshedAt[i]), listed[i] != 0,
                      studiesAt[i]};
        std::lock_guard<std::mutex> lock(statesMutex);
        if (generation == statesGeneration) {  // no write committed while we read: keep it
            states = out;
            statesLoadedAt = loadedAt;
            statesValid = true;
        }
        return out;
    }
    bool harvestedFresh(Session& s, const std::string& collection) {
        const std::string k = key(collection);
        for (const auto& c : collectionStates(s))
            if (key(c.name) == k) return c.harvested && isFresh(c.freshAt);
        return false;
    }
    bool allHarvestedFresh(Session& s) {
        if (!freshCall(s, "collections")) return false;
        bool any = false;
        for (const auto& c : collectionStates(s)) {
            if (!c.listed) continue;
            any = true;
            if (!c.harvested || !isFresh(c.freshAt)) return false;
        }
        return any;
    }
    /// Every collection the rows with `column = uid` belong to is harvested and fresh (and
    /// there is at least one such row): the catalog holds the complete answer for that UID.
    bool uidInFreshHarvest(Session& s, const char* table, const char* column, const std::string& uid) {
        if (trimSpaces(uid).empty()) return false;
        std::vector<std::string> params{trimSpaces(uid)};
        const auto collections = selectStrings(
            s, std::string("SELECT DISTINCT collection FROM ") + table + " WHERE " + column + " = $1", params);
        if (collections.empty()) return false;
        for (const auto& c : collections)
            if (!harvestedFresh(s, c)) return false;
        return true;
    }
    /// Caller holds the write mutex. Adds collection rows for record collections not known yet,
    /// so that the collections table lists every collection present in the record tables.
    void ensureCollections(Session& s, const std::set<std::string>& names) {
        for (const auto& n : names) {
            if (trimSpaces(n).empty()) continue;
            std::string name = n, upper = key(n);
            s << "INSERT INTO collections (name) SELECT $1 WHERE NOT EXISTS"
                 " (SELECT 1 FROM collections WHERE upper(name) = $2)",
                use(name), use(upper), now;
        }
    }

    template <class R>
    void upsert(Session& s, const std::string& sql, const std::vector<R>& rows) {
        if (rows.empty()) return;
        std::set<std::string> names;
        for (const auto& r : rows) names.insert(r.collection);
        ensureCollections(s, names);
        // use() wants a non-const container to pick the row-by-row Binding<std::vector<T>>
        // (useRef would select bulk binding); the binding only reads it.
        s << sql, use(const_cast<std::vector<R>&>(rows)), now;
    }

    /// The lazy fill shared by patients/studies/series: answer from the database when this exact
    /// call is fresh, the filter's collection (or every collection) is freshly harvested, or
    /// `uidFresh` says a filtered UID lies in a fresh harvest; otherwise ask TCIA through `fetch`
    /// and store the rows with the call. Blocking (database, then maybe TCIA).
    template <class R, class Fetch>
    std::vector<R> lazyFill(const char* what, const char* storeWhat, const std::string& callKey,
                            const std::string& collection, const std::function<bool(Session&)>& uidFresh,
                            Conditions c, const std::string& select, const std::string& orderBy,
                            const std::string& upsertSql, Fetch&& fetch) {
        auto local = guarded(what, [&]() -> std::optional<std::vector<R>> {
            Session s = database.session();
            const bool answerable = freshCall(s, callKey) ||
                                    (!trimSpaces(collection).empty() && harvestedFresh(s, collection)) ||
                                    uidFresh(s) || allHarvestedFresh(s);
            if (!answerable) return std::nullopt;
            return selectRecords<R>(s, select + c.where() + orderBy, c.params);
        });
        if (local) return std::move(*local);
        auto rows = fetch();
        guarded(storeWhat, [&] {
            Session s = database.session();
            std::lock_guard<std::mutex> lock(database.writeMutex());
            Transaction tx(s);
            upsert(s, upsertSql, rows);
            recordCall(s, callKey, collection);
            tx.commit();
            invalidateStates();
        });
        return rows;
    }

    std::string meta(Session& s, const std::string& name) {
        std::vector<std::string> params{name};
        const auto v = selectStrings(s, "SELECT value FROM catalog_meta WHERE name = $1", params);
        return v.empty() ? std::string() : v.front();
    }
    void setMeta(Session& s, const std::string& name, const std::string& value) {
        std::string n = name, v = value;
        s << "INSERT INTO catalog_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            use(n), use(v), now;
    }

    /// Row count of an index's table as of the last ANALYZE (sqlite_stat1), 0 when unknown.
    static std::int64_t statRows(Session& s, const char* index) {
        try {
            std::vector<std::string> params{index};
            const auto stat = selectStrings(s, "SELECT stat FROM sqlite_stat1 WHERE idx = $1", params);
            return stat.empty() ? 0 : std::stoll(stat.front());
        } catch (const std::exception&) {
            return 0;  // no ANALYZE yet: sqlite_stat1 does not exist
        }
    }

    /// PATIENT and STUDY scans need the study level (patients + studies); SERIES scans the
    /// series level (harvested completely).
    static bool coversLevel(const CollectionState& c, QueryLevel level) {
        return c.harvested || (level != QueryLevel::Series && level != QueryLevel::Image && c.studiesAt > 0);
    }

    /// Caller holds the write mutex. Records a level of a collection's harvest in harvest_state.
    void recordLevel(Session& s, const std::string& collection, bool studyLevel, bool seriesLevel) {
        std::string upper = key(collection);
        Poco::Int64 at = currentTime();
        s << "INSERT INTO harvest_state (collection) VALUES ($1) ON CONFLICT (collection) DO NOTHING", use(upper), now;
        if (studyLevel) {
            Poco::Int64 patients = 0, studies = 0;
            s << "SELECT count(*) FROM patients WHERE upper(collection) = $1", use(upper), into(patients), now;
            s << "SELECT count(*) FROM studies WHERE upper(collection) = $1", use(upper), into(studies), now;
            s << "UPDATE harvest_state SET studies_at = $1, patients = $2, studies = $3, error = '' WHERE collection = $4",
                use(at), use(patients), use(studies), use(upper), now;
        }
        if (seriesLevel) {
            Poco::Int64 series = 0;
            s << "SELECT count(*) FROM series WHERE upper(collection) = $1", use(upper), into(series), now;
            s << "UPDATE harvest_state SET series_at = $1, series = $2, error = '' WHERE collection = $3", use(at),
                use(series), use(upper), now;
        }
    }

    template <class R>
    std::optional<std::vector<R>> scan(const Query& query, QueryLevel level, const std::vector<std::string>& requested,
                                       const char* table, const char* columns, const std::vector<std::string>& orderBy,
                                       const char* orderIndex) {
        return guarded("scan", [&]() -> std::optional<std::vector<R>> {
            if (requested.empty()) return std::vector<R>{};
            Session s = database.session();
            std::map<std::string, bool> harvested;  // upper name -> harvested at the level this scan needs
            for (const auto& c : collectionStates(s)) harvested[key(c.name)] = coversLevel(c, level);
            std::set<std::string> wanted;
            for (const auto& c : requested) {
                const auto it = harvested.find(key(c));
                if (it == harvested.end() || !it->second) {
                    // While a harvest runs, answer from what is there (scanIncompleteness()
                    // told the engine so); otherwise refuse rather than answer partially.
                    if (!partialScans) return std::nullopt;
                    continue;
                }
                wanted.insert(key(c));
            }
            if (wanted.empty()) return std::vector<R>{};
            // The collections table lists every collection present in the record tables
            // (ensureCollections), so when all of them are wanted the IN list can go.
            std::vector<std::string> restrict;
            if (wanted.size() < harvested.size()) restrict.assign(wanted.begin(), wanted.end());
            ScanFilter filter = buildScanFilter(query, level, restrict, database.dialect());
            std::string from = table;
            std::string suffix;
            if (filter.exact && query.limit && orderBy.size() > 0) {
                // Exact filter: the engine keeps every row, so the first offset+limit+1 rows in
                // the engine's own order (QueryEngine.cpp sortRecords: byte-wise) are enough for
                // the page and its "truncated" flag. PostgreSQL sorts text in the database
                // collation unless told to compare bytes.
                const std::size_t wanted = query.offset + *query.limit + 1;
                std::string order;
                for (std::size_t i = 0; i < orderBy.size(); ++i) {
                    order += (i ? ", " : "") + orderBy[i];
                    if (database.dialect() == SqlDialect::PostgreSql) order += " COLLATE \"C\"";
                }
                suffix = " ORDER BY " + order + " LIMIT " + std::to_string(wanted);
                if (database.dialect() == SqlDialect::Sqlite && orderIndex) {
                    // SQLite (no STAT4) prefers a name range index even when the range holds
                    // most of the table ("S*"), then sorts all of it. Walking the engine-order
                    // index instead stops at the page, but visits the whole table in the worst
                    // case (names correlate with PatientIDs: matches may all sit at the end).
                    // So walk only when the range holds at least half of the table: then the
                    // walk costs at most twice the range scan, and usually far less.
                    const std::int64_t tableRows = statRows(s, orderIndex);
                    if (tableRows > 0) {
                        const std::size_t threshold =
                            std::max<std::size_t>({2000, 20 * wanted, static_cast<std::size_t>(tableRows / 2)});
                        Poco::Int64 inRange = 0;
                        Statement probe(s);
                        probe << "SELECT count(*) FROM (SELECT 1 FROM " << table << " WHERE " << filter.where << " LIMIT "
                              << threshold << ") AS probe";
                        for (auto& p : filter.params) probe.addBind(useRef(p));
                        probe.addExtract(into(inRange));
                        probe.execute();
                        if (static_cast<std::size_t>(inRange) >= threshold) from += std::string(" INDEXED BY ") + orderIndex;
                    }
                }
            }
            std::string sql = std::string("SELECT ") + columns + " FROM " + from + " WHERE " + filter.where + suffix;
            return selectRecords<R>(s, sql, filter.params);
        });
    }
};

Catalog::Catalog(const CatalogSettings& settings, const CacheSettings& cache, tcia::TciaApi& tcia)
    : impl_(std::make_unique<Impl>(settings, cache, tcia)) {}

Catalog::~Catalog() = default;

SqlDialect Catalog::dialect() const { return impl_->database.dialect(); }

std::optional<std::uint64_t> Catalog::generation() {
    // Bumped by invalidateStates() after every committed write of metadata in this process;
    // another process's writes (a `sync` next to the bridge) are seen by users of this number
    // only through their own age bound, as collectionStates() sees them after kStatesMaxAge.
    std::lock_guard<std::mutex> lock(impl_->statesMutex);
    return impl_->statesGeneration;
}

void Catalog::setClock(std::function<std::int64_t()> nowSeconds) {
    std::lock_guard<std::mutex> lock(impl_->clockMutex);
    impl_->clock = std::move(nowSeconds);
}

void Catalog::setAnonymousApi(std::shared_ptr<tcia::TciaApi> anonymous) {
    impl_->anonymous = std::move(anonymous);
    // The main TciaApi has credentials, then: it must not share the anonymous cache keys.
    if (impl_->identity == kAnonymousIdentity) impl_->identity = "token";
}

void Catalog::setIdentity(const std::string& identity) {
    impl_->identity = trimSpaces(identity).empty() ? std::string(kUnspecifiedIdentity) : identity;
}

const std::string& Catalog::identity() const { return impl_->identity; }

// ---------------------------------------------------------------------------------------------
// Collections

std::vector<std::string> Catalog::collections(const RequestContext& context) {
    auto& d = *impl_;
    return d.listAs(d.identity, d.tcia, false, context);
}

void Catalog::storeCollectionList(const std::vector<std::string>& names) { impl_->storeList(impl_->identity, names); }

std::optional<std::set<std::string>> Catalog::publicCollections(const RequestContext& context) {
    auto& d = *impl_;
    tcia::TciaApi* api = d.anonymous ? d.anonymous.get() : (d.identity == kAnonymousIdentity ? &d.tcia : nullptr);
    if (api == nullptr) return std::nullopt;
    // An outage keeps the last anonymous list (stale, never widened by another identity's);
    // before any list was stored this throws: nothing is shown rather than everything.
    const auto names = d.listAs(kAnonymousIdentity, *api, true, context);
    return std::set<std::string>(names.begin(), names.end());
}

std::set<std::string> Catalog::restrictedCollections(const RequestContext& context) {
    auto& d = *impl_;
    std::set<std::string> out;
    if (d.anonymous) {
        // Both lists per identity: a list cached by another identity (an earlier run without
        // credentials, another replica) is never compared with itself.
        const auto all = d.listAs(d.identity, d.tcia, true, context);
        std::set<std::string> visibleAnonymously;
        for (const auto& c : d.listAs(kAnonymousIdentity, *d.anonymous, true, context)) visibleAnonymously.insert(key(c));
        for (const auto& c : all)
            if (!visibleAnonymously.count(key(c))) out.insert(c);
    }
    const auto marked = guarded("restricted collections", [&] {
        Session s = d.database.session();
        std::vector<std::string> names;
        // 2 = markRestricted (kept). 1 was written by the former comparison, which could be
        // fooled by a foreign cache; restrictions are now computed from the lists above.
        s << "SELECT name FROM collections WHERE restricted = 2", into(names), now;
        return names;
    });
    out.insert(marked.begin(), marked.end());
    return out;
}

void Catalog::markRestricted(const std::string& collection, bool restricted) {
    auto& d = *impl_;
    guarded("mark restricted", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        Transaction tx(s);
        d.ensureCollections(s, {collection});
        std::string upper = key(collection);
        int flag = restricted ? 2 : 0;
        s << "UPDATE collections SET restricted = $1 WHERE upper(name) = $2", use(flag), use(upper), now;
        tx.commit();
        d.invalidateStates();
    });
}

// ---------------------------------------------------------------------------------------------
// Lazy fill

std::vector<tcia::PatientRecord> Catalog::patients(const tcia::PatientFilter& filter, const RequestContext& context) {
    auto& d = *impl_;
    const std::string callKey = "patients|" + key(filter.collection) + "|" + key(filter.patientId);
    Conditions c;
    c.addCaseInsensitive("collection", filter.collection);
    c.addCaseInsensitive("patient_id", filter.patientId);
    return d.lazyFill<tcia::PatientRecord>(
        "patients", "store patients", callKey, filter.collection, [](Session&) { return false; }, std::move(c),
        std::string("SELECT ") + catalog::kPatientColumns + " FROM patients", " ORDER BY collection, patient_id",
        patientUpsertSql(), [&] { return d.tcia.patients(filter, context); });
}

std::vector<tcia::StudyRecord> Catalog::studies(const tcia::StudyFilter& filter, const RequestContext& context) {
    auto& d = *impl_;
    const std::string callKey = "studies|" + key(filter.collection) + "|" + key(filter.patientId) + "|" +
                                trimSpaces(filter.studyInstanceUid);
    Conditions c;
    c.addCaseInsensitive("collection", filter.collection);
    c.addCaseInsensitive("patient_id", filter.patientId);
    c.addExact("study_uid", filter.studyInstanceUid);
    return d.lazyFill<tcia::StudyRecord>(
        "studies", "store studies", callKey, filter.collection,
        [&](Session& s) { return d.uidInFreshHarvest(s, "studies", "study_uid", filter.studyInstanceUid); },
        std::move(c), std::string("SELECT ") + catalog::kStudyColumns + " FROM studies", " ORDER BY study_uid",
        studyUpsertSql(), [&] { return d.tcia.studies(filter, context); });
}

std::vector<tcia::SeriesRecord> Catalog::series(const tcia::SeriesFilter& filter, const RequestContext& context) {
    auto& d = *impl_;
    const std::string callKey = "series|" + key(filter.collection) + "|" + key(filter.patientId) + "|" +
                                trimSpaces(filter.studyInstanceUid) + "|" + trimSpaces(filter.seriesInstanceUid) + "|" +
                                key(filter.modality) + "|" + key(filter.bodyPartExamined) + "|" +
                                key(filter.manufacturer) + "|" + key(filter.manufacturerModelName);
    Conditions c;
    c.addCaseInsensitive("collection", filter.collection);
    c.addCaseInsensitive("patient_id", filter.patientId);
    c.addExact("study_uid", filter.studyInstanceUid);
    c.addExact("series_uid", filter.seriesInstanceUid);
    c.addCaseInsensitive("modality", filter.modality);
    c.addCaseInsensitive("body_part", filter.bodyPartExamined);
    c.addCaseInsensitive("manufacturer", filter.manufacturer);
    c.addCaseInsensitive("manufacturer_model", filter.manufacturerModelName);
    return d.lazyFill<tcia::SeriesRecord>(
        "series", "store series", callKey, filter.collection,
        [&](Session& s) {
            return d.uidInFreshHarvest(s, "series", "series_uid", filter.seriesInstanceUid) ||
                   d.uidInFreshHarvest(s, "studies", "study_uid", filter.studyInstanceUid);
        },
        std::move(c), std::string("SELECT ") + catalog::kSeriesColumns + " FROM series", " ORDER BY series_uid",
        seriesUpsertSql(), [&] { return d.tcia.series(filter, context); });
}

std::vector<std::string> Catalog::sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) {
    auto& d = *impl_;
    const std::string uid = trimSpaces(seriesInstanceUid);
    const std::string callKey = "sop|" + uid;
    auto local = guarded("SOP instances", [&]() -> std::optional<std::vector<std::string>> {
        Session s = d.database.session();
        if (!d.freshCall(s, callKey)) return std::nullopt;
        std::vector<std::string> params{uid};
        return selectStrings(s, "SELECT sop_uid FROM sop_instances WHERE series_uid = $1 ORDER BY ordinal", params);
    });
    if (local) return std::move(*local);
    auto uids = d.tcia.sopInstanceUids(uid, context);
    guarded("store SOP instances", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        Transaction tx(s);
        std::string series = uid;
        s << "DELETE FROM sop_instances WHERE series_uid = $1", use(series), now;
        if (!uids.empty()) {
            std::vector<std::string> seriesColumn(uids.size(), uid);
            std::vector<int> ordinals(uids.size());
            for (std::size_t i = 0; i < ordinals.size(); ++i) ordinals[i] = static_cast<int>(i);
            s << "INSERT INTO sop_instances (series_uid, ordinal, sop_uid) VALUES ($1, $2, $3)", use(seriesColumn),
                use(ordinals), use(uids), now;
        }
        // Tied to no collection: invalidated by any incremental refresh that changes something.
        d.recordCall(s, callKey, "");
        tx.commit();
        d.invalidateStates();
    });
    return uids;
}

// ---------------------------------------------------------------------------------------------
// Broad scans

std::optional<std::vector<tcia::PatientRecord>> Catalog::scanPatients(const Query& query,
                                                                      const std::vector<std::string>& collections) {
    return impl_->scan<tcia::PatientRecord>(query, QueryLevel::Patient, collections, "patients", catalog::kPatientColumns,
                                            {"patient_id", "collection"}, "patients_order");
}

std::optional<std::vector<tcia::StudyRecord>> Catalog::scanStudies(const Query& query,
                                                                   const std::vector<std::string>& collections) {
    return impl_->scan<tcia::StudyRecord>(query, QueryLevel::Study, collections, "studies", catalog::kStudyColumns,
                                          {"patient_id", "study_date", "study_uid"}, "studies_order");
}

std::optional<std::vector<tcia::SeriesRecord>> Catalog::scanSeries(const Query& query,
                                                                   const std::vector<std::string>& collections) {
    return impl_->scan<tcia::SeriesRecord>(query, QueryLevel::Series, collections, "series", catalog::kSeriesColumns,
                                           // The engine orders series by SeriesNumber numerically
                                           // within a study, which SQL cannot mirror portably:
                                           // series scans are never cut by LIMIT.
                                           {}, nullptr);
}

// ---------------------------------------------------------------------------------------------
// Incremental refresh

RefreshResult Catalog::refreshIncremental(const RequestContext& context) {
    auto& d = *impl_;
    RefreshResult result;
    const std::int64_t startedAt = d.currentTime();
    result.fromDate = guarded("refresh", [&] {
        Session s = d.database.session();
        std::string from = d.meta(s, "last_refresh_date");
        if (from.empty()) {
            std::int64_t oldest = 0;
            for (const auto& c : d.collectionStates(s))
                if (c.harvested && c.freshAt > 0 && (oldest == 0 || c.freshAt < oldest)) oldest = c.freshAt;
            from = epochToDa(oldest > 0 ? oldest : startedAt - d.ttl());
        }
        return from;
    });

    // TCIA compares date_released > fromDate (API.md 2.5): DA granularity, so a refresh the
    // same day asks for the whole day again; upserts make that harmless.
    const auto updated = d.tcia.updatedSeries(result.fromDate, context);
    std::map<std::string, std::string> affected;  // upper -> as spelled by TCIA
    for (const auto& s : updated)
        if (!trimSpaces(s.collection).empty()) affected.emplace(key(s.collection), s.collection);

    std::vector<tcia::PatientRecord> patients;
    std::vector<tcia::StudyRecord> studies;
    for (const auto& [upper, name] : affected) {
        context.throwIfCancelled();
        auto p = d.tcia.newPatientsInCollection(name, result.fromDate, context);
        patients.insert(patients.end(), p.begin(), p.end());
        auto st = d.tcia.newStudiesInPatientCollection(name, "", result.fromDate, context);
        studies.insert(studies.end(), st.begin(), st.end());
    }
    context.throwIfCancelled();

    guarded("refresh", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        Transaction tx(s);
        d.upsert(s, seriesUpsertSql(), updated);
        d.upsert(s, patientUpsertSql(), patients);
        d.upsert(s, studyUpsertSql(), studies);
        if (!affected.empty()) {
            // Calls tied to an affected collection, and calls tied to none (UID lookups, the
            // collection list, SOP lists), may now be out of date.
            s << "DELETE FROM query_cache WHERE collection = ''", now;
            for (const auto& [upper, name] : affected) {
                std::string u = upper;
                s << "DELETE FROM query_cache WHERE collection = $1", use(u), now;
            }
        }
        Poco::Int64 at = startedAt;
        s << "UPDATE collections SET refreshed_at = $1 WHERE harvested_complete = 1", use(at), now;
        d.setMeta(s, "last_refresh_date", epochToDa(startedAt));
        tx.commit();
        d.invalidateStates();
    });
    result.series = updated.size();
    result.patients = patients.size();
    result.studies = studies.size();
    for (const auto& [upper, name] : affected) result.collections.insert(name);
    return result;
}

// ---------------------------------------------------------------------------------------------
// Harvest support

void Catalog::storeCollectionHarvest(const std::string& collection, const std::vector<tcia::PatientRecord>& patients,
                                     const std::vector<tcia::StudyRecord>& studies,
                                     const std::vector<tcia::SeriesRecord>& series) {
    auto& d = *impl_;
    guarded("store harvest", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        Transaction tx(s);
        std::string upper = key(collection);
        // Replace, so that what TCIA withdrew disappears and a re-run adds no duplicates.
        s << "DELETE FROM series WHERE upper(collection) = $1", use(upper), now;
        s << "DELETE FROM studies WHERE upper(collection) = $1", use(upper), now;
        s << "DELETE FROM patients WHERE upper(collection) = $1", use(upper), now;
        d.ensureCollections(s, {collection});
        d.upsert(s, patientUpsertSql(), patients);
        d.upsert(s, studyUpsertSql(), studies);
        d.upsert(s, seriesUpsertSql(), series);
        std::string licenseName, licenseUri, doi;
        for (const auto& r : series) {
            if (licenseName.empty()) licenseName = r.licenseName;
            if (licenseUri.empty()) licenseUri = r.licenseUri;
            if (doi.empty()) doi = r.dataDescriptionUri;
        }
        Poco::Int64 at = d.currentTime(), count = static_cast<Poco::Int64>(series.size());
        s << "UPDATE collections SET harvested_complete = 1, harvested_at = $1, refreshed_at = $2, series_count = $3,"
             " license_name = $4, license_uri = $5, doi = $6 WHERE upper(name) = $7",
            use(at), use(at), use(count), use(licenseName), use(licenseUri), use(doi), use(upper), now;
        d.recordLevel(s, collection, true, true);
        tx.commit();
        d.invalidateStates();
    });
}

bool Catalog::isHarvested(const std::string& collection) {
    auto& d = *impl_;
    return guarded("harvest state", [&] {
        Session s = d.database.session();
        const std::string k = key(collection);
        for (const auto& c : d.collectionStates(s))
            if (key(c.name) == k) return c.harvested;
        return false;
    });
}

std::string Catalog::beginSyncRun(bool resume) {
    auto& d = *impl_;
    return guarded("sync state", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        std::string run = resume ? d.meta(s, "sync_run") : std::string();
        if (run.empty()) {
            run = std::to_string(d.currentTime()) + "-" +
                  std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
            d.setMeta(s, "sync_run", run);
        }
        return run;
    });
}

std::set<std::string> Catalog::collectionsDoneInRun(const std::string& runId) {
    auto& d = *impl_;
    return guarded("sync state", [&] {
        Session s = d.database.session();
        std::vector<std::string> params{runId};
        std::set<std::string> out;
        for (const auto& c : selectStrings(s, "SELECT collection FROM sync_state WHERE run_id = $1", params))
            out.insert(key(c));
        return out;
    });
}

void Catalog::markCollectionDone(const std::string& runId, const std::string& collection, std::int64_t seriesCount) {
    auto& d = *impl_;
    guarded("sync state", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        std::string run = runId, name = collection;
        Poco::Int64 at = d.currentTime(), count = seriesCount;
        s << "INSERT INTO sync_state (run_id, collection, finished_at, series_count) VALUES ($1, $2, $3, $4)"
             " ON CONFLICT (run_id, collection) DO UPDATE SET finished_at = excluded.finished_at,"
             " series_count = excluded.series_count",
            use(run), use(name), use(at), use(count), now;
    });
}

void Catalog::finishSyncRun(const std::string& runId) {
    auto& d = *impl_;
    guarded("sync state", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        std::string run = runId;
        s << "DELETE FROM catalog_meta WHERE name = 'sync_run' AND value = $1", use(run), now;
        s << "DELETE FROM sync_state WHERE run_id <> $1", use(run), now;
        // Fresh statistics so the planner picks the name/UID indexes for scans.
        s << "ANALYZE", now;
    });
}

CatalogCounts Catalog::counts() {
    auto& d = *impl_;
    return guarded("counts", [&] {
        Session s = d.database.session();
        CatalogCounts c;
        Poco::Int64 v = 0;
        s << "SELECT count(*) FROM collections", into(v), now;
        c.collections = v;
        s << "SELECT count(*) FROM collections WHERE harvested_complete = 1", into(v), now;
        c.harvestedCollections = v;
        s << "SELECT count(*) FROM patients", into(v), now;
        c.patients = v;
        s << "SELECT count(*) FROM studies", into(v), now;
        c.studies = v;
        s << "SELECT count(*) FROM series", into(v), now;
        c.series = v;
        s << "SELECT count(*) FROM sop_instances", into(v), now;
        c.sopInstances = v;
        s << "SELECT count(*) FROM query_cache", into(v), now;
        c.cachedCalls = v;
        return c;
    });
}

// ---------------------------------------------------------------------------------------------
// Harvest on start (CatalogHarvester)

void Catalog::setPartialScans(bool enabled) { impl_->partialScans = enabled; }

std::int64_t Catalog::ttlSeconds() const { return impl_->ttl(); }

std::int64_t Catalog::nowSeconds() { return impl_->currentTime(); }

std::string Catalog::scanIncompleteness(QueryLevel level, const std::vector<std::string>& collections) {
    auto& d = *impl_;
    if (!d.partialScans || collections.empty()) return {};
    return guarded("scan coverage", [&]() -> std::string {
        Session s = d.database.session();
        std::map<std::string, bool> covered;
        for (const auto& c : d.collectionStates(s)) covered[key(c.name)] = Impl::coversLevel(c, level);
        std::size_t done = 0;
        for (const auto& c : collections) {
            const auto it = covered.find(key(c));
            if (it != covered.end() && it->second) ++done;
        }
        if (done == collections.size()) return {};
        return "catalog harvest in progress: " + std::to_string(done) + " of " + std::to_string(collections.size()) +
               " collections" + (level == QueryLevel::Series || level == QueryLevel::Image ? " (series level)" : "") +
               "; results may be incomplete";
    });
}

std::vector<CollectionHarvestState> Catalog::harvestStates() {
    auto& d = *impl_;
    return guarded("harvest state", [&] {
        Session s = d.database.session();
        std::vector<std::string> names, errors;
        std::vector<int> listed, complete;
        std::vector<Poco::Int64> harvestedAt, refreshedAt, studiesAt, seriesAt, patients, studies, series;
        s << "SELECT c.name, c.listed, c.harvested_complete, c.harvested_at, c.refreshed_at,"
             " coalesce(h.studies_at, 0), coalesce(h.series_at, 0), coalesce(h.patients, 0), coalesce(h.studies, 0),"
             " coalesce(h.series, c.series_count), coalesce(h.error, '')"
             " FROM collections c LEFT JOIN harvest_state h ON h.collection = upper(c.name) ORDER BY c.name",
            into(names), into(listed), into(complete), into(harvestedAt), into(refreshedAt), into(studiesAt),
            into(seriesAt), into(patients), into(studies), into(series), into(errors), now;
        std::vector<CollectionHarvestState> out(names.size());
        for (std::size_t i = 0; i < names.size(); ++i) {
            auto& o = out[i];
            o.name = names[i];
            o.listed = listed[i] != 0;
            o.seriesAt = complete[i] != 0 ? std::max<std::int64_t>(seriesAt[i], harvestedAt[i]) : 0;
            o.studiesAt = std::max<std::int64_t>(studiesAt[i], o.seriesAt);
            o.refreshedAt = refreshedAt[i];
            o.patients = patients[i];
            o.studies = studies[i];
            o.series = series[i];
            o.lastError = errors[i];
            const std::int64_t freshAt = std::max<std::int64_t>(o.seriesAt, o.refreshedAt);
            o.seriesLevelFresh = complete[i] != 0 && d.isFresh(freshAt);
            o.studyLevelFresh = o.seriesLevelFresh || d.isFresh(o.studiesAt);
        }
        return out;
    });
}

std::string Catalog::beginStaging() {
    static std::atomic<std::uint64_t> sequence{0};
    return std::to_string(impl_->currentTime()) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++sequence);
}

void Catalog::stagePatients(const std::string& stagingId, const std::vector<tcia::PatientRecord>& rows) {
    auto& d = *impl_;
    if (rows.empty()) return;
    guarded("stage patients", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        HarvestCacheBound bound(s, d.database.dialect());
        Transaction tx(s);
        s << stagingInsertSql("patients", catalog::kPatientColumns, catalog::kPatientColumnCount, stagingId),
            use(const_cast<std::vector<tcia::PatientRecord>&>(rows)), now;
        tx.commit();
    });
}

void Catalog::stageStudies(const std::string& stagingId, const std::vector<tcia::StudyRecord>& rows) {
    auto& d = *impl_;
    if (rows.empty()) return;
    guarded("stage studies", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        HarvestCacheBound bound(s, d.database.dialect());
        Transaction tx(s);
        s << stagingInsertSql("studies", catalog::kStudyColumns, catalog::kStudyColumnCount, stagingId),
            use(const_cast<std::vector<tcia::StudyRecord>&>(rows)), now;
        tx.commit();
    });
}

void Catalog::stageSeries(const std::string& stagingId, const std::vector<tcia::SeriesRecord>& rows) {
    auto& d = *impl_;
    if (rows.empty()) return;
    guarded("stage series", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        HarvestCacheBound bound(s, d.database.dialect());
        Transaction tx(s);
        s << stagingInsertSql("series", catalog::kSeriesColumns, catalog::kSeriesColumnCount, stagingId),
            use(const_cast<std::vector<tcia::SeriesRecord>&>(rows)), now;
        tx.commit();
    });
}

void Catalog::commitStudyLevel(const std::string& stagingId, const std::string& collection) {
    auto& d = *impl_;
    guarded("commit study level", [&] {
        static const std::string patientsSql =
            upsertFromStagingSql("patients", catalog::kPatientColumns, "collection, patient_id");
        static const std::string studiesSql = upsertFromStagingSql("studies", catalog::kStudyColumns, "study_uid");
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        HarvestCacheBound bound(s, d.database.dialect());
        Transaction tx(s);
        std::string upper = key(collection), id = stagingId;
        s << "DELETE FROM studies WHERE upper(collection) = $1", use(upper), now;
        s << "DELETE FROM patients WHERE upper(collection) = $1", use(upper), now;
        d.ensureCollections(s, {collection});
        s << patientsSql, use(id), now;
        s << studiesSql, use(id), now;
        s << "DELETE FROM patients_staging WHERE harvest = $1", use(id), now;
        s << "DELETE FROM studies_staging WHERE harvest = $1", use(id), now;
        d.recordLevel(s, collection, true, false);
        tx.commit();
        d.invalidateStates();
    });
}

void Catalog::commitSeriesLevel(const std::string& stagingId, const std::string& collection) {
    auto& d = *impl_;
    guarded("commit series level", [&] {
        static const std::string seriesSql = upsertFromStagingSql("series", catalog::kSeriesColumns, "series_uid");
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        HarvestCacheBound bound(s, d.database.dialect());
        Transaction tx(s);
        std::string upper = key(collection), id = stagingId;
        s << "DELETE FROM series WHERE upper(collection) = $1", use(upper), now;
        d.ensureCollections(s, {collection});
        s << seriesSql, use(id), now;
        s << "DELETE FROM series_staging WHERE harvest = $1", use(id), now;
        auto first = [&](const char* column) {
            std::vector<std::string> params{upper};
            const auto v = selectStrings(s,
                                         std::string("SELECT ") + column + " FROM series WHERE upper(collection) = $1 AND " +
                                             column + " IS NOT NULL AND " + column + " <> '' LIMIT 1",
                                         params);
            return v.empty() ? std::string() : v.front();
        };
        std::string licenseName = first("license_name"), licenseUri = first("license_uri"),
                    doi = first("data_description_uri");
        Poco::Int64 at = d.currentTime(), count = 0;
        s << "SELECT count(*) FROM series WHERE upper(collection) = $1", use(upper), into(count), now;
        s << "UPDATE collections SET harvested_complete = 1, harvested_at = $1, refreshed_at = $2, series_count = $3,"
             " license_name = $4, license_uri = $5, doi = $6 WHERE upper(name) = $7",
            use(at), use(at), use(count), use(licenseName), use(licenseUri), use(doi), use(upper), now;
        d.recordLevel(s, collection, false, true);
        tx.commit();
        d.invalidateStates();
    });
}

void Catalog::discardStaging(const std::string& stagingId) {
    auto& d = *impl_;
    guarded("discard staging", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        Transaction tx(s);
        std::string id = stagingId;
        for (const char* table : {"patients_staging", "studies_staging", "series_staging"}) {
            if (id.empty())
                s << std::string("DELETE FROM ") + table, now;
            else
                s << std::string("DELETE FROM ") + table + " WHERE harvest = $1", use(id), now;
        }
        tx.commit();
    });
}

void Catalog::recordHarvestError(const std::string& collection, const std::string& message) {
    auto& d = *impl_;
    guarded("harvest state", [&] {
        Session s = d.database.session();
        std::lock_guard<std::mutex> lock(d.database.writeMutex());
        std::string upper = key(collection), text = message.substr(0, 500);
        s << "INSERT INTO harvest_state (collection, error) VALUES ($1, $2)"
             " ON CONFLICT (collection) DO UPDATE SET error = excluded.error",
            use(upper), use(text), now;
    });
}

}  // namespace bridge
