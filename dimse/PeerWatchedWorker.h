#pragma once
// Runs the blocking core calls of one DIMSE operation (a C-FIND cursor's find()/next()) on a
// worker thread while the association thread waits -- signalled, never polling a flag -- for
// either the call's end (an eventfd the worker writes) or data from the peer (poll(2) on the
// association's socket, DUL_getTransportConnection). Data from the peer during a call is read
// as a C-CANCEL-RQ (DIMSE_checkForCancelRQ for the operation's message id); a C-CANCEL, or
// anything that means the peer is gone or leaving (abort, close, release, another command),
// calls `onCancel` once -- the operation's RequestContext::cancel(), which stops the TCIA call
// mid-retry -- and the wait continues until the call returns (issue 11 item 1).
// DCMTK between responses (DIMSE_findProvider) still sees a C-CANCEL that arrives while no
// call runs. One instance per operation; not thread-safe (the association thread calls run()).

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace bridge::dimse {

class PeerWatchedWorker {
public:
    /// Starts the worker thread (it carries the caller's log context).
    PeerWatchedWorker(T_ASC_Association* assoc, T_ASC_PresentationContextID presId, DIC_US messageId,
                      std::function<void()> onCancel);
    /// Joins the worker (no call is running once run() returned).
    ~PeerWatchedWorker();
    PeerWatchedWorker(const PeerWatchedWorker&) = delete;
    PeerWatchedWorker& operator=(const PeerWatchedWorker&) = delete;

    /// Runs `call` on the worker and returns when it returned; rethrows its exception.
    void run(const std::function<void()>& call);
    /// A C-CANCEL (or the peer's leaving) was seen during a run().
    bool cancelSeen() const { return cancelSeen_; }
    /// A C-CANCEL-RQ itself was read (not an abort or another message).
    bool cancelRequestRead() const { return cancelRequestRead_; }

private:
    void work();
    void peerData();

    T_ASC_Association* assoc_;
    T_ASC_PresentationContextID presId_;
    DIC_US messageId_;
    std::function<void()> onCancel_;
    int socket_ = -1;   ///< the association's socket; -1 once it is no longer watched
    int done_ = -1;     ///< eventfd: the worker finished a call
    bool cancelSeen_ = false;
    bool cancelRequestRead_ = false;
    std::string logContext_;

    std::mutex mutex_;
    std::condition_variable wake_;
    const std::function<void()>* call_ = nullptr;
    std::exception_ptr error_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace bridge::dimse
