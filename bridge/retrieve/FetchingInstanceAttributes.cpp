#include "bridge/retrieve/FetchingInstanceAttributes.h"

#include <chrono>

#include "bridge/common/DicomRecord.h"
#include "bridge/common/Error.h"
#include "bridge/retrieve/InstanceCache.h"

namespace bridge {

FetchingInstanceAttributes::FetchingInstanceAttributes(InstanceCache& cache, RetrieveService& retrieve,
                                                       std::int64_t maxSeriesBytes)
    : cache_(cache), retrieve_(retrieve), maxSeriesBytes_(maxSeriesBytes) {}

std::optional<std::vector<DicomRecord>> FetchingInstanceAttributes::instanceAttributes(
    const std::string& seriesInstanceUid) {
    return cache_.instanceAttributes(seriesInstanceUid);
}

std::optional<std::vector<DicomRecord>> FetchingInstanceAttributes::fetchInstanceAttributes(
    const std::string& seriesInstanceUid, const CollectionScope& scope, const RequestContext& context) {
    if (cache_.isComplete(seriesInstanceUid)) return cache_.instanceAttributes(seriesInstanceUid);
    RetrieveRequest request;
    request.level = QueryLevel::Series;
    request.seriesInstanceUids = {seriesInstanceUid};
    request.scope = scope;
    RetrievePlan plan;
    try {
        plan = retrieve_.plan(request, context);
    } catch (const BridgeError& e) {
        if (e.code() == ErrorCode::Cancelled) throw;
        return cache_.instanceAttributes(seriesInstanceUid);  // cannot plan: answer what is known
    }
    if (plan.totalBytes > maxSeriesBytes_) return cache_.instanceAttributes(seriesInstanceUid);
    // Drain the stream: every instance lands in the cache on its way (failures stay unknown).
    auto stream = retrieve_.open(plan, context);
    // One wait per instance, no slices: the stream wakes on an instance, the end or a stop of
    // `context` (it then throws Cancelled). The hour only keeps the wait's arithmetic finite.
    DicomInstance instance;
    while (stream->next(instance, std::chrono::hours(1)) != InstanceStream::Status::End) {
    }
    context.throwIfCancelled();
    return cache_.instanceAttributes(seriesInstanceUid);
}

}  // namespace bridge
