#include "emulator/IdcCatalog.h"

#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>
#include <Poco/String.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <stdexcept>
#include <tuple>

#include "emulator/IdcNames.h"
#include "emulator/IdcSql.h"

namespace emulator::idc {

namespace {

const char* const kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

int versionNumber(const std::string& v) {
    std::string digits;
    for (char c : v)
        if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    return digits.empty() ? 0 : std::stoi(digits);
}

// S3's multipart ETag for a two-part upload: md5(md5(part1) || md5(part2)) + "-2".
std::string multipartEtag(const std::string& path, std::int64_t size) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (static_cast<std::int64_t>(bytes.size()) != size) throw std::runtime_error("cannot read " + path);
    const std::size_t half = bytes.size() / 2;
    Poco::MD5Engine part, whole;
    part.update(bytes.data(), half);
    const auto d1 = part.digest();
    part.reset();
    part.update(bytes.data() + half, bytes.size() - half);
    const auto d2 = part.digest();
    whole.update(d1.data(), d1.size());
    whole.update(d2.data(), d2.size());
    return Poco::DigestEngine::digestToHex(whole.digest()) + "-2";
}

// DCMTK's "CTImageStorage" -> IDC's "CT Image Storage" (a space before each word).
std::string spacedName(const std::string& n) {
    std::string out;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const bool upper = std::isupper(static_cast<unsigned char>(n[i]));
        if (i > 0 && upper &&
            (std::islower(static_cast<unsigned char>(n[i - 1])) ||
             (i + 1 < n.size() && std::islower(static_cast<unsigned char>(n[i + 1])) &&
              std::isupper(static_cast<unsigned char>(n[i - 1])))))
            out += ' ';
        out += n[i];
    }
    return out;
}

// DuckDB's any_value(x): the first non-NULL value of the group.
void anyValueStep(sqlite3_context* ctx, int, sqlite3_value** argv) {
    auto** slot = static_cast<sqlite3_value**>(sqlite3_aggregate_context(ctx, sizeof(sqlite3_value*)));
    if (slot && !*slot && sqlite3_value_type(argv[0]) != SQLITE_NULL) *slot = sqlite3_value_dup(argv[0]);
}
void anyValueFinal(sqlite3_context* ctx) {
    auto** slot = static_cast<sqlite3_value**>(sqlite3_aggregate_context(ctx, 0));
    if (slot && *slot) {
        sqlite3_result_value(ctx, *slot);
        sqlite3_value_free(*slot);
    } else {
        sqlite3_result_null(ctx);
    }
}

// Only reading is authorised once the tables are loaded (belt and braces behind the guard).
int readOnlyAuthorizer(void*, int action, const char*, const char*, const char*, const char*) {
    switch (action) {
        case SQLITE_SELECT:
        case SQLITE_READ:
        case SQLITE_FUNCTION:
        case SQLITE_RECURSIVE:
            return SQLITE_OK;
        default:
            return SQLITE_DENY;
    }
}

struct Deadline {
    std::chrono::steady_clock::time_point until;
    bool expired = false;
};
int progress(void* p) {
    auto* d = static_cast<Deadline*>(p);
    if (std::chrono::steady_clock::now() >= d->until) d->expired = true;
    return d->expired ? 1 : 0;
}

void exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string message = err ? err : "sqlite error";
        sqlite3_free(err);
        throw std::runtime_error("IDC index: " + message);
    }
}

void bindText(sqlite3_stmt* st, int i, const std::string& v) {
    if (v.empty())
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

}  // namespace

std::string jsonQuote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

std::string jsonNumber(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    std::string s = buf;
    return s;
}

namespace {
// TCIA renames collections; IDC may keep another name (API.md 4). The emulator's IDC face
// names one collection differently from its TCIA (NBIA face) name, with the same DOI, so the
// bridge's join on DOI is exercised: TCIA name -> IDC collection_name.
const std::map<std::string, std::string>& idcRenamed() {
    static const std::map<std::string, std::string> renamed{{"Phantom-Mixed", "Mixed-Phantom-Demo"}};
    return renamed;
}
std::string idcName(const std::string& tciaName) {
    auto it = idcRenamed().find(tciaName);
    return it == idcRenamed().end() ? tciaName : it->second;
}

// The idc_index columns of one series, all but instanceCount and series_size_MB.
IndexRow baseRow(const SeriesRecord& r, const std::string& licenseUri, const std::string& licenseName,
                 const std::string& doi, bool headScans, int version) {
    IndexRow row;
    row.collection_id = collectionId(idcName(r.collection));
    row.PatientID = r.patientId;
    row.SeriesInstanceUID = r.seriesUid;
    row.StudyInstanceUID = r.studyUid;
    row.source_DOI = bareDoi(doi);
    row.PatientAge = r.patientAge;
    row.PatientSex = r.patientSex;
    row.StudyDate = isoDate(r.studyDate);
    row.StudyDescription = r.studyDescription;
    row.BodyPartExamined = r.bodyPart;
    row.Modality = r.modality;
    row.SOPClassUID = r.sopClassUid;
    // dcmFindNameOfUID scans DCMTK's table: remember the few SOP classes (1,000,000 synthetic rows).
    static thread_local std::map<std::string, std::string> names;
    auto known = names.find(r.sopClassUid);
    if (known == names.end()) {
        const char* name = dcmFindNameOfUID(r.sopClassUid.c_str(), nullptr);
        known = names.emplace(r.sopClassUid, name ? spacedName(name) : std::string()).first;
    }
    row.sop_class_name = known->second;
    row.Manufacturer = r.manufacturer;
    row.ManufacturerModelName = r.manufacturerModelName;
    row.SeriesDate = isoDate(r.seriesDate);
    row.SeriesDescription = r.seriesDescription;
    if (r.seriesNumber) row.SeriesNumber = std::to_string(*r.seriesNumber);
    row.license_short_name = licenseShortName(licenseUri, licenseName);
    row.aws_bucket = awsBucket(isNonCommercial(row.license_short_name), headScans);
    row.crdc_series_uuid = crdcUuid("series", r.seriesUid);
    row.series_aws_url = "s3://" + row.aws_bucket + "/" + row.crdc_series_uuid + "/*";
    row.series_init_idc_version = version;
    row.series_revised_idc_version = version;
    return row;
}

// Binds one row to INSERT INTO "index" VALUES(?,NULL,?...) and runs it.
void insertRow(sqlite3_stmt* st, const IndexRow& r) {
    int i = 1;
    for (const std::string* s :
         {&r.collection_id, &r.PatientID, &r.SeriesInstanceUID, &r.StudyInstanceUID, &r.source_DOI,
          &r.PatientAge, &r.PatientSex, &r.StudyDate, &r.StudyDescription, &r.BodyPartExamined, &r.Modality,
          &r.SOPClassUID, &r.sop_class_name, &r.Manufacturer, &r.ManufacturerModelName, &r.SeriesDate,
          &r.SeriesDescription, &r.SeriesNumber})
        bindText(st, i++, *s);
    sqlite3_bind_int64(st, i++, r.instanceCount);
    bindText(st, i++, r.license_short_name);
    sqlite3_bind_int64(st, i++, r.series_init_idc_version);
    sqlite3_bind_int64(st, i++, r.series_revised_idc_version);
    bindText(st, i++, r.aws_bucket);
    bindText(st, i++, r.crdc_series_uuid);
    bindText(st, i++, r.series_aws_url);
    sqlite3_bind_double(st, i++, r.series_size_MB);
    if (sqlite3_step(st) != SQLITE_DONE) throw std::runtime_error("IDC index: insert failed");
    sqlite3_reset(st);
}

const char* const kInsertIndex =
    "INSERT INTO \"index\" VALUES(?,NULL,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
}  // namespace

IdcCatalog::IdcCatalog(const DataIndex& data, Options options) : options_(std::move(options)) {
    const int version = versionNumber(options_.idcVersion);
    // Collections: public ones only (IDC mirrors TCIA's public collections, API.md 4).
    std::map<std::string, const CollectionInfo*> byName;
    for (const auto& c : data.collections())
        if (!c.restricted) byName[c.name] = &c;
    std::map<std::string, bool> headScans;
    std::vector<SeriesRecord> series;
    data.forEachStoredSeries([&](const SeriesRecord& r) {  // synthetic series have no bytes: not in IDC
        if (r.restricted || r.synthetic || !byName.count(r.collection)) return;
        if (data.instances(r.seriesUid).empty()) return;
        series.push_back(r);
        const std::string part = Poco::toUpper(r.bodyPart);
        if (part == "HEAD" || part == "BRAIN" || part == "HEADNECK" || part == "HEAD AND NECK")
            headScans[r.collection] = true;
    });

    std::map<std::string, std::set<std::string>> patients, locations;
    for (const auto& r : series) {
        const CollectionInfo& c = *byName.at(r.collection);
        IndexRow row =
            baseRow(r, c.licenseUri, c.licenseName, c.doi, headScans.count(r.collection) > 0, version);
        const auto& files = data.instances(r.seriesUid);
        row.instanceCount = static_cast<std::int64_t>(files.size());
        std::int64_t bytes = 0;
        auto& objects = buckets_[row.aws_bucket];
        const std::string modified = isoTimestamp(r.dateReleased.empty() ? c.dateReleased : r.dateReleased);
        for (const auto& f : files) {
            bytes += f.fileSize;
            s3::Object o;
            o.key = row.crdc_series_uuid + "/" + crdcUuid("instance", f.sopInstanceUid) + ".dcm";
            o.size = f.fileSize;
            o.etag = f.md5;
            o.lastModified = modified;
            o.path = f.path;
            objects[o.key] = o;
        }
        row.series_size_MB = static_cast<double>(bytes) / 1e6;
        patients[row.collection_id].insert(row.PatientID);
        if (!row.BodyPartExamined.empty()) locations[row.collection_id].insert(row.BodyPartExamined);
        rows_.push_back(std::move(row));
    }
    std::sort(rows_.begin(), rows_.end(), [](const IndexRow& a, const IndexRow& b) {
        return std::tie(a.collection_id, a.PatientID, a.StudyInstanceUID, a.SeriesInstanceUID) <
               std::tie(b.collection_id, b.PatientID, b.StudyInstanceUID, b.SeriesInstanceUID);
    });
    for (const char* b : {"idc-open-data", "idc-open-data-two", "idc-open-data-cr"}) buckets_[b];

    // The first series (SeriesInstanceUID order) of each collection also has the zero-byte
    // "<uuid>/" key third parties report (API.md 1).
    std::map<std::string, const IndexRow*> firstOfCollection;
    for (const auto& row : rows_) {
        auto& f = firstOfCollection[row.collection_id];
        if (!f || row.SeriesInstanceUID < f->SeriesInstanceUID) f = &row;
    }
    for (const auto& [id, row] : firstOfCollection) {
        s3::Object marker;
        marker.key = row->crdc_series_uuid + "/";
        marker.etag = kEmptyMd5;
        const auto& objects = buckets_[row->aws_bucket];
        marker.lastModified =
            objects.empty() ? "2024-03-29T16:12:02.000Z" : objects.begin()->second.lastModified;
        buckets_[row->aws_bucket][marker.key] = marker;
    }
    // The largest object (first in bucket/key order on ties) carries a two-part multipart ETag.
    s3::Object* largest = nullptr;
    for (auto& [name, objects] : buckets_)
        for (auto& [key, o] : objects)
            if (!largest || o.size > largest->size) largest = &o;
    if (largest && largest->size > 1) largest->etag = multipartEtag(largest->path, largest->size);

    for (const auto& c : data.collections()) {
        if (c.restricted) continue;
        const std::string id = collectionId(idcName(c.name));
        if (!patients.count(id)) continue;
        CollectionRow row;
        row.collection_name = idcName(c.name);
        row.collection_id = id;
        row.source_doi = bareDoi(c.doi);
        row.source_url = "https://doi.org/" + row.source_doi;
        row.license_url = c.licenseUri;
        row.license_long_name = c.licenseName;
        row.license_short_name = licenseShortName(c.licenseUri, c.licenseName);
        row.citation = c.name + " (emulated collection). The Cancer Imaging Archive. " + row.source_url;
        row.description = "<p>" + c.name + ": de-identified images generated by tcia-emulator.</p>";
        for (const auto& l : locations[id])
            row.tumor_locations += (row.tumor_locations.empty() ? "" : ", ") + l;
        row.subjects = static_cast<std::int64_t>(patients[id].size());
        row.aws_bucket = awsBucket(isNonCommercial(row.license_short_name), headScans.count(c.name) > 0);
        collections_.push_back(row);
    }
    std::sort(collections_.begin(), collections_.end(), [](const CollectionRow& a, const CollectionRow& b) {
        return a.collection_id < b.collection_id;
    });
    buildDatabase();
    if (options_.includeSynthetic) loadSynthetic(data, version);
    sqlite3_create_function(db_, "any_value", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, nullptr,
                            anyValueStep, anyValueFinal);
    sqlite3_set_authorizer(db_, readOnlyAuthorizer, nullptr);  // from now on: reads only
}

void IdcCatalog::loadSynthetic(const DataIndex& data, int version) {
    exec(db_, "BEGIN");
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, kInsertIndex, -1, &st, nullptr);
    struct Coll {
        std::string name, licenseUri, licenseName, doi;
        std::set<std::string> patients;
    };
    std::map<std::string, Coll> colls;
    data.forEachSeries(SeriesHint{}, [&](const SeriesRecord& r) {
        if (!r.synthetic) return;
        IndexRow row = baseRow(r, r.licenseUri, r.licenseName, r.doi, false, version);
        row.instanceCount = r.imageCount;
        row.series_size_MB = static_cast<double>(r.fileSize) / 1e6;
        insertRow(st, row);
        auto& c = colls[row.collection_id];
        if (c.name.empty()) c = {r.collection, r.licenseUri, r.licenseName, r.doi, {}};
        c.patients.insert(r.patientId);
    });
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db_,
                       "INSERT INTO collections_index VALUES(?,?,NULL,NULL,?,'Human','Complete',NULL,NULL,?)",
                       -1, &st, nullptr);
    for (const auto& [id, c] : colls) {
        const std::string doi = bareDoi(c.doi);
        const std::string sources =
            "[{\"source_doi\":" + jsonQuote(doi) + ",\"source_url\":" + jsonQuote("https://doi.org/" + doi) +
            ",\"license\":{\"license_url\":" + jsonQuote(c.licenseUri) +
            ",\"license_long_name\":" + jsonQuote(c.licenseName) +
            ",\"license_short_name\":" + jsonQuote(licenseShortName(c.licenseUri, c.licenseName)) +
            "},\"citation\":null}]";
        bindText(st, 1, c.name);
        bindText(st, 2, id);
        sqlite3_bind_int64(st, 3, static_cast<sqlite3_int64>(c.patients.size()));
        bindText(st, 4, sources);
        if (sqlite3_step(st) != SQLITE_DONE) throw std::runtime_error("IDC index: insert failed");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    exec(db_, "COMMIT");
    // Keyset and LIMIT/OFFSET harvests order by SeriesInstanceUID; study queries filter by collection.
    exec(db_,
         "CREATE INDEX index_series ON \"index\"(SeriesInstanceUID);"
         "CREATE INDEX index_collection ON \"index\"(collection_id, PatientID, StudyInstanceUID)");
}

IdcCatalog::~IdcCatalog() {
    if (db_) sqlite3_close_v2(db_);
}

void IdcCatalog::buildDatabase() {
    if (sqlite3_open_v2(":memory:", &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
        throw std::runtime_error("IDC index: cannot open SQLite");
    exec(
        db_,
        "CREATE TABLE \"index\"(collection_id TEXT, analysis_result_id TEXT, PatientID TEXT, "
        "SeriesInstanceUID TEXT,"
        " StudyInstanceUID TEXT, source_DOI TEXT, PatientAge TEXT, PatientSex TEXT, StudyDate TEXT,"
        " StudyDescription TEXT, BodyPartExamined TEXT, Modality TEXT, SOPClassUID TEXT, sop_class_name TEXT,"
        " Manufacturer TEXT, ManufacturerModelName TEXT, SeriesDate TEXT, SeriesDescription TEXT, "
        "SeriesNumber TEXT,"
        " instanceCount INTEGER, license_short_name TEXT, series_init_idc_version INTEGER,"
        " series_revised_idc_version INTEGER, aws_bucket TEXT, crdc_series_uuid TEXT, series_aws_url TEXT,"
        " series_size_MB REAL);"
        "CREATE TABLE collections_index(collection_name TEXT, collection_id TEXT, cancer_types TEXT,"
        " tumor_locations TEXT, subjects INTEGER, species TEXT, status TEXT, description TEXT,"
        " supporting_data TEXT, sources JSON);");
    exec(db_, "BEGIN");
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, kInsertIndex, -1, &st, nullptr);
    for (const auto& r : rows_) insertRow(st, r);
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db_, "INSERT INTO collections_index VALUES(?,?,NULL,?,?,'Human','Complete',?,NULL,?)",
                       -1, &st, nullptr);
    for (const auto& c : collections_) {
        const std::string sources = "[{\"source_doi\":" + jsonQuote(c.source_doi) +
                                    ",\"source_url\":" + jsonQuote(c.source_url) +
                                    ",\"license\":{\"license_url\":" + jsonQuote(c.license_url) +
                                    ",\"license_long_name\":" + jsonQuote(c.license_long_name) +
                                    ",\"license_short_name\":" + jsonQuote(c.license_short_name) +
                                    "},\"citation\":" + jsonQuote(c.citation) + "}]";
        bindText(st, 1, c.collection_name);
        bindText(st, 2, c.collection_id);
        bindText(st, 3, c.tumor_locations);
        sqlite3_bind_int64(st, 4, c.subjects);
        bindText(st, 5, c.description);
        bindText(st, 6, sources);
        if (sqlite3_step(st) != SQLITE_DONE) throw std::runtime_error("IDC index: insert failed");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    exec(db_, "COMMIT");
}

const CollectionRow* IdcCatalog::collection(const std::string& id) const {
    for (const auto& c : collections_)
        if (c.collection_id == id) return &c;
    return nullptr;
}

const std::map<std::string, s3::Object>* IdcCatalog::bucket(const std::string& name) const {
    auto it = buckets_.find(name);
    return it == buckets_.end() ? nullptr : &it->second;
}

std::pair<std::string, std::string> IdcCatalog::version() const {
    std::lock_guard<std::mutex> lock(versionMutex_);
    return {options_.idcVersion, options_.indexDataVersion};
}

void IdcCatalog::setVersion(const std::string& idcVersion, const std::string& indexDataVersion) {
    std::lock_guard<std::mutex> lock(versionMutex_);
    if (!idcVersion.empty()) options_.idcVersion = idcVersion;
    if (!indexDataVersion.empty()) options_.indexDataVersion = indexDataVersion;
}

std::size_t IdcCatalog::withdraw(const std::vector<std::string>& uids) {
    std::size_t count = 0;
    {
        std::lock_guard<std::mutex> lock(versionMutex_);
        for (const auto& uid : uids)
            for (const auto& r : rows_)
                if (r.SeriesInstanceUID == uid && withdrawn_.insert(uid).second) ++count;
    }
    std::lock_guard<std::mutex> lock(sqlMutex_);
    sqlite3_set_authorizer(db_, nullptr, nullptr);  // the one write after loading
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, "DELETE FROM \"index\" WHERE SeriesInstanceUID = ?", -1, &st, nullptr);
    for (const auto& uid : uids) {
        bindText(st, 1, uid);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_set_authorizer(db_, readOnlyAuthorizer, nullptr);
    return count;
}

bool IdcCatalog::withdrawn(const std::string& uid) const {
    std::lock_guard<std::mutex> lock(versionMutex_);
    return withdrawn_.count(uid) > 0;
}

SqlOutcome IdcCatalog::sql(const std::string& query, int maxRows) const {
    SqlOutcome out;
    auto fail = [&](int status, const std::string& code, const std::string& message) {
        out.status = status;
        out.errorCode = code;
        out.message = message;
        return out;
    };
    if (auto error = sqlGuardError(query)) return fail(400, "invalid_query", *error);
    const std::string rewritten = rewriteIndexTable(query);

    std::lock_guard<std::mutex> lock(sqlMutex_);
    sqlite3_stmt* st = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, rewritten.c_str(), static_cast<int>(rewritten.size()), &st, &tail) !=
        SQLITE_OK) {
        const std::string message = sqlite3_errmsg(db_);
        sqlite3_finalize(st);
        return fail(400, "invalid_query", message);
    }
    if (!st || !sqlite3_stmt_readonly(st) ||
        (tail && sqlGuardError("SELECT 1" + std::string(tail)).has_value())) {  // a second statement
        sqlite3_finalize(st);
        return fail(400, "invalid_query", "Only a single read-only SELECT or WITH query is allowed");
    }
    Deadline deadline{std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.sqlTimeoutMs)};
    sqlite3_progress_handler(db_, 1000, progress, &deadline);

    const int columns = sqlite3_column_count(st);
    std::vector<std::string> names;
    std::vector<bool> jsonColumn;
    std::string body = "{\"columns\":[";
    for (int c = 0; c < columns; ++c) {
        names.push_back(jsonQuote(sqlite3_column_name(st, c)));
        const char* decl = sqlite3_column_decltype(st, c);
        jsonColumn.push_back(decl && Poco::icompare(std::string(decl), "JSON") == 0);
        body += (c ? "," : "") + names.back();
    }
    body += "],\"rows\":[";
    int count = 0;
    bool truncated = false;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == maxRows) {
            truncated = true;
            break;
        }
        body += count ? ",{" : "{";
        for (int c = 0; c < columns; ++c) {
            body += (c ? "," : "") + names[static_cast<std::size_t>(c)] + ":";
            switch (sqlite3_column_type(st, c)) {
                case SQLITE_NULL:
                    body += "null";
                    break;
                case SQLITE_INTEGER:
                    body += std::to_string(sqlite3_column_int64(st, c));
                    break;
                case SQLITE_FLOAT:
                    body += jsonNumber(sqlite3_column_double(st, c));
                    break;
                default: {
                    const std::string text(reinterpret_cast<const char*>(sqlite3_column_text(st, c)),
                                           static_cast<std::size_t>(sqlite3_column_bytes(st, c)));
                    body += jsonColumn[static_cast<std::size_t>(c)] ? text : jsonQuote(text);
                }
            }
        }
        body += "}";
        ++count;
        if (body.size() > options_.maxSqlBodyBytes) {
            sqlite3_progress_handler(db_, 0, nullptr, nullptr);
            sqlite3_finalize(st);
            return fail(413, "result_too_large",
                        "Result exceeds " + std::to_string(options_.maxSqlBodyBytes) +
                            " bytes; select fewer rows or columns");
        }
    }
    const bool timedOut = deadline.expired;
    const std::string error = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? "" : sqlite3_errmsg(db_);
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    sqlite3_finalize(st);
    if (timedOut)
        return fail(504, "query_timeout",
                    "Query exceeded " + std::to_string(options_.sqlTimeoutMs / 1000.0).substr(0, 6) + " s");
    if (!error.empty()) return fail(400, "invalid_query", error);
    body += "],\"row_count\":" + std::to_string(count) + ",\"truncated\":" + (truncated ? "true" : "false") +
            ",\"max_rows\":" + std::to_string(maxRows) + "}";
    out.body = std::move(body);
    return out;
}

}  // namespace emulator::idc
