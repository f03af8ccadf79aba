#include "bridge/catalog/CatalogDatabase.h"

#include "bridge/common/Error.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/SessionPool.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#ifdef BRIDGE_HAVE_POSTGRESQL
#include <Poco/Data/PostgreSQL/Connector.h>
#endif

#include <algorithm>

using namespace Poco::Data::Keywords;

namespace bridge {
namespace {

// Plain SQL accepted by SQLite (3.40) and PostgreSQL (15). Booleans are BOOLEAN (SQLite stores
// them as integers); times are epoch seconds; dates are DICOM DA text.
const char* const kSchema[] = {
    "CREATE TABLE IF NOT EXISTS collections ("
    " name TEXT PRIMARY KEY, listed INTEGER NOT NULL DEFAULT 0, restricted INTEGER NOT NULL DEFAULT 0,"
    " license_name TEXT NOT NULL DEFAULT '', license_uri TEXT NOT NULL DEFAULT '', doi TEXT NOT NULL DEFAULT '',"
    " harvested_complete INTEGER NOT NULL DEFAULT 0, harvested_at BIGINT NOT NULL DEFAULT 0,"
    " refreshed_at BIGINT NOT NULL DEFAULT 0, series_count BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS patients ("
    " patient_id TEXT NOT NULL, patient_name TEXT, patient_birth_date TEXT, patient_sex TEXT, ethnic_group TEXT,"
    " collection TEXT NOT NULL, phantom TEXT, species_code TEXT, species_description TEXT, authorized BOOLEAN,"
    " PRIMARY KEY (collection, patient_id))",
    "CREATE TABLE IF NOT EXISTS studies ("
    " study_uid TEXT PRIMARY KEY, study_date TEXT, study_description TEXT, admitting_diagnoses TEXT, study_id TEXT,"
    " patient_age TEXT, patient_id TEXT, patient_name TEXT, patient_birth_date TEXT, patient_sex TEXT,"
    " ethnic_group TEXT, collection TEXT NOT NULL, series_count INTEGER, longitudinal_event_type TEXT,"
    " longitudinal_offset DOUBLE PRECISION, authorized BOOLEAN)",
    "CREATE TABLE IF NOT EXISTS series ("
    " series_uid TEXT PRIMARY KEY, study_uid TEXT, modality TEXT, protocol_name TEXT, series_date TEXT,"
    " series_description TEXT, body_part TEXT, series_number TEXT, annotations_flag BOOLEAN,"
    " collection TEXT NOT NULL, site TEXT, patient_id TEXT, patient_sex TEXT, patient_age TEXT,"
    " admitting_diagnosis TEXT, manufacturer TEXT, manufacturer_model TEXT, software_versions TEXT,"
    " image_count BIGINT, max_submission_timestamp TEXT, license_name TEXT, license_uri TEXT,"
    " data_description_uri TEXT, file_size BIGINT, released_status TEXT, date_released TEXT,"
    " study_description TEXT, study_date TEXT, third_party_analysis TEXT, authorized BOOLEAN)",
    "CREATE TABLE IF NOT EXISTS sop_instances ("
    " series_uid TEXT NOT NULL, ordinal INTEGER NOT NULL, sop_uid TEXT NOT NULL,"
    " PRIMARY KEY (series_uid, ordinal))",
    "CREATE TABLE IF NOT EXISTS query_cache ("
    " call_key TEXT PRIMARY KEY, collection TEXT NOT NULL, answered_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sync_state ("
    " run_id TEXT NOT NULL, collection TEXT NOT NULL, finished_at BIGINT NOT NULL, series_count BIGINT NOT NULL,"
    " PRIMARY KEY (run_id, collection))",
    "CREATE TABLE IF NOT EXISTS catalog_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    // Hot paths: PN wildcard (upper-cased, PS3.4 case-insensitive PN), IDs (prefix ranges),
    // UIDs, dates, collection (TCIA compares collection names case-insensitively).
    "CREATE INDEX IF NOT EXISTS patients_name ON patients (upper(patient_name))",
    "CREATE INDEX IF NOT EXISTS patients_id ON patients (upper(patient_id))",
    "CREATE INDEX IF NOT EXISTS patients_collection ON patients (upper(collection))",
    "CREATE INDEX IF NOT EXISTS studies_name ON studies (upper(patient_name))",
    "CREATE INDEX IF NOT EXISTS studies_patient_id ON studies (upper(patient_id))",
    "CREATE INDEX IF NOT EXISTS studies_date ON studies (study_date)",
    // The query engine's study order (PatientID, StudyDate, UID): ORDER BY + LIMIT walks it.
    "CREATE INDEX IF NOT EXISTS studies_order ON studies (patient_id, study_date, study_uid)",
    "CREATE INDEX IF NOT EXISTS patients_order ON patients (patient_id, collection)",
    "CREATE INDEX IF NOT EXISTS studies_collection ON studies (upper(collection))",
    "CREATE INDEX IF NOT EXISTS series_study ON series (study_uid)",
    "CREATE INDEX IF NOT EXISTS series_collection ON series (upper(collection))",
    "CREATE INDEX IF NOT EXISTS series_patient_id ON series (upper(patient_id))",
    "CREATE INDEX IF NOT EXISTS series_date ON series (series_date)",
    "CREATE INDEX IF NOT EXISTS query_cache_collection ON query_cache (collection)",
    // Harvest on start (CatalogHarvester): progress per collection (upper-cased name) and level,
    // and staging tables that receive a collection's rows in batches while TCIA's answer
    // streams in; a commit then replaces the collection's rows in one transaction.
    "CREATE TABLE IF NOT EXISTS harvest_state ("
    " collection TEXT PRIMARY KEY, studies_at BIGINT NOT NULL DEFAULT 0, series_at BIGINT NOT NULL DEFAULT 0,"
    " patients BIGINT NOT NULL DEFAULT 0, studies BIGINT NOT NULL DEFAULT 0, series BIGINT NOT NULL DEFAULT 0,"
    " error TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE IF NOT EXISTS patients_staging AS SELECT CAST('' AS TEXT) AS harvest, * FROM patients WHERE 1 = 0",
    "CREATE TABLE IF NOT EXISTS studies_staging AS SELECT CAST('' AS TEXT) AS harvest, * FROM studies WHERE 1 = 0",
    "CREATE TABLE IF NOT EXISTS series_staging AS SELECT CAST('' AS TEXT) AS harvest, * FROM series WHERE 1 = 0",
    "CREATE INDEX IF NOT EXISTS patients_staging_harvest ON patients_staging (harvest)",
    "CREATE INDEX IF NOT EXISTS studies_staging_harvest ON studies_staging (harvest)",
    "CREATE INDEX IF NOT EXISTS series_staging_harvest ON series_staging (harvest)",
    // The query_cache bound (CatalogSettings::maxCachedCalls) removes expired, then oldest rows.
    "CREATE INDEX IF NOT EXISTS query_cache_answered ON query_cache (answered_at)",
    // collections() answers per credential identity ("anonymous" or "token:<hash>"): what one
    // set of credentials listed is never taken for what another would list.
    "CREATE TABLE IF NOT EXISTS collection_lists ("
    " identity TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (identity, name))",
};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

CatalogDatabase::CatalogDatabase(const CatalogSettings& settings, const CacheSettings& cache) {
    const std::string connector = lower(settings.connector);
    std::string pocoConnector;
    std::string connection = settings.connection;
    try {
        if (connector.empty() || connector == "sqlite") {
            dialect_ = SqlDialect::Sqlite;
            pocoConnector = "SQLite";
            Poco::Data::SQLite::Connector::registerConnector();
            if (connection.empty()) {
                Poco::File(cache.directory).createDirectories();
                connection = Poco::Path(cache.directory).append("catalog.db").toString();
            } else {
                const Poco::Path parent = Poco::Path(connection).parent();
                if (!parent.toString().empty()) Poco::File(parent).createDirectories();
            }
            location_ = connection;
        } else if (connector == "postgresql") {
#ifdef BRIDGE_HAVE_POSTGRESQL
            dialect_ = SqlDialect::PostgreSql;
            pocoConnector = "PostgreSQL";
            Poco::Data::PostgreSQL::Connector::registerConnector();
            location_ = "postgresql";
#else
            throw BridgeError(ErrorCode::InvalidArgument,
                              "catalog.connector \"postgresql\": this build has no PostgreSQL support");
#endif
        } else {
            throw BridgeError(ErrorCode::InvalidArgument,
                              "catalog.connector must be \"sqlite\" or \"postgresql\", not \"" + settings.connector + "\"");
        }
        // Connections stay open (idle time one day): each is configured once (session()).
        pool_ = std::make_unique<Poco::Data::SessionPool>(pocoConnector, connection, 1, 64, 24 * 3600);
        if (dialect_ == SqlDialect::Sqlite) {
            Poco::Data::Session s = pool_->get();
            // WAL: readers never block the writer and vice versa (the journal mode is persistent).
            s << "PRAGMA journal_mode=WAL", now;
        }
        createSchema();
    } catch (const BridgeError&) {
        throw;
    } catch (const Poco::Exception& e) {
        throw BridgeError(ErrorCode::Internal, "cannot open the catalog database " + location_ + ": " + e.displayText());
    }
}

CatalogDatabase::~CatalogDatabase() = default;

Poco::Data::Session CatalogDatabase::session() {
    try {
        Poco::Data::Session s = pool_->get();
        if (dialect_ == SqlDialect::Sqlite) {
            // Wait for another process's writer instead of failing (sqlite3_busy_timeout; cheap).
            s.setConnectionTimeout(30);
            const void* handle = Poco::Data::SQLite::Utility::dbHandle(s);
            bool fresh = false;
            {
                std::lock_guard<std::mutex> lock(configuredMutex_);
                fresh = configured_.insert(handle).second;
            }
            if (fresh) {
                // Once per connection: NORMAL is durable enough with WAL (a power cut may lose
                // the last transactions, never corrupt). A harvest writes ~2 KB per series into
                // six B-trees; SQLite's default 2 MB page cache thrashes on a 1,000,000-series
                // catalog (allocated on demand).
                s << "PRAGMA synchronous=NORMAL", now;
                s << "PRAGMA cache_size=-65536", now;
                s << "PRAGMA temp_store=MEMORY", now;
            }
        }
        return s;
    } catch (const Poco::Data::SessionPoolExhaustedException& e) {
        throw BridgeError(ErrorCode::Overloaded, "catalog: all database sessions are busy");
    } catch (const Poco::Exception& e) {
        throw BridgeError(ErrorCode::Internal, "catalog database: " + e.displayText());
    }
}

void CatalogDatabase::createSchema() {
    Poco::Data::Session s = session();
    std::lock_guard<std::mutex> lock(writeMutex_);
    for (const char* sql : kSchema) s << sql, now;
}

}  // namespace bridge
