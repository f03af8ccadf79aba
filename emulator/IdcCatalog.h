#pragma once
// The emulator's IDC view of the SAME generated data it serves as NBIA (API.md sections 1-4):
// one idc_index row per public, materialised series (restricted and synthetic series are not
// in IDC), collections_index rows, the S3 objects of the three AWS buckets, and an in-memory
// SQLite copy of both tables for POST /v3/sql. Built once at serve start; the data is then
// immutable. Thread-safe: SQL runs one query at a time (a mutex), the version is guarded.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "emulator/DataIndex.h"
#include "emulator/S3Protocol.h"

struct sqlite3;

namespace emulator::idc {

/// One idc_index row ("" = NULL for strings).
struct IndexRow {
    std::string collection_id, PatientID, SeriesInstanceUID, StudyInstanceUID, source_DOI, PatientAge,
        PatientSex, StudyDate, StudyDescription, BodyPartExamined, Modality, SOPClassUID, sop_class_name,
        Manufacturer, ManufacturerModelName, SeriesDate, SeriesDescription, SeriesNumber, license_short_name,
        aws_bucket, crdc_series_uuid, series_aws_url;
    std::int64_t instanceCount = 0;
    std::int64_t series_init_idc_version = 0;
    std::int64_t series_revised_idc_version = 0;
    double series_size_MB = 0;
};

/// One collections_index row plus what /v3/collections shows.
struct CollectionRow {
    std::string collection_name, collection_id, source_doi, source_url, license_url, license_long_name,
        license_short_name, citation, description, tumor_locations, aws_bucket;
    std::int64_t subjects = 0;
};

/// Outcome of POST /v3/sql: a JSON body on success, else an error code of API.md 3.
struct SqlOutcome {
    int status = 200;
    std::string body;       ///< the answer JSON when status is 200
    std::string errorCode;  ///< invalid_query | query_timeout | result_too_large
    std::string message;
};

class IdcCatalog {
public:
    struct Options {
        std::string idcVersion = "v24";
        std::string indexDataVersion = "24.2.2";
        int sqlTimeoutMs = 30000;                        ///< API.md: 30 s, then 504 query_timeout
        std::size_t maxSqlBodyBytes = 64 * 1024 * 1024;  ///< larger answers: result_too_large
        /// Also put the synthetic catalog's series (DIR/synthetic.json) into the SQL tables
        /// (not into rows(), collections() or the buckets: they have no bytes). About 430 MB and
        /// several seconds for 1,000,000 series: for harvest benchmarks only.
        bool includeSynthetic = false;
    };

    /// Builds everything from `data` (reads one file, the largest object, for its multipart ETag).
    IdcCatalog(const DataIndex& data, Options options);
    ~IdcCatalog();
    IdcCatalog(const IdcCatalog&) = delete;
    IdcCatalog& operator=(const IdcCatalog&) = delete;

    /// Rows ordered by collection_id, PatientID, StudyInstanceUID, SeriesInstanceUID.
    const std::vector<IndexRow>& rows() const { return rows_; }
    /// Collections ordered by collection_id.
    const std::vector<CollectionRow>& collections() const { return collections_; }
    const CollectionRow* collection(const std::string& id) const;

    /// The objects of an AWS bucket by key, or nullptr for an unknown bucket.
    const std::map<std::string, s3::Object>* bucket(const std::string& name) const;

    /// Runs one guarded query (see IdcSql.h) returning at most maxRows rows.
    SqlOutcome sql(const std::string& query, int maxRows) const;

    /// The current {idc_version, idc_index_data_version}; settable for re-harvest tests.
    std::pair<std::string, std::string> version() const;
    void setVersion(const std::string& idcVersion, const std::string& indexDataVersion);
    /// A release that no longer lists these series (API.md 4: withdrawn series leave `index`
    /// for prior_versions_index; their objects stay in the buckets). They leave the /sql
    /// `index` table and the manifest/collection answers; unknown UIDs are ignored. Returns
    /// how many were withdrawn now. Not undoable (restart the emulator).
    std::size_t withdraw(const std::vector<std::string>& seriesInstanceUids);
    /// Whether a series was withdrawn by withdraw().
    bool withdrawn(const std::string& seriesInstanceUid) const;

private:
    void buildDatabase();
    void loadSynthetic(const DataIndex& data, int version);

    Options options_;
    std::vector<IndexRow> rows_;
    std::vector<CollectionRow> collections_;
    std::map<std::string, std::map<std::string, s3::Object>> buckets_;
    sqlite3* db_ = nullptr;
    mutable std::mutex sqlMutex_;
    mutable std::mutex versionMutex_;
    std::set<std::string> withdrawn_;  ///< guarded by versionMutex_
};

/// JSON string literal (RFC 8259 escaping; UTF-8 passed through).
std::string jsonQuote(const std::string& s);
/// JSON number for a double (shortest round-trip-ish, never NaN/Inf: those become null).
std::string jsonNumber(double v);

}  // namespace emulator::idc
