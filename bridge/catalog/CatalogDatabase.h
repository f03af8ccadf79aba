#pragma once
// The catalog's connection to its SQL database (SQLite by default, PostgreSQL optionally) and
// its schema.
//
// Owns a Poco::Data::SessionPool: session() hands each caller its own Session (one per thread at
// a time), returned to the pool when the Session object is destroyed. Thread-safe.
// Writers additionally serialise on writeMutex(): SQLite allows one writer at a time and a
// deferred transaction that upgrades to a writer can fail with SQLITE_BUSY instead of waiting;
// other processes (a `tcia-bridge sync` next to a running bridge) wait up to the busy timeout.

#include "bridge/catalog/SqlDialect.h"
#include "bridge/common/Config.h"

#include <Poco/Data/Session.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace Poco::Data {
class SessionPool;
}

namespace bridge {

class CatalogDatabase {
public:
    /// Opens (creating if needed) the database and its schema. SQLite: the file
    /// settings.connection or <cache.directory>/catalog.db (directory created), WAL journal.
    /// PostgreSQL (connector "postgresql", only when built with BRIDGE_HAVE_POSTGRESQL): the
    /// libpq connection string settings.connection.
    /// Throws BridgeError(InvalidArgument) for an unknown connector, BridgeError(Internal) when
    /// the database cannot be opened.
    CatalogDatabase(const CatalogSettings& settings, const CacheSettings& cache);
    ~CatalogDatabase();
    CatalogDatabase(const CatalogDatabase&) = delete;
    CatalogDatabase& operator=(const CatalogDatabase&) = delete;

    SqlDialect dialect() const noexcept { return dialect_; }
    /// A session from the pool, configured (busy timeout, synchronous mode). Blocking at most
    /// the pool's wait; throws BridgeError(Overloaded) when the pool is exhausted.
    Poco::Data::Session session();
    std::mutex& writeMutex() noexcept { return writeMutex_; }
    /// Where the data lives (file path or connection string without password), for logs.
    const std::string& location() const noexcept { return location_; }

private:
    void createSchema();

    SqlDialect dialect_ = SqlDialect::Sqlite;
    std::string location_;
    std::unique_ptr<Poco::Data::SessionPool> pool_;
    std::mutex writeMutex_;
    std::mutex configuredMutex_;
    std::set<const void*> configured_;  ///< SQLite connections already given their PRAGMAs
};

}  // namespace bridge
