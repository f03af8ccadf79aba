#pragma once
// The DIMSE server's stop, seen by every wait of the server's threads without polling a flag:
//   * fd(): an eventfd written once by request() and never read, so it stays readable -- each
//     poll(2) of the server (accept loop, A-ASSOCIATE-RQ wait, the wait for the next request)
//     includes it and wakes at once, however many threads wait;
//   * context(): a RequestContext cancelled by request() -- each operation's context is a child
//     of it (child(id, caller)), so a C-FIND's TCIA search or a C-MOVE's download stops mid-retry,
//     and condition-variable waits (the TLS negotiation watchdog) wake on its token.
// One per DimseServer start(); request() is idempotent and thread-safe.

#include "bridge/common/RequestContext.h"

namespace bridge::dimse {

class StopSignal {
public:
    /// Throws BridgeError(Internal) when no eventfd can be created.
    StopSignal();
    ~StopSignal();
    StopSignal(const StopSignal&) = delete;
    StopSignal& operator=(const StopSignal&) = delete;

    /// Stops: cancels context() and makes fd() readable for good. noexcept, idempotent.
    void request() noexcept;
    bool requested() const noexcept { return context_.cancelled(); }
    /// Readable once request() ran; for poll(2) only (never read or closed by callers).
    int fd() const noexcept { return fd_; }
    /// Cancelled by request(); the parent of every operation's context.
    const RequestContext& context() const noexcept { return context_; }

private:
    RequestContext context_;
    int fd_ = -1;
};

}  // namespace bridge::dimse
