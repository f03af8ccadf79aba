#pragma once
// The TCP socket under a DCMTK association, and TCP_CORK over it. One place for the workaround:
// DcmTransportConnection::getSocket() is protected in DCMTK 3.6.7.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <functional>
#include <optional>
#include <stop_token>

namespace bridge::dimse {

/// The association's socket descriptor (plain or TLS: the TCP socket below), or -1. Only for
/// reading state and socket options; never closed or read from by the caller.
int associationSocket(T_ASC_Association* assoc);

/// The socket when the association runs over plain TCP (DcmTCPConnection), else -1 (TLS, none):
/// for writing DIMSE messages past DUL (PDataWriter), which TLS must not bypass.
int plainAssociationSocket(T_ASC_Association* assoc);

/// What awaitPeer() saw.
enum class PeerWait {
    Arrived,   ///< bytes from the peer are there (or it closed: the read will tell)
    TimedOut,  ///< nothing within the timeout
    Stopped    ///< `stopFd` became readable first
};

/// Sleeps in poll(2) -- no slices, nothing polled -- until the peer's next bytes arrive on the
/// association's socket, `stopFd` (an eventfd that stays readable once stopped; -1: none)
/// becomes readable, or `timeoutMs` passes (-1: no timeout). Over TLS, records OpenSSL holds
/// already count as arrived. On a plain-TCP association the arrived bytes are then acknowledged
/// at once (Linux TCP_QUICKACK). Why: a peer with Nagle on (DCMTK without TCP_NODELAY=1 writes
/// each PDU's header and body separately) holds the body until its header is ACKed, and Linux
/// delays that ACK up to 40 ms -- per C-STORE-RSP or request. TCP_QUICKACK set before the bytes
/// arrive is undone by our own still-draining writes (they re-enter delayed-ACK mode), hence
/// after. Arrived at once when the socket is unknown.
PeerWait awaitPeer(T_ASC_Association* assoc, int stopFd, int timeoutMs);

/// While alive, a stop of `token` shuts the association's TCP socket down (both directions):
/// a read, write or poll(2) blocked on it -- a C-STORE-RSP that does not come, a destination
/// that stopped reading -- ends at once with an error. Destroy it before the association is
/// dropped (std::stop_callback's destructor waits for a running callback, so the descriptor is
/// never shut after it was closed and reused). No-op for an unknown socket or an empty token.
class ShutdownOnStop {
public:
    ShutdownOnStop(T_ASC_Association* assoc, const std::stop_token& token);
    ShutdownOnStop(const ShutdownOnStop&) = delete;
    ShutdownOnStop& operator=(const ShutdownOnStop&) = delete;

private:
    std::optional<std::stop_callback<std::function<void()>>> callback_;
};

/// While alive, holds back the association's partial TCP segments (Linux TCP_CORK), so that data
/// written in several small writes (DUL writes each PDU header and fragment separately; a
/// replayed C-FIND answer is many PDUs) leaves in full segments instead of one segment per write
/// and a wake-up of the peer each. Released (flushed) on destruction -- before waiting for an
/// answer, never while a Pending must leave at once. No-op elsewhere.
class Cork {
public:
    explicit Cork(T_ASC_Association* assoc);
    ~Cork();
    Cork(const Cork&) = delete;
    Cork& operator=(const Cork&) = delete;

private:
    int fd_ = -1;
};

}  // namespace bridge::dimse
