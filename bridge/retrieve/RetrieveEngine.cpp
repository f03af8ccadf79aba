#include "bridge/retrieve/RetrieveEngine.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "bridge/common/Error.h"
#include "bridge/retrieve/RetrieveStream.h"

namespace bridge {
namespace {

bool equalsIgnoreCase(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool containsIgnoreCase(const std::vector<std::string>& values, const std::string& value) {
    return std::any_of(values.begin(), values.end(),
                       [&](const std::string& v) { return equalsIgnoreCase(v, value); });
}

void require(const std::vector<std::string>& values, const char* key, QueryLevel level) {
    if (values.empty())
        throw BridgeError(ErrorCode::InvalidArgument,
                          std::string(key) + " is required for a " + toString(level) + " level retrieve");
    for (const auto& v : values)
        if (v.empty())
            throw BridgeError(ErrorCode::InvalidArgument, std::string("empty ") + key + " in the request");
}

/// One getSeries filter per value, each with `field` set to it (TCIA takes one ID/UID per call).
std::vector<tcia::SeriesFilter> oneCallPer(const std::vector<std::string>& values,
                                           std::string tcia::SeriesFilter::*field) {
    std::vector<tcia::SeriesFilter> calls;
    for (const auto& value : values) {
        tcia::SeriesFilter f;
        f.*field = value;
        calls.push_back(f);
    }
    return calls;
}

}  // namespace

RetrieveEngine::RetrieveEngine(MetadataSource& metadata, tcia::TciaApi& tcia, InstanceCache& cache,
                               int maxConcurrentDownloads)
    : metadata_(metadata), cache_(cache), downloads_(tcia, cache, maxConcurrentDownloads) {}

RetrievePlan RetrieveEngine::plan(const RetrieveRequest& request, const RequestContext& context) {
    // Each PatientID / Study / Series UID is one TCIA call: bounded like a query's lists.
    checkFanOut("PatientID", request.patientIds.size());
    checkFanOut("StudyInstanceUID", request.studyInstanceUids.size());
    checkFanOut("SeriesInstanceUID", request.seriesInstanceUids.size());
    // 1. Which TCIA getSeries calls answer the request.
    std::vector<tcia::SeriesFilter> calls;
    switch (request.level) {
        case QueryLevel::Patient:
            require(request.patientIds, "PatientID", request.level);
            calls = oneCallPer(request.patientIds, &tcia::SeriesFilter::patientId);
            break;
        case QueryLevel::Study:
            require(request.studyInstanceUids, "StudyInstanceUID", request.level);
            calls = oneCallPer(request.studyInstanceUids, &tcia::SeriesFilter::studyInstanceUid);
            break;
        case QueryLevel::Series:
            require(request.seriesInstanceUids, "SeriesInstanceUID", request.level);
            calls = oneCallPer(request.seriesInstanceUids, &tcia::SeriesFilter::seriesInstanceUid);
            break;
        case QueryLevel::Image:
            // PS3.4 C.4.2.2.1.3: an IMAGE-level hierarchical retrieve carries the Series UID too.
            require(request.seriesInstanceUids, "SeriesInstanceUID", request.level);
            require(request.sopInstanceUids, "SOPInstanceUID", request.level);
            calls = oneCallPer(request.seriesInstanceUids, &tcia::SeriesFilter::seriesInstanceUid);
            break;
    }

    // 2. The series, de-duplicated, in request order; consistent with the other keys; in scope.
    std::vector<tcia::SeriesRecord> found;
    std::set<std::string> seen;
    for (const auto& filter : calls) {
        context.throwIfCancelled();
        for (auto& record : metadata_.series(filter, context)) {
            if (record.seriesInstanceUid.empty() || !seen.insert(record.seriesInstanceUid).second) continue;
            // TCIA matches filters case-insensitively; UIDs must match exactly.
            if (!filter.seriesInstanceUid.empty() && record.seriesInstanceUid != filter.seriesInstanceUid)
                continue;
            if (!filter.studyInstanceUid.empty() && record.studyInstanceUid != filter.studyInstanceUid)
                continue;
            if (request.level != QueryLevel::Patient && !request.studyInstanceUids.empty() &&
                std::find(request.studyInstanceUids.begin(), request.studyInstanceUids.end(),
                          record.studyInstanceUid) == request.studyInstanceUids.end())
                continue;
            if (!request.patientIds.empty() && !containsIgnoreCase(request.patientIds, record.patientId))
                continue;
            // A series the caller may not see is reported exactly like one that does not exist.
            if (!request.scope.allows(record.collection)) continue;
            found.push_back(std::move(record));
        }
    }
    if (found.empty())
        throw BridgeError(ErrorCode::NotFound,
                          std::string("no ") + toString(request.level) + " matches the retrieve request");

    // 3. Locators with exact counts.
    RetrievePlan plan;
    for (const auto& record : found) {
        SeriesLocator locator;
        locator.collection = record.collection;
        locator.patientId = record.patientId;
        locator.studyInstanceUid = record.studyInstanceUid;
        locator.seriesInstanceUid = record.seriesInstanceUid;
        locator.fileSize = record.fileSize.value_or(0);
        if (record.imageCount && *record.imageCount > 0) {
            locator.imageCount = *record.imageCount;
        } else if (cache_.isComplete(record.seriesInstanceUid)) {
            locator.imageCount = static_cast<std::int64_t>(cache_.instances(record.seriesInstanceUid).size());
        } else {
            context.throwIfCancelled();
            locator.imageCount =
                static_cast<std::int64_t>(metadata_.sopInstanceUids(record.seriesInstanceUid, context).size());
        }
        plan.series.push_back(std::move(locator));
    }

    if (request.level == QueryLevel::Image) {
        // Which series holds which requested instance; unknown instances stay in the plan (with
        // the first series) so that they are reported as failed sub-operations, not dropped.
        std::set<std::string> unplaced(request.sopInstanceUids.begin(), request.sopInstanceUids.end());
        std::vector<SeriesLocator> kept;
        for (auto& locator : plan.series) {
            std::vector<std::string> known;
            if (cache_.isComplete(locator.seriesInstanceUid)) {
                for (const auto& info : cache_.instances(locator.seriesInstanceUid))
                    known.push_back(info.sopInstanceUid);
            } else if (std::all_of(unplaced.begin(), unplaced.end(), [&](const std::string& sop) {
                           return cache_.contains(locator.seriesInstanceUid, sop);
                       })) {
                known.assign(unplaced.begin(), unplaced.end());  // all cached already: no need to ask TCIA
            } else {
                context.throwIfCancelled();
                known = metadata_.sopInstanceUids(locator.seriesInstanceUid, context);
            }
            std::vector<std::string> mine;
            for (const auto& sop : request.sopInstanceUids)
                if (unplaced.count(sop) && std::find(known.begin(), known.end(), sop) != known.end()) {
                    mine.push_back(sop);
                    unplaced.erase(sop);
                }
            if (!mine.empty()) {
                locator.sopInstanceUids = std::move(mine);
                kept.push_back(std::move(locator));
            }
        }
        if (kept.empty())
            throw BridgeError(ErrorCode::NotFound,
                              "none of the requested SOP Instance UIDs is in the given series");
        for (const auto& sop : request.sopInstanceUids)
            if (unplaced.count(sop)) kept.front().sopInstanceUids->push_back(sop);
        plan.series = std::move(kept);
    }

    for (const auto& locator : plan.series) {
        if (locator.sopInstanceUids) {
            plan.instanceCount += locator.sopInstanceUids->size();
            if (locator.imageCount > 0)
                plan.totalBytes += locator.fileSize *
                                   static_cast<std::int64_t>(locator.sopInstanceUids->size()) /
                                   locator.imageCount;
        } else {
            plan.instanceCount += static_cast<std::size_t>(std::max<std::int64_t>(locator.imageCount, 0));
            plan.totalBytes += locator.fileSize;
        }
    }
    return plan;
}

std::unique_ptr<InstanceStream> RetrieveEngine::open(const RetrievePlan& plan, const RequestContext& context) {
    auto stream = std::make_unique<RetrieveStream>(plan, context, cache_, downloads_, metadata_);
    stream->prime();
    return stream;
}

}  // namespace bridge
