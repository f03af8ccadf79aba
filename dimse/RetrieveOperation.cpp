#include "dimse/RetrieveOperation.h"

#include <Poco/Logger.h>

#include <algorithm>

#include "bridge/common/Error.h"
#include "dimse/PeerWatchedWorker.h"

namespace bridge::dimse {

using namespace std::chrono_literals;

namespace {
/// Longest run of back-to-back C-STOREs answered by a single Pending.
constexpr std::chrono::milliseconds kPendingBatch{150};
}  // namespace

RetrieveOperation::RetrieveOperation(RetrieveService& service, std::chrono::milliseconds pendingInterval,
                                     std::function<bool()> cancelRequested, RequestContext context,
                                     std::optional<CancelWatch> watch)
    : service_(service),
      pendingInterval_(std::max(pendingInterval, std::chrono::milliseconds(100))),
      cancelRequested_(std::move(cancelRequested)),
      context_(std::move(context)) {
    if (watch && watch->association)
        watcher_ = std::make_unique<PeerWatchedWorker>(watch->association, watch->presentationContextId,
                                                       watch->messageId, [this] { context_.cancel(); });
}

RetrieveOperation::~RetrieveOperation() {
    if (stream_) {
        context_.cancel();
        try {
            stream_->cancel();
        } catch (...) {
        }
    }
}

RetrieveResponse RetrieveOperation::failure(std::uint16_t status, const std::string& comment) {
    RetrieveResponse r;
    r.status = status;
    r.errorComment = errorComment(comment);
    return r;
}

RetrieveResponse RetrieveOperation::begin(const RetrieveRequest& request, StoreTarget& target) {
    target_ = &target;
    try {
        RetrievePlan plan = service_.plan(request, context_);
        counts_.planned = plan.instanceCount;
        if (plan.instanceCount == 0 && plan.series.empty()) return finish(false);
        stream_ = service_.open(plan, context_);
    } catch (const std::exception& e) {
        ErrorCode code = classifyException(e);
        return failure(failureStatus(code, DimseOperation::Move), e.what());
    }
    RetrieveResponse r;  // first Pending: the sub-operation count (PS3.4 C.4.2.1.6)
    r.counts = counts_;
    return r;
}

RetrieveResponse RetrieveOperation::next(bool cancelled) {
    // The context stops with a C-CANCEL seen by the watcher, the server's stop or the deadline.
    if (cancelled || context_.cancelled() || (cancelRequested_ && cancelRequested_())) return finish(true);
    if (!stream_) return finish(false);
    DicomInstance instance;
    try {
        InstanceStream::Status status = waitForInstance(instance);
        if (watcher_ && watcher_->cancelSeen()) return finish(true);  // C-CANCEL or the peer left
        if (status == InstanceStream::Status::End) return finish(false);
        if (status == InstanceStream::Status::Waiting) {
            RetrieveResponse r;  // Waiting: keep the SCU's DIMSE timer alive
            r.counts = counts_;
            return r;
        }
    } catch (const BridgeError& e) {
        if (e.code() == ErrorCode::Cancelled || (watcher_ && watcher_->cancelSeen())) return finish(true);
        if (firstFailure_.empty()) firstFailure_ = e.what();
        return finish(false);
    } catch (const std::exception& e) {
        if (firstFailure_.empty()) firstFailure_ = e.what();
        return finish(false);
    }

    // Keep the sub-association busy: instances that are ready at once (a cached series, a burst
    // of a download) are stored back to back, with one Pending per batch instead of one per
    // instance -- a C-MOVE-RSP/C-GET-RSP written, and an SCU woken, between every two C-STOREs.
    // A Pending reports progress with cumulative counts, so fewer of them lose nothing; a batch ends
    // within kPendingBatch, far inside pendingInterval.
    const auto batchEnd = std::chrono::steady_clock::now() + std::min(kPendingBatch, pendingInterval_);
    for (;;) {
        store(instance);
        if (target_->broken()) {
            // Destination refused or lost: no point downloading the rest (PS3.4 A702 / B000).
            if (firstFailure_.empty()) firstFailure_ = target_->brokenReason();
            return finish(false);
        }
        if (std::chrono::steady_clock::now() >= batchEnd) break;
        if (context_.cancelled() || (cancelRequested_ && cancelRequested_())) return finish(true);
        InstanceStream::Status status;
        try {
            status = stream_->next(instance, std::chrono::milliseconds(0));  // only what is ready now
        } catch (const BridgeError& e) {
            if (e.code() == ErrorCode::Cancelled) return finish(true);
            if (firstFailure_.empty()) firstFailure_ = e.what();
            return finish(false);
        } catch (const std::exception& e) {
            if (firstFailure_.empty()) firstFailure_ = e.what();
            return finish(false);
        }
        if (status == InstanceStream::Status::End) return finish(false);
        if (status == InstanceStream::Status::Waiting) break;
    }
    RetrieveResponse r;
    r.counts = counts_;
    return r;
}

void RetrieveOperation::store(const DicomInstance& instance) {
    if (counts_.remaining() == 0) ++counts_.planned;  // more than planned arrived: keep counts honest
    // Debug timeline: how long the sub-association was idle before this C-STORE (waiting for
    // the instance, or sending a Pending) and how long the C-STORE took (sent + answered).
    static Poco::Logger& timeline = Poco::Logger::get("bridge.dimse.timeline");  // looked up once (a global lock)
    const bool timed = timeline.debug();
    const auto started = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    StoreTarget::Result stored = target_->store(instance);
    if (timed) {
        const auto ended = std::chrono::steady_clock::now();
        const auto us = [](auto d) {
            return static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
        };
        timeline.debug("C-STORE %s idle-before %ld us store %ld us", instance.sopInstanceUid,
                       lastStoreEnd_.time_since_epoch().count() ? us(started - lastStoreEnd_) : -1L,
                       us(ended - started));
        lastStoreEnd_ = ended;
    }
    switch (stored.outcome) {
        case StoreTarget::Outcome::Success:
            ++counts_.completed;
            completedUids_.insert(instance.sopInstanceUid);
            break;
        case StoreTarget::Outcome::Warning:
            ++counts_.warning;
            warningUids_.insert(instance.sopInstanceUid);
            break;
        case StoreTarget::Outcome::Failure:
            ++counts_.failed;
            failedUids_.push_back(instance.sopInstanceUid);
            if (firstFailure_.empty()) firstFailure_ = stored.reason;
            break;
    }
}

InstanceStream::Status RetrieveOperation::waitForInstance(DicomInstance& instance) {
    // Already there (read-ahead, the cache): no hand-off to the watcher's thread.
    InstanceStream::Status status = stream_->next(instance, 0ms);
    if (status != InstanceStream::Status::Waiting) return status;
    // One wait of at most pendingInterval that wakes on an instance, the end or a stop of
    // context_ (the stream's condition variable). A C-CANCEL-RQ arrives on the association's
    // socket, which only this thread may read: with a watcher, this thread sleeps in poll(2) on
    // that socket and the worker's eventfd while the worker waits on the stream, and a C-CANCEL
    // cancels context_, which ends the stream's wait at once.
    if (!watcher_) return stream_->next(instance, pendingInterval_);
    watcher_->run([&] { status = stream_->next(instance, pendingInterval_); });
    return status;
}

RetrieveResponse RetrieveOperation::finish(bool cancelled) {
    RetrieveResponse r;
    if (stream_) {
        if (cancelled || target_->broken()) {
            context_.cancel();
            try {
                stream_->cancel();
            } catch (...) {
            }
        } else {
            try {
                for (const auto& uid : stream_->failedSopInstanceUids()) {
                    if (std::find(failedUids_.begin(), failedUids_.end(), uid) != failedUids_.end()) continue;
                    failedUids_.push_back(uid);
                    // Sent already, then rejected by the core (TCIA's MD5 arrives after the
                    // instances): a failed sub-operation, not a completed one.
                    if (completedUids_.erase(uid)) {
                        --counts_.completed;
                        ++counts_.failed;
                    } else if (warningUids_.erase(uid)) {
                        --counts_.warning;
                        ++counts_.failed;
                    }
                }
                if (firstFailure_.empty()) firstFailure_ = stream_->failureReason();
            } catch (...) {
            }
        }
    }
    if (!cancelled) {
        // Everything announced but not stored has failed (PS3.4 C.4.2.1.6: counts must add up).
        counts_.failed += counts_.remaining();
    }
    r.counts = counts_;
    r.status = retrieveFinalStatus(counts_, cancelled);
    if (r.status != kStatusSuccess && r.status != kStatusCancel) {
        r.failedSopInstanceUids = failedUids_;
        r.errorComment = errorComment(firstFailure_.empty() ? "sub-operations failed" : firstFailure_);
    }
    if (cancelled) r.failedSopInstanceUids = failedUids_;
    stream_.reset();
    return r;
}

}  // namespace bridge::dimse
