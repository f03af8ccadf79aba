#pragma once
// The query engine's per-instance attribute source (InstanceAttributeSource) with fetching:
// answers from the instance cache, and for fetchInstanceAttributes() first brings a series that
// is not completely cached into it through the retrieval engine -- the same single-flight TCIA
// download C-MOVE, C-GET and WADO-RS use -- so an IMAGE-level C-FIND or a QIDO-RS instance
// search asking SOPClassUID / InstanceNumber / Rows ... gets real values (TCIA lists only SOP
// Instance UIDs per series; API.md 10.4). The series stays cached for the retrieve that
// usually follows.
//
// Bound: a series whose planned size exceeds maxSeriesBytes is not fetched (its instances keep
// empty per-instance attributes rather than one query downloading gigabytes).
//
// Thread-safe (the cache and the engine are); blocking while the series downloads; throws
// BridgeError(Cancelled) when the query's token fires. Both referenced objects must outlive it
// while queries run.

#include <cstdint>

#include "bridge/query/MetadataSource.h"
#include "bridge/retrieve/RetrieveService.h"

namespace bridge {

class InstanceCache;

class FetchingInstanceAttributes : public InstanceAttributeSource {
public:
    static constexpr std::int64_t kDefaultMaxSeriesBytes = 1ll << 30;  ///< 1 GiB

    FetchingInstanceAttributes(InstanceCache& cache, RetrieveService& retrieve,
                               std::int64_t maxSeriesBytes = kDefaultMaxSeriesBytes);

    std::optional<std::vector<DicomRecord>> instanceAttributes(const std::string& seriesInstanceUid) override;
    std::optional<std::vector<DicomRecord>> fetchInstanceAttributes(const std::string& seriesInstanceUid,
                                                                   const CollectionScope& scope,
                                                                   const RequestContext& context) override;

private:
    InstanceCache& cache_;
    RetrieveService& retrieve_;
    std::int64_t maxSeriesBytes_;
};

}  // namespace bridge
