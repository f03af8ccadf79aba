#pragma once
// The state machine shared by C-MOVE and C-GET (Orthanc's IMoveRequestIterator, dcmqrdb's
// start/next/context handle): plan -> announce the sub-operation count -> one C-STORE per
// instance as it comes out of the InstanceStream -> final status with honest counts.
// Each call to next() produces exactly one response (Pending or final) and returns within
// about pendingInterval, so an SCU never waits longer than that for a Pending (pynetdicom #792).
// Instances that are ready at once are stored back to back in one next() (for up to 150 ms),
// so a cached series is not slowed by a Pending between every two C-STOREs.
// Owned and driven by one association thread.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
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

class PeerWatchedWorker;

class RetrieveOperation {
public:
    /// The requester's association to watch for a C-CANCEL-RQ while next() waits for an
    /// instance (C-MOVE). C-GET passes none: on its association the next message may also be a
    /// late C-STORE-RSP, and DIMSE_getProvider checks for C-CANCEL between responses.
    struct CancelWatch {
        T_ASC_Association* association = nullptr;
        T_ASC_PresentationContextID presentationContextId = 0;
        DIC_US messageId = 0;
    };
    /// `cancelRequested` (may be empty) is asked at the start of each next() and between the
    /// C-STOREs of a batch (a C-CANCEL that arrived between responses), as is `context` (stopped
    /// by the server's stop: it is a child of the server's lifetime context, or by a deadline). `context` is the operation's request context (id, caller;
    /// scope resolution ran under it); the operation cancels it when it ends early.
    /// While next() waits for an instance nothing polls: the wait is the stream's condition
    /// variable wait (instance, end, stop of `context`, pendingInterval), run on a
    /// PeerWatchedWorker when `watch` is given so that the association thread sleeps in poll(2)
    /// on the association's socket and the worker's eventfd -- a C-CANCEL-RQ cancels `context`,
    /// which ends the stream's wait at once (issue 11 item 1).
    RetrieveOperation(RetrieveService& service, std::chrono::milliseconds pendingInterval,
                      std::function<bool()> cancelRequested, RequestContext context = RequestContext(),
                      std::optional<CancelWatch> watch = std::nullopt);
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
    /// The next instance, End, or Waiting after pendingInterval; signalled, never sliced.
    InstanceStream::Status waitForInstance(DicomInstance& instance);

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
    /// Debug timeline (logger bridge.dimse.timeline): when the last C-STORE ended (idle gaps).
    std::chrono::steady_clock::time_point lastStoreEnd_{};
    /// C-MOVE: runs the stream's wait while the association thread watches the socket.
    /// Declared last: joined before anything its calls use is destroyed.
    std::unique_ptr<PeerWatchedWorker> watcher_;
};

}  // namespace bridge::dimse
