#pragma once
// The retrieval engine (RetrieveService) behind C-MOVE, C-GET, WADO-RS and WADO-URI.
//
// plan() asks the MetadataSource which series hold the requested UIDs, applies the caller's
// CollectionScope (a series the caller may not see is NotFound, never leaked) and counts the
// instances. open() serves each series from the InstanceCache when it is complete there, else
// through the DownloadCoordinator (one TCIA download per series, shared by all callers).
//
// Thread-safe: plan() and open() may be called from any number of threads; each stream is used
// by one thread (cancel() from any). Streams must not outlive the engine.

#include "bridge/query/MetadataSource.h"
#include "bridge/retrieve/DownloadCoordinator.h"
#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/RetrieveService.h"
#include "bridge/tcia/TciaApi.h"

namespace bridge {

class RetrieveEngine : public RetrieveService {
public:
    /// All three must outlive the engine. maxConcurrentDownloads bounds TCIA getImage calls
    /// in flight (further downloads wait for a slot).
    RetrieveEngine(MetadataSource& metadata, tcia::TciaApi& tcia, InstanceCache& cache,
                   int maxConcurrentDownloads = DownloadCoordinator::kDefaultMaxConcurrentDownloads);

    /// PATIENT level needs patientIds, STUDY studyInstanceUids, SERIES seriesInstanceUids, IMAGE
    /// seriesInstanceUids + sopInstanceUids (PS3.4 C.4.2.2.1: the unique keys above the
    /// retrieve level are part of a hierarchical identifier); otherwise InvalidArgument.
    /// Higher-level UIDs given besides must be consistent (else NotFound). Blocking (metadata).
    RetrievePlan plan(const RetrieveRequest& request, const RequestContext& context) override;
    /// Never blocks on TCIA; the returned stream does.
    std::unique_ptr<InstanceStream> open(const RetrievePlan& plan, const RequestContext& context) override;

    DownloadCoordinator& downloads() noexcept { return downloads_; }
    InstanceCache& cache() noexcept { return cache_; }

private:
    MetadataSource& metadata_;
    InstanceCache& cache_;
    DownloadCoordinator downloads_;
};

}  // namespace bridge
