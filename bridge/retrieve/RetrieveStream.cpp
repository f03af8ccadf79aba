#include "bridge/retrieve/RetrieveStream.h"

#include <algorithm>
#include <chrono>

#include "bridge/common/Error.h"

namespace bridge {
RetrieveStream::RetrieveStream(RetrievePlan plan, RequestContext context, InstanceCache& cache,
                               DownloadCoordinator& downloads, MetadataSource& metadata)
    : plan_(std::move(plan)),
      context_(context.child()),  // cancel() stops this stream's waits, never the caller's request
      cache_(cache),
      downloads_(downloads),
      metadata_(metadata) {}

RetrieveStream::~RetrieveStream() = default;

void RetrieveStream::cancel() { context_.cancel(); }

void RetrieveStream::prime() {
    if (phase_ == Phase::NextSeries && seriesIndex_ < plan_.series.size()) startSeries();
}

void RetrieveStream::recordFailure(const std::string& reason) {
    if (failureReason_.empty()) failureReason_ = reason;
}

void RetrieveStream::fill(DicomInstance& out, const std::string& sop, const std::string& sopClass,
                          const std::string& syntax, std::shared_ptr<const std::vector<std::uint8_t>> bytes) {
    const SeriesLocator& locator = plan_.series[seriesIndex_];
    out.studyInstanceUid = locator.studyInstanceUid;
    out.seriesInstanceUid = locator.seriesInstanceUid;
    out.sopInstanceUid = sop;
    out.sopClassUid = sopClass;
    out.transferSyntaxUid = syntax;
    out.bytes = std::move(bytes);
    delivered_.insert(sop);
}

void RetrieveStream::startSeries() {
    const SeriesLocator& locator = plan_.series[seriesIndex_];
    wanted_.reset();
    if (locator.sopInstanceUids)
        wanted_.emplace(locator.sopInstanceUids->begin(), locator.sopInstanceUids->end());
    delivered_.clear();
    failedHere_.clear();
    cacheList_.clear();
    cacheIndex_ = 0;
    cacheMissed_ = false;
    pin_ = cache_.pin(locator.seriesInstanceUid);

    bool fromCache = cache_.isComplete(locator.seriesInstanceUid);
    if (!fromCache && wanted_) {
        // IMAGE level: no download when every wanted instance is already cached.
        fromCache = std::all_of(wanted_->begin(), wanted_->end(), [&](const std::string& sop) {
            return cache_.contains(locator.seriesInstanceUid, sop);
        });
    }
    if (fromCache) {
        for (auto& info : cache_.instances(locator.seriesInstanceUid))
            if (!wanted_ || wanted_->count(info.sopInstanceUid)) cacheList_.push_back(std::move(info));
        // The reads start now: the first instance is read while the adapter opens its association.
        if (!cacheList_.empty())
            readAhead_ = std::make_unique<CacheReadAhead>(cache_, locator.seriesInstanceUid, cacheList_);
        phase_ = Phase::FromCache;
        return;
    }
    try {
        subscription_ = downloads_.subscribe(locator);
        phase_ = Phase::FromDownload;
    } catch (const std::exception& e) {
        finishSeries(std::string(e.what()));
    }
}

void RetrieveStream::finishSeries(const std::optional<std::string>& failure) {
    const SeriesLocator& locator = plan_.series[seriesIndex_];
    subscription_.reset();
    readAhead_.reset();  // before the pin goes: its reader thread reads this series' files
    std::optional<std::set<std::string>> expected = wanted_;
    const bool shortfall = locator.imageCount > 0 && delivered_.size() + failedHere_.size() <
                                                         static_cast<std::size_t>(locator.imageCount);
    std::string listError;
    if (!expected && (failure || shortfall)) {
        try {
            const auto uids = metadata_.sopInstanceUids(locator.seriesInstanceUid, context_);
            expected.emplace(uids.begin(), uids.end());
        } catch (const std::exception& e) {
            listError = e.what();
        }
    }
    std::size_t missingHere = 0;
    if (expected) {
        for (const auto& sop : *expected) {
            if (!delivered_.count(sop) && !failedHere_.count(sop)) {
                failedUids_.push_back(sop);
                ++missingHere;
            }
        }
    } else if (failure || shortfall) {
        // The UIDs could not be listed: count what ImageCount says is missing.
        const std::size_t got = delivered_.size() + failedHere_.size();
        if (locator.imageCount > 0 && static_cast<std::size_t>(locator.imageCount) > got) {
            missingHere = static_cast<std::size_t>(locator.imageCount) - got;
            failedUnknown_ += missingHere;
        }
    }
    if (missingHere > 0) {
        if (failure) {
            recordFailure("series " + locator.seriesInstanceUid + ": " + *failure);
        } else {
            recordFailure("series " + locator.seriesInstanceUid + ": TCIA delivered " +
                          std::to_string(delivered_.size()) + " of " + std::to_string(locator.imageCount) +
                          " instances" + (listError.empty() ? "" : " (" + listError + ")"));
        }
    }
    pin_ = InstanceCache::Pin();
    ++seriesIndex_;
    phase_ = Phase::NextSeries;
}

InstanceStream::Status RetrieveStream::next(DicomInstance& out, std::chrono::milliseconds wait) {
    const auto deadline = Clock::now() + wait;
    while (true) {
        if (context_.cancelled()) {
            subscription_.reset();  // the download is cancelled if nobody else waits for it
            readAhead_.reset();
            pin_ = InstanceCache::Pin();
            phase_ = Phase::Done;
            throw BridgeError(ErrorCode::Cancelled, "retrieval cancelled");
        }
        try {
            if (auto status = step(out, deadline)) return *status;
        } catch (const BridgeError& e) {
            if (e.code() == ErrorCode::Cancelled) throw;
            abandonSeries(e.what());
        } catch (const std::exception& e) {
            abandonSeries(e.what());
        }
    }
}

void RetrieveStream::abandonSeries(const std::string& reason) {
    // Whatever broke (disk, a UID that cannot be a file name...) fails this series' remaining
    // instances -- recorded, never thrown (InstanceStream contract).
    if (seriesIndex_ < plan_.series.size()) {
        finishSeries(reason);
    } else {
        phase_ = Phase::Done;
    }
}

std::optional<InstanceStream::Status> RetrieveStream::step(DicomInstance& out, Clock::time_point deadline) {
    // One step of the state machine; nullopt = call again (next() checks cancellation between steps).
    switch (phase_) {
        case Phase::Done:
            return Status::End;

        case Phase::NextSeries:
            if (seriesIndex_ >= plan_.series.size()) {
                phase_ = Phase::Done;
                return Status::End;
            }
            startSeries();
            return std::nullopt;

        case Phase::FromCache: {
            if (cacheIndex_ >= cacheList_.size()) {
                readAhead_.reset();
                if (cacheMissed_) {
                    // A cached file failed verification: fetch the series again for what is missing.
                    try {
                        subscription_ = downloads_.subscribe(plan_.series[seriesIndex_]);
                        phase_ = Phase::FromDownload;
                    } catch (const std::exception& e) {
                        finishSeries(std::string(e.what()));
                    }
                } else {
                    finishSeries(std::nullopt);
                }
                return std::nullopt;
            }
            // Read (and verified) by the read-ahead thread while the previous one was sent.
            auto bytes = readAhead_->next(context_, deadline);
            if (!bytes) {
                if (context_.cancelled() || Clock::now() < deadline) return std::nullopt;
                return Status::Waiting;  // a slow disk: the adapter keeps its Pending cadence
            }
            const CachedInstanceInfo& info = cacheList_[cacheIndex_++];
            if (!*bytes) {
                cacheMissed_ = true;
                return std::nullopt;
            }
            fill(out, info.sopInstanceUid, info.sopClassUid(), info.transferSyntaxUid(), std::move(*bytes));
            return Status::Instance;
        }

        case Phase::FromDownload: {
            const auto now = std::chrono::steady_clock::now();
            const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
            PublishedInstance published;
            std::shared_ptr<const std::vector<std::uint8_t>> bytes;
            // One wait for the whole remaining time: a publish, the download's end or this
            // stream's stop (cancel(), the caller's context) wakes it -- nothing polls.
            switch (subscription_->next(published, bytes, std::max(remaining, std::chrono::milliseconds(0)),
                                        context_)) {
                case SeriesDownload::Poll::Waiting:
                    if (context_.cancelled() || std::chrono::steady_clock::now() < deadline)
                        return std::nullopt;  // next() throws Cancelled / a spurious early wake
                    return Status::Waiting;
                case SeriesDownload::Poll::End: {
                    // Instances handed out before md5hashes.csv proved them wrong are failed,
                    // not delivered (finishSeries lists them with the download's failure).
                    auto failure = subscription_->download().failureReason();
                    const auto rejected = subscription_->download().rejected();
                    for (const auto& sop : rejected) delivered_.erase(sop);
                    if (!rejected.empty() && !failure) failure = "instances failed MD5 verification";
                    finishSeries(failure);
                    return std::nullopt;
                }
                case SeriesDownload::Poll::Instance:
                    break;
            }
            const std::string& sop = published.sopInstanceUid;
            if ((wanted_ && !wanted_->count(sop)) || delivered_.count(sop) || failedHere_.count(sop))
                return std::nullopt;
            if (!bytes) bytes = cache_.read(plan_.series[seriesIndex_].seriesInstanceUid, sop);
            if (!bytes) {
                // Published, but evicted or damaged before this (slow) consumer read it back.
                failedHere_.insert(sop);
                failedUids_.push_back(sop);
                recordFailure("instance " + sop + " was lost from the cache before it could be sent");
                return std::nullopt;
            }
            fill(out, sop, published.sopClassUid, published.transferSyntaxUid, std::move(bytes));
            return Status::Instance;
        }
    }
    return std::nullopt;
}

std::vector<std::string> RetrieveStream::failedSopInstanceUids() const { return failedUids_; }
std::size_t RetrieveStream::failedCount() const { return failedUids_.size() + failedUnknown_; }
std::string RetrieveStream::failureReason() const { return failureReason_; }

}  // namespace bridge
