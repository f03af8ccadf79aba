#pragma once
// The InstanceStream RetrieveEngine::open() returns: walks the plan's series in order; each one
// comes from the InstanceCache when complete there (or when every wanted instance is cached),
// otherwise from a DownloadCoordinator subscription. Instances a series should have held but
// that never arrived are recorded as failures (never "success with an instance missing").
// A cached series is read ahead of next() by a CacheReadAhead (a few instances, bounded).
//
// Threading: next() from one thread; cancel() from any thread: it stops the stream's own child
// context, whose stop token wakes next()'s wait at once (no polling).

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bridge/query/MetadataSource.h"
#include "bridge/retrieve/CacheReadAhead.h"
#include "bridge/retrieve/DownloadCoordinator.h"
#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/RetrieveService.h"

namespace bridge {

class RetrieveStream : public InstanceStream {
public:
    RetrieveStream(RetrievePlan plan, RequestContext context, InstanceCache& cache,
                   DownloadCoordinator& downloads, MetadataSource& metadata);
    ~RetrieveStream() override;

    /// Starts the first series now (joins or starts its download) so that the download overlaps
    /// whatever the adapter does before its first next() (association setup, headers). Never blocks.
    void prime();

    Status next(DicomInstance& out, std::chrono::milliseconds wait) override;
    /// Known UIDs of the instances that failed (after End).
    std::vector<std::string> failedSopInstanceUids() const override;
    /// ALL failed instances: failedSopInstanceUids().size() plus those whose UID is unknown.
    std::size_t failedCount() const override;
    std::string failureReason() const override;
    void cancel() override;

private:
    enum class Phase { NextSeries, FromCache, FromDownload, Done };

    using Clock = std::chrono::steady_clock;
    std::optional<Status> step(DicomInstance& out, Clock::time_point deadline);
    void abandonSeries(const std::string& reason);
    void startSeries();
    void finishSeries(const std::optional<std::string>& failure);
    void fill(DicomInstance& out, const std::string& sop, const std::string& sopClass,
              const std::string& syntax, std::shared_ptr<const std::vector<std::uint8_t>> bytes);
    void recordFailure(const std::string& reason);

    RetrievePlan plan_;
    RequestContext context_;
    InstanceCache& cache_;
    DownloadCoordinator& downloads_;
    MetadataSource& metadata_;

    Phase phase_ = Phase::NextSeries;
    std::size_t seriesIndex_ = 0;

    // The current series.
    InstanceCache::Pin pin_;
    std::optional<std::set<std::string>> wanted_;
    std::set<std::string> delivered_;
    std::set<std::string> failedHere_;
    std::vector<CachedInstanceInfo> cacheList_;
    std::size_t cacheIndex_ = 0;
    bool cacheMissed_ = false;
    std::unique_ptr<CacheReadAhead> readAhead_;  ///< reads cacheList_ ahead of cacheIndex_
    std::unique_ptr<DownloadCoordinator::Subscription> subscription_;

    std::vector<std::string> failedUids_;
    std::size_t failedUnknown_ = 0;
    std::string failureReason_;
};

}  // namespace bridge
