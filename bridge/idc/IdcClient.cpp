#include "bridge/idc/IdcClient.h"

#include <Poco/Logger.h>
#include <Poco/String.h>
#include <json/json.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <future>
#include <limits>
#include <random>
#include <set>

#include "bridge/common/Error.h"
#include "bridge/idc/ParallelFetch.h"
#include "bridge/tcia/InstanceMetaReader.h"
#include "bridge/tcia/Md5Lanes.h"
#include "bridge/tcia/RetryPolicy.h"

namespace bridge::idc {

namespace {

Poco::Logger& log() { return Poco::Logger::get("bridge.idc"); }

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

const char* const kSeriesColumns =
    "collection_id, PatientID, PatientSex, PatientAge, StudyInstanceUID, StudyDate, StudyDescription, "
    "SeriesInstanceUID, SeriesDate, SeriesDescription, SeriesNumber, Modality, BodyPartExamined, "
    "Manufacturer, "
    "ManufacturerModelName, instanceCount, series_size_MB, license_short_name, source_DOI, "
    "analysis_result_id, "
    "series_revised_idc_version";
const char* const kStudyColumns =
    "collection_id, source_DOI, PatientID, PatientSex, PatientAge, StudyInstanceUID, StudyDate, "
    "StudyDescription, SeriesInstanceUID";
const char* const kPatientColumns = "collection_id, source_DOI, PatientID, PatientSex, SeriesInstanceUID";

/// How long a series download's consumer waits for more objects to hash beside the one it has,
/// so that Md5Lanes' lanes fill up (parallelFetch's `gather`). Each object waits at most this
/// long; the first of a series not at all. Objects arrive every 1-2 ms from the emulator on two
/// cores, every few ms from S3 with eight GETs in flight.
constexpr std::chrono::milliseconds kMd5Gather{10};

}  // namespace

IdcClient::IdcClient(const TciaSettings& http, const IdcSettings& idc, std::string pinFile)
    : http_(http),
      idc_(idc),
      transport_(http_),
      buckets_(bucketSettings(http_, idc_)),
      pinFile_(std::move(pinFile)),
      buffers_(std::make_shared<BufferPool>(kPooledObjectBytes, kBufferPoolBytes,
                                          std::numeric_limits<std::size_t>::max())),
      pool_(std::make_unique<Poco::ThreadPool>(1, poolCapacity(idc_), 60)) {
    while (!idc_.apiUrl.empty() && idc_.apiUrl.back() == '/') idc_.apiUrl.pop_back();
    if (!pinFile_.empty()) {
        std::ifstream in(pinFile_);
        std::getline(in, pinned_);
        while (!pinned_.empty() && std::isspace(static_cast<unsigned char>(pinned_.back())))
            pinned_.pop_back();
    }
}

std::size_t IdcClient::prefillObjectBuffers() { return buffers_->prefill(kPrefillObjectBytes); }

TciaSettings IdcClient::bucketSettings(const TciaSettings& http, const IdcSettings& idc) {
    TciaSettings s = http;
    s.maxConcurrentRequests = std::max(http.maxConcurrentRequests, idc.maxParallelGets);
    return s;
}

int IdcClient::poolCapacity(const IdcSettings& idc) { return 2 * std::max(1, idc.maxParallelGets); }

std::optional<int> IdcClient::versionNumber(const std::string& v) {
    std::size_t i = 0;
    while (i < v.size() && !std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
    if (i == v.size()) return std::nullopt;
    int n = 0;
    for (; i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) && n < 1'000'000; ++i)
        n = n * 10 + (v[i] - '0');
    return n;
}

std::string IdcClient::pinnedVersion() {
    std::lock_guard lock(mutex_);
    return pinned_;
}

void IdcClient::pin(const std::string& version) {
    std::lock_guard lock(mutex_);
    if (version.empty() || version == pinned_) return;
    pinned_ = version;
    if (pinFile_.empty()) return;
    // Written whole, then renamed: a crash never leaves half a version behind.
    const std::string tmp = pinFile_ + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << version << "\n";
        if (!out) {
            log().warning("cannot write the IDC version pin %s", tmp);
            return;
        }
    }
    std::rename(tmp.c_str(), pinFile_.c_str());
}

std::string IdcClient::revisedCondition() {
    std::lock_guard lock(mutex_);
    return refreshFrom_ ? "series_revised_idc_version > " + std::to_string(*refreshFrom_) : std::string();
}

IdcClient::~IdcClient() = default;

std::string IdcClient::indexQuery(const std::string& columns,
                                  const std::vector<std::pair<std::string, std::string>>& where,
                                  const std::string& orderBy, std::size_t limit, std::size_t offset,
                                  const std::string& condition) {
    std::string q = "SELECT " + columns + " FROM index";
    const char* sep = " WHERE ";
    for (const auto& [name, value] : where) {
        if (value.empty()) continue;
        q += sep + name + " = " + sqlQuote(value);
        sep = " AND ";
    }
    if (!condition.empty()) q += sep + condition;
    if (!orderBy.empty()) q += " ORDER BY " + orderBy;
    q += " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(offset);
    return q;
}

tcia::HttpResponse IdcClient::postSql(const std::string& query, const RequestContext* context, int maxRows) {
    Json::Value body;
    body["sql"] = query;
    body["max_rows"] = maxRows > 0 ? maxRows : idc_.sqlPageRows;
    Json::StreamWriterBuilder w;
    w["indentation"] = "";
    return transport_.postBody(idc_.apiUrl + "/sql", "application/json", Json::writeString(w, body), "/v3/sql",
                               context);
}

SqlPage IdcClient::sqlAnswer(const tcia::HttpResponse& r) {
    if (r.status == 200) return parseSqlPage(r.body);
    const std::string what = "IDC /sql -> HTTP " + std::to_string(r.status) + ": " + describeApiError(r.body);
    if (r.status == 504) throw BridgeError(ErrorCode::UpstreamTimeout, what);
    if (r.status == 404) throw BridgeError(ErrorCode::NotFound, what);
    if (r.status >= 500) throw BridgeError(ErrorCode::UpstreamUnavailable, what);
    // 400/422: our query or body was refused (a beta contract change): the answer is unusable.
    parseSqlPage(r.body);  // throws with IDC's own error code when there is one
    throw BridgeError(ErrorCode::UpstreamBadResponse, what);
}

SqlPage IdcClient::sql(const std::string& query, const RequestContext* context, int maxRows) {
    return sqlAnswer(postSql(query, context, maxRows));
}

void IdcClient::pages(const std::string& columns,
                      const std::vector<std::pair<std::string, std::string>>& where,
                      const std::string& orderBy, const std::function<void(std::vector<SqlRow>&&)>& onPage,
                      const RequestContext* context, const std::string& condition) {
    const std::size_t pageRows = static_cast<std::size_t>(std::max(1, idc_.sqlPageRows));
    // The page ahead is only fetched on the side (its body, a few MB); it is parsed here, on the
    // caller's thread, when its turn comes: parsing beside the consumer held two pages' JSON trees
    // at once (the harvest's VmHWM 125 -> 178 MB). It runs under a child of the caller's context:
    // the caller's stop stops it, and leaving early (onPage threw) stops it too, before the
    // future's destructor waits for it.
    const RequestContext aheadContext = context ? context->child() : RequestContext();
    struct Ahead {
        const RequestContext& context;
        std::future<tcia::HttpResponse> answer;
        std::size_t offset = 0;
        ~Ahead() {
            if (answer.valid()) context.cancel();
        }
    } ahead{aheadContext, {}};
    const auto fetch = [&](std::size_t offset, const RequestContext* under) {
        return postSql(indexQuery(columns, where, orderBy, pageRows, offset, condition), under);
    };
    for (std::size_t offset = 0;;) {
        if (context) context->throwIfCancelled();
        SqlPage page = sqlAnswer(ahead.answer.valid() && ahead.offset == offset ? ahead.answer.get()
                                                                                : fetch(offset, context));
        const std::size_t got = page.rows.size();
        if (got > pageRows)
            throw BridgeError(ErrorCode::UpstreamBadResponse, "IDC /sql answered more rows than LIMIT");
        // A page IDC cut below LIMIT (`truncated`: its own row cap) continues where it stopped.
        const bool last = got == 0 || (got < pageRows && !page.truncated);
        if (!last) {
            ahead.offset = offset + got;
            ahead.answer = std::async(std::launch::async, fetch, ahead.offset, &aheadContext);
        }
        if (got > 0) onPage(std::move(page.rows));
        if (last) return;
        offset += got;
    }
}

CollectionDirectory IdcClient::directory(const RequestContext& context) {
    {
        std::lock_guard lock(mutex_);
        if (!directory_.nameById.empty()) return directory_;
    }
    collections(context);
    std::lock_guard lock(mutex_);
    return directory_;
}

std::string IdcClient::collectionId(const std::string& tciaName, const RequestContext& context) {
    if (tciaName.empty()) return "";
    {
        std::lock_guard lock(mutex_);
        if (!directory_.nameById.empty()) {
            auto it = directory_.idByName.find(upper(tciaName));
            return it != directory_.idByName.end() ? it->second : collectionIdFromName(tciaName);
        }
    }
    try {
        collections(context);
    } catch (const BridgeError& e) {
        if (e.code() == ErrorCode::Cancelled) throw;
    }
    std::lock_guard lock(mutex_);
    auto it = directory_.idByName.find(upper(tciaName));
    return it != directory_.idByName.end() ? it->second : collectionIdFromName(tciaName);
}

std::vector<std::string> IdcClient::collections(const RequestContext& context) {
    if (pinnedVersion().empty()) {
        // The release this harvest reads: pinned before the first page, so a release published
        // during the harvest is caught by the next refresh (updatedSeries) rather than missed.
        try {
            pin(idcVersion(context));
        } catch (const BridgeError& e) {
            log().warning("IDC /version: %s; the harvested release stays unpinned for now",
                          std::string(e.what()));
        }
    }
    std::vector<CollectionInfo> infos;
    bool fromIndex = true;
    try {
        SqlPage page =
            sql("SELECT collection_name, collection_id, sources FROM collections_index ORDER BY "
                "collection_name LIMIT 10000 OFFSET 0",
                &context, 10000);  // every collection in one answer, whatever the page size
        for (const auto& row : page.rows)
            if (!column(row, "collection_id").empty()) infos.push_back(collectionInfoFromRow(row));
    } catch (const BridgeError& e) {
        if (e.code() != ErrorCode::UpstreamBadResponse && e.code() != ErrorCode::NotFound) throw;
        log().information("IDC collections_index through /sql failed (%s); using GET /collections",
                          std::string(e.what()));
        fromIndex = false;
        tcia::HttpResponse r = transport_.get(idc_.apiUrl + "/collections", {}, &context);
        if (r.status != 200)
            throw BridgeError(
                r.status >= 500 ? ErrorCode::UpstreamUnavailable : ErrorCode::UpstreamBadResponse,
                "IDC /collections -> HTTP " + std::to_string(r.status) + ": " + describeApiError(r.body));
        for (const auto& [name, id] : parseCollectionList(r.body)) {
            CollectionInfo info;
            info.name = info.idcName = name;
            info.id = id;
            infos.push_back(std::move(info));
        }
    }
    CollectionDirectory joined = joinCollections(infos, idc_.tciaNames);
    joined.fromIndex = fromIndex;
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (const auto& info : infos)
        if (auto it = joined.nameById.find(info.id); it != joined.nameById.end() && seen.insert(upper(it->second)).second)
            names.push_back(it->second);
    std::lock_guard lock(mutex_);
    directory_ = std::move(joined);
    return names;
}

std::vector<CollectionInfo> IdcClient::collectionInfos(const RequestContext& context) {
    SqlPage page =
        sql("SELECT * FROM collections_index ORDER BY collection_name LIMIT 10000 OFFSET 0", &context, 10000);
    std::vector<CollectionInfo> rows;
    for (const auto& row : page.rows) rows.push_back(collectionInfoFromRow(row));
    // Named as the bridge names them (the TCIA name, joined on DOI).
    const CollectionDirectory joined = joinCollections(rows, idc_.tciaNames);
    std::vector<CollectionInfo> out;
    for (const auto& [upperName, info] : joined.infoByName) out.push_back(info);
    return out;
}

std::string IdcClient::idcVersion(const RequestContext& context) {
    tcia::HttpResponse r = transport_.get(idc_.apiUrl + "/version", {}, &context);
    if (r.status != 200)
        throw BridgeError(r.status >= 500 ? ErrorCode::UpstreamUnavailable : ErrorCode::UpstreamBadResponse,
                          "IDC /version -> HTTP " + std::to_string(r.status));
    return parseIdcVersion(r.body);
}

std::vector<std::string> IdcClient::distinctValues(const std::string& col, const tcia::ValueFilter& f,
                                                   const RequestContext& context) {
    std::vector<std::pair<std::string, std::string>> where{{"collection_id", collectionId(f.collection, context)},
                                                           {"Modality", f.modality},
                                                           {"BodyPartExamined", f.bodyPartExamined}};
    std::vector<std::string> out;
    pages(
        "DISTINCT " + col, where, col,
        [&](std::vector<SqlRow>&& rows) {
            for (const auto& r : rows)
                if (auto v = column(r, col); !v.empty()) out.push_back(v);
        },
        &context);
    return out;
}

std::vector<std::string> IdcClient::modalityValues(const tcia::ValueFilter& f, const RequestContext& context) {
    return distinctValues("Modality", f, context);
}
std::vector<std::string> IdcClient::bodyPartValues(const tcia::ValueFilter& f, const RequestContext& context) {
    return distinctValues("BodyPartExamined", f, context);
}
std::vector<std::string> IdcClient::manufacturerValues(const tcia::ValueFilter& f, const RequestContext& context) {
    return distinctValues("Manufacturer", f, context);
}

// ---- patients and studies: folded from series rows in key order -------------------------------

void IdcClient::patientBatches(const tcia::PatientFilter& f, std::size_t batchSize,
                               const tcia::BatchSink<tcia::PatientRecord>& sink, const RequestContext& context) {
    if (batchSize == 0) batchSize = 1;
    const CollectionDirectory names = directory(context);
    std::vector<std::pair<std::string, std::string>> where{{"collection_id", collectionId(f.collection, context)},
                                                           {"PatientID", f.patientId}};
    std::vector<tcia::PatientRecord> batch;
    std::optional<tcia::PatientRecord> open;  // may continue on the next page
    auto emit = [&](tcia::PatientRecord&& p) {
        batch.push_back(std::move(p));
        if (batch.size() >= batchSize) sink(std::exchange(batch, {}));
    };
    pages(
        kPatientColumns, where,
        "collection_id, PatientID, SeriesInstanceUID",
        [&](std::vector<SqlRow>&& rows) {
            for (const auto& row : rows) {
                tcia::PatientRecord p = joinedPatientFromRow(row, names);
                if (open && open->patientId == p.patientId && open->collection == p.collection) continue;
                if (open) emit(std::move(*open));
                open = std::move(p);
            }
        },
        &context);
    if (open) emit(std::move(*open));
    if (!batch.empty()) sink(std::move(batch));
}

void IdcClient::studyBatches(const tcia::StudyFilter& f, std::size_t batchSize,
                             const tcia::BatchSink<tcia::StudyRecord>& sink, const RequestContext& context) {
    if (batchSize == 0) batchSize = 1;
    const CollectionDirectory names = directory(context);
    std::vector<std::pair<std::string, std::string>> where{{"collection_id", collectionId(f.collection, context)},
                                                           {"PatientID", f.patientId},
                                                           {"StudyInstanceUID", f.studyInstanceUid}};
    std::vector<tcia::StudyRecord> batch;
    std::optional<tcia::StudyRecord> open;
    auto emit = [&](tcia::StudyRecord&& s) {
        batch.push_back(std::move(s));
        if (batch.size() >= batchSize) sink(std::exchange(batch, {}));
    };
    pages(
        kStudyColumns, where, "StudyInstanceUID, SeriesInstanceUID",
        [&](std::vector<SqlRow>&& rows) {
            for (const auto& row : rows) {
                tcia::StudyRecord s = joinedStudyFromRow(row, names);
                if (open && open->studyInstanceUid == s.studyInstanceUid) {
                    open->seriesCount = open->seriesCount.value_or(1) + 1;
                    if (open->studyDate.empty()) open->studyDate = s.studyDate;
                    if (open->studyDescription.empty()) open->studyDescription = s.studyDescription;
                    continue;
                }
                if (open) emit(std::move(*open));
                s.seriesCount = 1;
                open = std::move(s);
            }
        },
        &context);
    if (open) emit(std::move(*open));
    if (!batch.empty()) sink(std::move(batch));
}

std::vector<std::pair<std::string, std::string>> IdcClient::seriesWhere(const tcia::SeriesFilter& f,
                                                                        bool requireOne,
                                                                        const RequestContext& context) {
    std::vector<std::pair<std::string, std::string>> where{
        {"collection_id", collectionId(f.collection, context)},
        {"PatientID", f.patientId},
        {"StudyInstanceUID", f.studyInstanceUid},
        {"SeriesInstanceUID", f.seriesInstanceUid},
        {"Modality", f.modality},
        {"BodyPartExamined", f.bodyPartExamined},
        {"Manufacturer", f.manufacturer},
        {"ManufacturerModelName", f.manufacturerModelName}};
    if (requireOne &&
        std::all_of(where.begin(), where.end(), [](const auto& kv) { return kv.second.empty(); }))
        throw BridgeError(
            ErrorCode::QueryTooBroad,
            "a series search without any filter would list every series in IDC; give at least one filter");
    return where;
}

void IdcClient::addLicenceUrl(tcia::SeriesRecord& record) {
    if (!record.licenseUri.empty()) return;
    std::lock_guard lock(mutex_);
    // The licence of the source the series came from (its source_DOI), else the collection's.
    if (auto s = directory_.sourceByDoi.find(normalDoi(record.dataDescriptionUri));
        s != directory_.sourceByDoi.end() && !s->second.licenseUrl.empty() &&
        (record.licenseName.empty() || record.licenseName == s->second.licenseShortName)) {
        record.licenseUri = s->second.licenseUrl;
        if (record.licenseName.empty()) record.licenseName = s->second.licenseShortName;
        return;
    }
    auto it = directory_.infoByName.find(upper(record.collection));
    if (it == directory_.infoByName.end()) return;
    if (record.licenseName.empty() || record.licenseName == it->second.licenseShortName) {
        record.licenseUri = it->second.licenseUrl;
        if (record.licenseName.empty()) record.licenseName = it->second.licenseShortName;
    }
}

void IdcClient::seriesBatches(const tcia::SeriesFilter& f, std::size_t batchSize,
                              const tcia::BatchSink<tcia::SeriesRecord>& sink, const RequestContext& context) {
    if (batchSize == 0) batchSize = 1;
    const CollectionDirectory names = directory(context);
    std::vector<tcia::SeriesRecord> batch;
    pages(
        kSeriesColumns, seriesWhere(f, true, context), "SeriesInstanceUID",
        [&](std::vector<SqlRow>&& rows) {
            for (const auto& row : rows) {
                batch.push_back(joinedSeriesFromRow(row, names));
                addLicenceUrl(batch.back());
                if (batch.size() >= batchSize) sink(std::exchange(batch, {}));
            }
        },
        &context);
    if (!batch.empty()) sink(std::move(batch));
}

std::vector<tcia::PatientRecord> IdcClient::patients(const tcia::PatientFilter& f, const RequestContext& context) {
    std::vector<tcia::PatientRecord> out;
    patientBatches(
        f, 10000,
        [&](std::vector<tcia::PatientRecord>&& rows) {
            std::move(rows.begin(), rows.end(), std::back_inserter(out));
        },
        context);
    return out;
}

std::vector<tcia::PatientRecord> IdcClient::patientsByCollectionAndModality(const std::string& collection,
                                                                            const std::string& modality,
                                                                            const RequestContext& context) {
    const CollectionDirectory names = directory(context);
    std::vector<tcia::PatientRecord> out;
    pages(
        kPatientColumns,
        {{"collection_id", collectionId(collection, context)}, {"Modality", modality}},
        "collection_id, PatientID, SeriesInstanceUID",
        [&](std::vector<SqlRow>&& rows) {
            for (const auto& row : rows) {
                auto p = joinedPatientFromRow(row, names);
                if (out.empty() || out.back().patientId != p.patientId) out.push_back(std::move(p));
            }
        },
        &context);
    return out;
}

std::vector<tcia::PatientRecord> IdcClient::newPatientsInCollection(const std::string& collection,
                                                                    const std::string&,
                                                                    const RequestContext& context) {
    // IDC has no submission dates: "new" = in a series revised after the pinned release.
    const std::string condition = revisedCondition();
    if (condition.empty()) return {};
    const CollectionDirectory names = directory(context);
    std::vector<tcia::PatientRecord> out;
    pages(
        kPatientColumns,
        {{"collection_id", collectionId(collection, context)}}, "collection_id, PatientID, SeriesInstanceUID",
        [&](std::vector<SqlRow>&& rows) {
            for (const auto& row : rows) {
                auto p = joinedPatientFromRow(row, names);
                if (out.empty() || out.back().patientId != p.patientId) out.push_back(std::move(p));
            }
        },
        &context, condition);
    return out;
}

std::vector<tcia::StudyRecord> IdcClient::studies(const tcia::StudyFilter& f, const RequestContext& context) {
    std::vector<tcia::StudyRecord> out;
    studyBatches(
        f, 10000,
        [&](std::vector<tcia::StudyRecord>&& rows) {
            std::move(rows.begin(), rows.end(), std::back_inserter(out));
        },
        context);
    return out;
}

std::vector<tcia::StudyRecord> IdcClient::newStudiesInPatientCollection(const std::string& collection,
                                                                        const std::string& patientId,
                                                                        const std::string&,
                                                                        const RequestContext& context) {
    const std::string condition = revisedCondition();
    if (condition.empty()) return {};
    const CollectionDirectory names = directory(context);
    std::vector<tcia::StudyRecord> out;
    pages(
        kStudyColumns, {{"collection_id", collectionId(collection, context)}, {"PatientID", patientId}},
        "StudyInstanceUID, SeriesInstanceUID",
        [&](std::vector<SqlRow>&& rows) {
            for (const auto& row : rows) {
                auto st = joinedStudyFromRow(row, names);
                if (!out.empty() && out.back().studyInstanceUid == st.studyInstanceUid) continue;
                out.push_back(std::move(st));
            }
        },
        &context, condition);
    return out;
}

std::vector<tcia::SeriesRecord> IdcClient::series(const tcia::SeriesFilter& f, const RequestContext& context) {
    std::vector<tcia::SeriesRecord> out;
    seriesBatches(
        f, 10000,
        [&](std::vector<tcia::SeriesRecord>&& rows) {
            std::move(rows.begin(), rows.end(), std::back_inserter(out));
        },
        context);
    return out;
}

std::vector<tcia::SeriesRecord> IdcClient::updatedSeries(const std::string&, const RequestContext& context) {
    // Called first by each incremental refresh (Catalog::refreshIncremental): the release check.
    const std::string current = idcVersion(context);
    const std::string pinned = pinnedVersion();
    {
        std::lock_guard lock(mutex_);
        refreshFrom_.reset();
    }
    if (pinned.empty() || current.empty() || current == pinned) {
        pin(current);
        return {};
    }
    const auto from = versionNumber(pinned);
    log().information("IDC release changed from %s to %s: refreshing the series revised since", pinned,
                      current);
    if (!from) {
        {
            std::lock_guard lock(mutex_);
            withdrawalCheck_ = true;
            directory_ = {};
        }
        pin(current);
        return {};
    }
    {
        std::lock_guard lock(mutex_);
        refreshFrom_ = *from;
        withdrawalCheck_ = true;  // the new release may no longer list what the catalog holds
        directory_ = {};          // collections_index may have changed too
    }
    const CollectionDirectory names = directory(context);
    std::vector<tcia::SeriesRecord> out;
    pages(
        kSeriesColumns, {}, "SeriesInstanceUID",
        [&](std::vector<SqlRow>&& rows) {
            for (const auto& row : rows) {
                out.push_back(joinedSeriesFromRow(row, names));
                addLicenceUrl(out.back());
            }
        },
        &context, revisedCondition());
    // Location and instance caches may describe superseded series versions.
    {
        std::lock_guard lock(mutex_);
        locations_.clear();
        locationOrder_.clear();
        instances_.clear();
        instanceOrder_.clear();
    }
    pin(current);
    return out;
}

bool IdcClient::withdrawalCheckPending() {
    std::lock_guard lock(mutex_);
    return withdrawalCheck_;
}

void IdcClient::withdrawalsApplied() {
    std::lock_guard lock(mutex_);
    withdrawalCheck_ = false;
}

std::optional<std::vector<std::string>> IdcClient::listedSeriesUids(const std::string& collection,
                                                                   const RequestContext& context) {
    if (collection.empty()) return std::nullopt;
    CollectionDirectory names = directory(context);
    if (!names.fromIndex) {
        // The directory came from the /collections fallback: try collections_index once more.
        try {
            collections(context);
        } catch (const BridgeError& e) {
            if (e.code() == ErrorCode::Cancelled) throw;
        }
        names = directory(context);
    }
    // Without collections_index a collection the catalog holds under its TCIA name may simply be
    // missing from the directory: unknown, never "withdrawn".
    if (!names.fromIndex) return std::nullopt;
    std::set<std::string> out;
    const auto collect = [&](std::vector<SqlRow>&& rows) {
        for (const auto& row : rows)
            if (const std::string uid = column(row, "SeriesInstanceUID"); !uid.empty()) out.insert(uid);
    };
    // The series the catalog files under this name: the rows of its collection_id, and the rows
    // whose source_DOI joins to this name (a series is named by its source DOI first).
    if (auto it = names.idByName.find(upper(collection)); it != names.idByName.end())
        pages("SeriesInstanceUID, collection_id, source_DOI", {{"collection_id", it->second}}, "SeriesInstanceUID",
              collect, &context);
    for (const auto& [doi, name] : names.nameByDoi) {
        if (upper(name) != upper(collection)) continue;
        auto source = names.sourceByDoi.find(doi);
        if (source == names.sourceByDoi.end() || source->second.doi.empty()) continue;
        pages("SeriesInstanceUID, collection_id, source_DOI", {{"source_DOI", source->second.doi}},
              "SeriesInstanceUID", collect, &context);
    }
    return std::vector<std::string>(out.begin(), out.end());
}

tcia::SeriesSize IdcClient::seriesSize(const std::string& seriesInstanceUid, const RequestContext& context) {
    if (seriesInstanceUid.empty())
        throw BridgeError(ErrorCode::InvalidArgument, "SeriesInstanceUID is required");
    SqlPage page =
        sql(indexQuery("series_size_MB, instanceCount", {{"SeriesInstanceUID", seriesInstanceUid}}, "", 1, 0),
            &context);
    tcia::SeriesSize size;
    if (page.rows.empty()) return size;
    auto record = seriesFromRow(page.rows.front(), CollectionNames{});
    size.totalSizeInBytes = record.fileSize;
    size.objectCount = record.imageCount;
    return size;
}

// ---- instances ---------------------------------------------------------------------------------

IdcClient::SeriesLocation IdcClient::locate(const std::string& seriesInstanceUid, const RequestContext& context) {
    if (seriesInstanceUid.empty())
        throw BridgeError(ErrorCode::InvalidArgument, "SeriesInstanceUID is required");
    {
        std::lock_guard lock(mutex_);
        if (auto it = locations_.find(seriesInstanceUid); it != locations_.end()) return it->second;
    }
    SqlPage page = sql(indexQuery("aws_bucket, crdc_series_uuid, instanceCount",
                                  {{"SeriesInstanceUID", seriesInstanceUid}}, "", 1, 0),
                       &context);
    if (page.rows.empty())
        throw BridgeError(ErrorCode::NotFound, "series " + seriesInstanceUid + " is not in IDC");
    SeriesLocation location;
    location.bucket = column(page.rows.front(), "aws_bucket");
    location.uuid = column(page.rows.front(), "crdc_series_uuid");
    location.instanceCount = seriesFromRow(page.rows.front(), CollectionNames{}).imageCount;
    if (location.uuid.empty())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "IDC has no crdc_series_uuid for series " + seriesInstanceUid);
    std::lock_guard lock(mutex_);
    if (locations_.emplace(seriesInstanceUid, location).second) {
        locationOrder_.push_back(seriesInstanceUid);
        while (locationOrder_.size() > static_cast<std::size_t>(std::max(1, idc_.seriesCacheEntries))) {
            locations_.erase(locationOrder_.front());
            locationOrder_.pop_front();
        }
    }
    return location;
}

std::vector<S3Object> IdcClient::listSeries(const SeriesLocation& location, const RequestContext* context) {
    std::vector<S3Object> out;
    std::string token;
    std::set<std::string> seenTokens;
    for (;;) {
        if (context) context->throwIfCancelled();
        const std::string url = listObjectsUrl(idc_.bucketUrl, location.bucket, location.uuid + "/", token);
        tcia::HttpResponse r = buckets_.get(url, {}, context);
        if (r.status != 200) {
            auto error = parseS3Error(r.body);
            throw BridgeError(r.status == 404 ? ErrorCode::NotFound : ErrorCode::UpstreamBadResponse,
                              "IDC bucket listing of " + location.uuid + "/ -> HTTP " +
                                  std::to_string(r.status) +
                                  (error ? " " + error->code + ": " + error->message : std::string()));
        }
        ListPage page = parseListObjects(r.body);
        for (auto& o : page.objects)
            if (isInstanceObject(o) && o.key.rfind(location.uuid + "/", 0) == 0) out.push_back(std::move(o));
        if (!page.truncated) break;
        if (!seenTokens.insert(page.nextContinuationToken).second)
            throw BridgeError(ErrorCode::UpstreamBadResponse,
                              "IDC bucket listing repeats a continuation token");
        token = page.nextContinuationToken;
    }
    std::sort(out.begin(), out.end(), [](const S3Object& a, const S3Object& b) { return a.key < b.key; });
    out.erase(std::unique(out.begin(), out.end(),
                          [](const S3Object& a, const S3Object& b) { return a.key == b.key; }),
              out.end());
    return out;
}

void IdcClient::getObjectBytes(const std::string& bucket, const std::string& key, std::vector<std::uint8_t>& bytes,
                               const RequestContext* context) {
    tcia::HttpResponse r =
        buckets_.getBytes(bucketObjectUrl(idc_.bucketUrl, bucket, key), {}, bytes, idc_.maxObjectBytes, context);
    if (r.status != 200) {
        auto error = parseS3Error(r.body);
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "IDC object " + key + " -> HTTP " + std::to_string(r.status) +
                              (error ? " " + error->code + ": " + error->message : std::string()));
    }
}

std::vector<IdcClient::InstanceKey> IdcClient::instanceKeys(const std::string& seriesInstanceUid,
                                                            const RequestContext& context) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = instances_.find(seriesInstanceUid); it != instances_.end()) return it->second;
    }
    const SeriesLocation location = locate(seriesInstanceUid, context);
    const std::vector<S3Object> objects = listSeries(location, &context);
    if (location.instanceCount && static_cast<std::int64_t>(objects.size()) < *location.instanceCount)
        throw BridgeError(ErrorCode::UpstreamBadResponse, "IDC lists " + std::to_string(objects.size()) +
                                                              " objects for series " + seriesInstanceUid +
                                                              ", its instanceCount is " +
                                                              std::to_string(*location.instanceCount));
    std::vector<InstanceKey> keys;
    parallelFetch<std::optional<InstanceKey>>(
        objects.size(), idc_.maxParallelGets, *pool_,
        [&](std::size_t i) -> std::optional<InstanceKey> {
            const S3Object& o = objects[i];
            std::uint64_t want = 64 << 10;
            for (;;) {
                const std::uint64_t last = o.size ? std::min<std::uint64_t>(want, *o.size) - 1 : want - 1;
                tcia::HttpResponse r = buckets_.get(bucketObjectUrl(idc_.bucketUrl, location.bucket, o.key),
                                                    {{"Range", "bytes=0-" + std::to_string(last)}}, &context);
                if (r.status != 200 && r.status != 206)
                    throw BridgeError(ErrorCode::UpstreamBadResponse,
                                      "IDC object " + o.key + " header -> HTTP " + std::to_string(r.status));
                auto uids = tcia::InstanceMetaReader::read(
                    reinterpret_cast<const std::uint8_t*>(r.body.data()), r.body.size());
                if (uids) return InstanceKey{uids->sopInstanceUid, o.key};
                const bool whole =
                    r.status == 200 || (o.size && r.body.size() >= *o.size) || r.body.size() <= last;
                if (whole || want >= idc_.maxHeaderBytes) {
                    log().warning("IDC object %s: no SOP Instance UID in its first %z bytes; skipped", o.key,
                                  r.body.size());
                    return std::nullopt;
                }
                want = std::min<std::uint64_t>(want * 2, idc_.maxHeaderBytes);
            }
        },
        [&](std::vector<std::pair<std::size_t, std::optional<InstanceKey>>>&& got) {
            for (auto& [i, k] : got)
                if (k) keys.push_back(std::move(*k));
        },
        &context);
    std::sort(keys.begin(), keys.end(),
              [](const InstanceKey& a, const InstanceKey& b) { return a.key < b.key; });
    std::lock_guard lock(mutex_);
    if (instances_.emplace(seriesInstanceUid, keys).second) {
        instanceOrder_.push_back(seriesInstanceUid);
        while (instanceOrder_.size() > static_cast<std::size_t>(std::max(1, idc_.seriesCacheEntries))) {
            instances_.erase(instanceOrder_.front());
            instanceOrder_.pop_front();
        }
    }
    return keys;
}

std::vector<std::string> IdcClient::sopInstanceUids(const std::string& seriesInstanceUid,
                                                    const RequestContext& context) {
    std::vector<std::string> out;
    for (auto& k : instanceKeys(seriesInstanceUid, context)) out.push_back(std::move(k.sopInstanceUid));
    return out;
}

std::vector<std::uint8_t> IdcClient::singleImage(const std::string& seriesInstanceUid,
                                                 const std::string& sopInstanceUid,
                                                 const RequestContext& context) {
    if (sopInstanceUid.empty()) throw BridgeError(ErrorCode::InvalidArgument, "SOPInstanceUID is required");
    const auto keys = instanceKeys(seriesInstanceUid, context);
    auto it = std::find_if(keys.begin(), keys.end(),
                           [&](const InstanceKey& k) { return k.sopInstanceUid == sopInstanceUid; });
    if (it == keys.end())
        throw BridgeError(ErrorCode::NotFound,
                          "instance " + sopInstanceUid + " is not in IDC series " + seriesInstanceUid);
    std::vector<std::uint8_t> bytes;
    getObjectBytes(locate(seriesInstanceUid, context).bucket, it->key, bytes, &context);
    if (!tcia::InstanceMetaReader::read(bytes.data(), bytes.size()))
        throw BridgeError(ErrorCode::UpstreamBadResponse, "IDC object " + it->key + " is not DICOM");
    return bytes;
}

std::size_t IdcClient::downloadSeries(const std::string& seriesInstanceUid,
                                      const tcia::DownloadOptions& options, const tcia::InstanceSink& sink,
                                      const RequestContext& context) {
    const SeriesLocation location = locate(seriesInstanceUid, context);
    const bool verifyMd5 = options.verifyMd5 && http_.verifyMd5;
    std::optional<std::int64_t> expected = options.expectedCount;
    if (location.instanceCount && (!expected || *location.instanceCount > *expected))
        expected = location.instanceCount;

    std::set<std::string> delivered;
    std::vector<InstanceKey> keys;  // for the sopInstanceUids() cache once the series is whole
    std::string lastProblem;
    thread_local std::mt19937_64 engine{std::random_device{}()};
    const int maxRetries = std::max(0, http_.maxRetries);
    for (int attempt = 0; attempt <= maxRetries; ++attempt) {
        if (attempt > 0) {
            auto delay =
                tcia::RetryPolicy::backoffDelay(attempt - 1, http_.retryBaseDelay, http_.retryMaxDelay,
                                                std::uniform_real_distribution<double>(0.0, 1.0)(engine));
            log().information("IDC series %s: %s; retry %d in %Ld ms", seriesInstanceUid, lastProblem,
                              attempt, static_cast<Poco::Int64>(delay.count()));
            context.sleepFor(delay);
        }
        context.throwIfCancelled();
        const std::vector<S3Object> objects = listSeries(location, &context);
        if (expected && static_cast<std::int64_t>(objects.size()) < *expected) {
            lastProblem = "the bucket lists " + std::to_string(objects.size()) + " of " +
                          std::to_string(*expected) + " instances";
            continue;
        }
        for (const auto& o : objects)
            if (o.size && *o.size > idc_.maxObjectBytes)
                throw BridgeError(ErrorCode::UpstreamBadResponse, "IDC object " + o.key + " is " +
                                                                      std::to_string(*o.size) +
                                                                      " bytes, beyond idc.maxObjectBytes");
        struct Fetched {
            std::vector<std::uint8_t> bytes;  // the sink's type, filled on the worker thread
            std::optional<tcia::InstanceUids> uids;
            std::string md5;  ///< of `bytes`, computed once here (the cache keeps it: hash once)
        };
        const auto get = [&](const S3Object& o, Fetched& f) {
            // Straight into the sink's vector, sized from Content-Length (no string, no copy).
            getObjectBytes(location.bucket, o.key, f.bytes, &context);
            f.uids = tcia::InstanceMetaReader::read(f.bytes.data(), f.bytes.size());
        };
        const auto md5Matches = [&](const S3Object& o, const Fetched& f) {
            return !verifyMd5 || !isMd5Etag(o.etag) || f.md5 == Poco::toLower(o.etag);
        };
        keys.clear();
        std::size_t notDicom = 0;
        parallelFetch<Fetched>(
            objects.size(), idc_.maxParallelGets, *pool_,
            [&](std::size_t i) {
                Fetched f;
                f.bytes = buffers_->take();  // a buffer of an earlier object, when one came back
                get(objects[i], f);
                return f;
            },
            [&](std::vector<std::pair<std::size_t, Fetched>>&& got) {
                // One MD5 per object: the ETag check uses it and the instance cache keeps it
                // instead of hashing again. The objects of a batch are hashed side by side in
                // Md5Lanes' SIMD lanes (about 3.5x OpenSSL's MD5 with eight in; one object
                // alone goes at OpenSSL's speed).
                std::vector<std::pair<const void*, std::size_t>> buffers;
                buffers.reserve(got.size());
                for (const auto& [i, f] : got) buffers.emplace_back(f.bytes.data(), f.bytes.size());
                std::vector<std::string> md5s = tcia::Md5Lanes::shared().hexMany(buffers);
                for (std::size_t k = 0; k < got.size(); ++k) {
                    const std::size_t i = got[k].first;
                    Fetched& f = got[k].second;
                    const S3Object& o = objects[i];
                    f.md5 = std::move(md5s[k]);
                    if (!md5Matches(o, f)) {
                        log().warning("IDC object %s: MD5 differs from its ETag; fetching it again", o.key);
                        get(o, f);
                        f.md5 = tcia::Md5Lanes::shared().hex(f.bytes.data(), f.bytes.size());
                        if (!md5Matches(o, f))
                            throw BridgeError(ErrorCode::UpstreamBadResponse,
                                              "IDC object " + o.key +
                                                  ": MD5 of the bytes received differs from its ETag " +
                                                  o.etag + " (twice)");
                    }
                    if (!f.uids) {
                        ++notDicom;
                        log().warning("IDC object %s is not a DICOM file; skipped", o.key);
                        buffers_->give(std::move(f.bytes));
                        continue;
                    }
                    keys.push_back(InstanceKey{f.uids->sopInstanceUid, o.key});
                    if (delivered.count(f.uids->sopInstanceUid)) {  // delivered by an earlier attempt
                        buffers_->give(std::move(f.bytes));
                        continue;
                    }
                    tcia::DownloadedInstance instance{
                        o.key,
                        f.uids->sopInstanceUid,
                        f.uids->sopClassUid,
                        f.uids->transferSyntaxUid,
                        std::move(f.bytes),
                        std::move(f.md5),
                        [pool = buffers_](std::vector<std::uint8_t>&& bytes) { pool->give(std::move(bytes)); }};
                    sink(std::move(instance));
                    delivered.insert(f.uids->sopInstanceUid);
                }
            },
            &context, tcia::Md5Lanes::kLanes, kMd5Gather);
        if (expected && static_cast<std::int64_t>(delivered.size()) < *expected) {
            lastProblem = "only " + std::to_string(delivered.size()) + " of " + std::to_string(*expected) +
                          " instances arrived" +
                          (notDicom ? " (" + std::to_string(notDicom) + " not DICOM)" : "");
            continue;
        }
        {
            std::sort(keys.begin(), keys.end(),
                      [](const InstanceKey& a, const InstanceKey& b) { return a.key < b.key; });
            std::lock_guard lock(mutex_);
            if (instances_.emplace(seriesInstanceUid, keys).second) {
                instanceOrder_.push_back(seriesInstanceUid);
                while (instanceOrder_.size() >
                       static_cast<std::size_t>(std::max(1, idc_.seriesCacheEntries))) {
                    instances_.erase(instanceOrder_.front());
                    instanceOrder_.pop_front();
                }
            }
        }
        log().information("IDC series %s: %z instances delivered in %d attempt(s)", seriesInstanceUid,
                          delivered.size(), attempt + 1);
        return delivered.size();
    }
    throw BridgeError(ErrorCode::UpstreamBadResponse, "IDC series " + seriesInstanceUid + " failed after " +
                                                          std::to_string(maxRetries + 1) +
                                                          " attempts: " + lastProblem);
}

}  // namespace bridge::idc
