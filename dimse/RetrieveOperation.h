#pragma once
// The state machine shared by C-MOVE and C-GET (Orthanc's IMoveRequestIterator, dcmqrdb's
// start/next/context handle): plan -> announce the sub-operation count -> one C-STORE per
// instance as it comes out of the InstanceStream -> final status with honest counts.
// Each call to next() produces exactly one response (Pending or final) and returns within
// about pendingInterval, so an SCU never waits longer than that for a Pending (pynetdicom #792).
// Instances that are ready at once are stored back to back in one next() (for up to 150 ms),
// so a cached series is not slowed by a Pending between every two C-STOREs.
// Owned and driven by one association thread.

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bridge/common/RequestContext.h"
#include "bridge/retrieve/RetrieveService.h"
#include "dimse/DimseStatus.h"
#include "dimse/StoreTarget.h"

namespace bridge::dimse {

/// One C-MOVE-RSP / C-GET-RSP to send.
struct RetrieveResponse {
    std::uint16_t status = kStatusPending;
    SubOperationCounts counts;
    std::string errorComment;                        ///< empty = none
    std::vector<std::string> failedSopInstanceUids;  ///< final non-success only
    bool final() const { return status != kStatusPending; }
};

class RetrieveOperation {
public:
    /// `cancelRequested` reads the association for a C-CANCEL-RQ (and server shutdown) every
    /// 250 ms while waiting for instances; everything else wakes the wait (RequestContext).
    RetrieveOperation(RetrieveService& service, std::chrono::milliseconds pendingInterval,
                      std::function<bool()> cancelRequested);
    ~RetrieveOperation();

    /// Plans and opens the retrieval. Pending with the planned count, or a final response
    /// (success with zero sub-operations, or the mapped failure of a BridgeError).
    RetrieveResponse begin(const RetrieveRequest& request, StoreTarget& target);
    /// One step: stores the next instance (and those ready right after it), or reports progress
    /// while waiting, or finishes.
    /// `cancelled`: the DIMSE provider saw a C-CANCEL.
    RetrieveResponse next(bool cancelled);
    /// A final failure response (used before begin(): bad identifier, unknown destination).
    static RetrieveResponse failure(std::uint16_t status, const std::string& comment);

private:
    RetrieveResponse finish(bool cancelled);
    void store(const DicomInstance& instance);  ///< one C-STORE; counts its outcome

    RetrieveService& service_;
    std::chrono::milliseconds pendingInterval_;
    std::function<bool()> cancelRequested_;
    RequestContext context_;
    StoreTarget* target_ = nullptr;
    std::unique_ptr<InstanceStream> stream_;
    SubOperationCounts counts_;
    std::vector<std::string> failedUids_;
    std::set<std::string> completedUids_;  ///< counted completed: moved to failed if the core rejects them later
    std::set<std::string> warningUids_;
    std::string firstFailure_;
};

}  // namespace bridge::dimse
