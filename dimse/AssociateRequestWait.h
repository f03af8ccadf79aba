#pragma once
// Waits, with a TOTAL deadline, until a whole A-ASSOCIATE-RQ PDU (PS3.8 9.3.2: type 01H, a
// reserved byte, a 4-byte big-endian length, then that many bytes) sits in a connected socket's
// receive queue -- without consuming it (MSG_PEEK / FIONREAD), so that dcmnet's
// ASC_receiveAssociation afterwards reads it at once and never blocks.
//
// Why: dcmnet's own ACSE timeout is per read, so a peer trickling one byte per interval keeps a
// negotiation alive for ever; and ASC_receiveAssociation must run under the process-wide mutex
// that guards dcmExternalSocketHandle (see DimseServer.h). Waiting here first, per connection
// on its own thread, bounds a slow or hostile peer to `deadline` and keeps it from holding the
// mutex. Plain TCP only: a TLS connection cannot be inspected before its handshake.
//
// Blocking: sleeps in poll(2) on `fd` and `stopFd` (the server's StopSignal), nothing polled;
// thread-safe (touches only `fd`).

#include <chrono>
#include <cstddef>
#include <string>

namespace bridge::dimse {

enum class AssociateRequestWait {
    Ready,               ///< the whole PDU is buffered
    NotAssociateRequest, ///< the first byte is not PDU type 01H
    TooLarge,            ///< the announced length exceeds the bound
    Closed,              ///< the peer closed (or reset) before the PDU was complete
    DeadlineExpired,     ///< the PDU was not complete by the deadline
    Stopped              ///< `stopFd` became readable (the server stops)
};

/// Short human-readable reason for a log line. Pure.
const char* describe(AssociateRequestWait result);

/// Waits until the whole A-ASSOCIATE-RQ is readable on `fd` (see the file comment), at most
/// until `deadline`. `maxPduBytes` bounds the announced PDU length (header excluded). The caller
/// must make the socket's receive buffer large enough for maxPduBytes (SO_RCVBUF). `stopFd`
/// (-1: none) is a descriptor that becomes readable, and stays so, when the wait must end.
AssociateRequestWait awaitAssociateRequest(int fd, std::chrono::steady_clock::time_point deadline,
                                           std::size_t maxPduBytes, int stopFd);

}  // namespace bridge::dimse
