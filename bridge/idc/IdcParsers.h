#pragma once
// Pure pieces of the IDC source (shared/idc/API.md): SQL literal quoting, /v3/sql page JSON,
// S3 ListObjectsV2 and error XML, the bucket URL template, TCIA name <-> IDC collection_id, and
// the mapping of index rows to the TCIA model (tcia/Model.h).
//
// Tolerant by design, because v3 is a beta (API.md 3, 7): unknown JSON fields and XML elements
// are ignored, missing ones leave the field empty, XML children are read in any order, numbers
// may arrive as numbers or strings, null is "". A body that is not the expected JSON/XML at all
// throws BridgeError(UpstreamBadResponse) with an excerpt. All functions are pure, thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/tcia/Model.h"

namespace bridge::idc {

/// `it's` -> `'it''s'`: a SQL string literal for IDC's /sql, which has no bind parameters.
std::string sqlQuote(std::string_view value);

/// One /sql answer row: column -> value as text (null and absent -> ""; 12 -> "12", 1.5 -> "1.5").
using SqlRow = std::map<std::string, std::string>;

struct SqlPage {
    std::vector<SqlRow> rows;
    bool truncated = false;  ///< IDC cut the answer at max_rows
};

/// POST /v3/sql answer `{columns, rows:[{col:val}], row_count, truncated, max_rows}`. An error
/// body `{"error":{"code","message"}}` throws: query_timeout -> UpstreamTimeout, not_found ->
/// NotFound, anything else -> UpstreamBadResponse (with IDC's code and message).
SqlPage parseSqlPage(std::string_view body);

/// The text of an SqlRow's column ("" when absent).
std::string column(const SqlRow& row, const std::string& name);

/// `{"error":{...}}` / FastAPI `{"detail":...}` / anything: a short human-readable reason.
std::string describeApiError(std::string_view body);

/// GET /v3/version: idc_version ("v24"); "" when absent. Throws UpstreamBadResponse if not JSON.
std::string parseIdcVersion(std::string_view body);

/// GET /v3/collections: (collection_name, collection_id) pairs; entries without an id skipped.
std::vector<std::pair<std::string, std::string>> parseCollectionList(std::string_view body);

/// One object of a ListObjectsV2 page.
struct S3Object {
    std::string key;
    std::string etag;  ///< quotes removed (`"abc"` and `&quot;abc&quot;` -> abc)
    std::optional<std::uint64_t> size;
};

struct ListPage {
    std::vector<S3Object> objects;
    bool truncated = false;
    std::string nextContinuationToken;
};

/// ListBucketResult XML (any element order, namespace or not). Throws UpstreamBadResponse for
/// XML that is not a ListBucketResult (an <Error> document included: see parseS3Error).
ListPage parseListObjects(std::string_view xml);

struct S3Error {
    std::string code;  ///< "NoSuchKey", "SlowDown", "InvalidRange", ...
    std::string message;
};
/// An S3 `<Error>` document; nullopt when the body is not one.
std::optional<S3Error> parseS3Error(std::string_view xml);

/// Whether an S3 ETag (quotes removed) is a plain MD5 (32 hex digits, not multipart `<hex>-<n>`).
bool isMd5Etag(std::string_view etag);

/// The object keys of a series listing worth fetching: zero-byte objects and keys ending in `/`
/// (the "directory" placeholder some prefixes carry) are dropped.
bool isInstanceObject(const S3Object& object);

/// `https://{bucket}.s3.amazonaws.com` + ("idc-open-data", "uuid/x.dcm") ->
/// `https://idc-open-data.s3.amazonaws.com/uuid/x.dcm`. Every `{bucket}` is replaced; a template
/// without one is used as is (one endpoint for all buckets). Throws InvalidArgument for an empty
/// bucket when the template needs one, or a bucket with characters outside [a-z0-9.-].
std::string bucketObjectUrl(const std::string& templ, const std::string& bucket, const std::string& key);

/// The ListObjectsV2 URL of `prefix` (max-keys 1000, continuation token when given).
std::string listObjectsUrl(const std::string& templ, const std::string& bucket, const std::string& prefix,
                           const std::string& continuationToken);

/// The IDC collection_id pattern (API.md 4, inferred): lower case, `-` and space -> `_`.
/// "TCGA-LUAD" -> "tcga_luad". Used only when IDC's collection list lacks the name.
std::string collectionIdFromName(std::string_view tciaName);

/// "2000-01-02" / "2000-01-02T..." / "20000102" -> "20000102"; anything else -> "".
std::string isoToDicomDate(std::string_view text);

/// Maps IDC collection_id -> TCIA collection name (the record's `collection`).
using CollectionNames = std::map<std::string, std::string>;

/// An `index` row (columns of API.md 2) -> the TCIA model. collection_id is mapped through
/// `names` (unknown ids keep the id); source_DOI becomes https://doi.org/<doi>.
tcia::SeriesRecord seriesFromRow(const SqlRow& row, const CollectionNames& names);
tcia::StudyRecord studyFromRow(const SqlRow& row, const CollectionNames& names);
tcia::PatientRecord patientFromRow(const SqlRow& row, const CollectionNames& names);

/// One entry of a collections_index row's `sources[]`.
struct CollectionSource {
    std::string doi;  ///< bare, as IDC spells it
    std::string licenseShortName;
    std::string licenseUrl;
    std::string citation;
};

/// Licence and citation of one collection, from collections_index (for the landing page).
struct CollectionInfo {
    std::string name;  ///< collection_name (TCIA's); after joinCollections() the bridge's TCIA name
    std::string id;    ///< collection_id
    std::string licenseShortName;
    std::string licenseUrl;
    std::string citation;
    std::string sourceDoi;
    bool nonCommercial = false;  ///< a CC BY-NC licence
    std::vector<CollectionSource> sources;  ///< every source, in IDC's order
    std::string idcName;  ///< collection_name as IDC spells it (differs from `name` after a DOI join)
};
/// A collections_index row whose `sources` column is the JSON array (or its text) of
/// {source_doi, source_url, license{license_url, license_long_name, license_short_name}, citation}.
/// The first source with a licence wins.
CollectionInfo collectionInfoFromRow(const SqlRow& row);

/// "https://doi.org/10.7937/X" / "doi:10.7937/X" / "10.7937/x" -> "10.7937/x" (bare, lower case:
/// DOIs are case-insensitive). Pure.
std::string normalDoi(std::string_view doiOrUrl);

/// How the bridge names IDC's collections: TCIA names joined on DOI (API.md 4). Built by
/// joinCollections(); read by the row mappers below.
struct CollectionDirectory {
    CollectionNames nameById;                          ///< collection_id -> TCIA name
    std::map<std::string, std::string> nameByDoi;      ///< normalDoi -> TCIA name (unambiguous DOIs only)
    std::map<std::string, std::string> idByName;       ///< upper-case TCIA name, IDC name and id -> collection_id
    std::map<std::string, CollectionInfo> infoByName;  ///< upper-case TCIA name -> licence, citation, sources
    std::map<std::string, CollectionSource> sourceByDoi;  ///< normalDoi -> the source (licence of its series)
    /// Built from collections_index (sources and DOIs known); false after the GET /collections
    /// fallback, which cannot say which series a renamed collection holds.
    bool fromIndex = false;
};

/// Joins collections_index with the TCIA names the operator knows (`tciaNames`: TCIA name ->
/// DOI, IdcSettings::tciaNames). A collection one of whose sources[].source_doi equals a given
/// DOI takes that TCIA name (the join on DOI: TCIA renamed it, IDC kept another name or id);
/// every other collection keeps collection_name (TCIA's name as IDC records it), then its id.
/// A DOI listed by two collections joins neither by DOI. Pure.
CollectionDirectory joinCollections(const std::vector<CollectionInfo>& idc,
                                    const std::map<std::string, std::string>& tciaNames);

/// The TCIA collection name of an index row: the collection of its source_DOI, else of its
/// collection_id, else the id itself. Pure.
std::string tciaCollectionName(const CollectionDirectory& directory, const std::string& collectionId,
                               const std::string& sourceDoi);

/// As the CollectionNames overloads, named through the directory (tciaCollectionName).
tcia::SeriesRecord joinedSeriesFromRow(const SqlRow& row, const CollectionDirectory& directory);
tcia::StudyRecord joinedStudyFromRow(const SqlRow& row, const CollectionDirectory& directory);
tcia::PatientRecord joinedPatientFromRow(const SqlRow& row, const CollectionDirectory& directory);

}  // namespace bridge::idc
