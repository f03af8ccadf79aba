#include "dimse/AssociationSocket.h"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dul.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace bridge::dimse {
namespace {

/// A derived class may name the protected getSocket(); the member pointer it yields calls it on
/// any connection.
struct SocketOf : DcmTransportConnection {
    static int get(DcmTransportConnection& connection) {
        DcmNativeSocketType (DcmTransportConnection::*getter)() = &SocketOf::getSocket;
        return static_cast<int>((connection.*getter)());
    }
};

}  // namespace

int associationSocket(T_ASC_Association* assoc) {
    if (!assoc || !assoc->DULassociation) return -1;
    DcmTransportConnection* connection = DUL_getTransportConnection(assoc->DULassociation);
    return connection ? SocketOf::get(*connection) : -1;
}

int plainAssociationSocket(T_ASC_Association* assoc) {
    if (!assoc || !assoc->DULassociation) return -1;
    auto* connection = dynamic_cast<DcmTCPConnection*>(DUL_getTransportConnection(assoc->DULassociation));
    return connection ? SocketOf::get(*connection) : -1;
}

PeerWait awaitPeer(T_ASC_Association* assoc, int stopFd, int timeoutMs) {
    const int fd = associationSocket(assoc);
    if (fd < 0) return PeerWait::Arrived;
    const bool plain = plainAssociationSocket(assoc) >= 0;
    // TLS: a record OpenSSL already read is invisible to poll(2) (SSL_pending, via DUL).
    if (!plain && DUL_dataWaiting(assoc->DULassociation, 0)) return PeerWait::Arrived;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    pollfd p[2] = {{fd, POLLIN, 0}, {stopFd, POLLIN, 0}};  // fd -1 is ignored by poll
    for (;;) {
        int wait = timeoutMs;
        if (timeoutMs > 0) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            wait = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
        }
        const int ready = ::poll(p, 2, wait);
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) return PeerWait::TimedOut;
        if (ready < 0) return PeerWait::Arrived;  // let the read report the failure
        if (p[1].revents != 0) return PeerWait::Stopped;
        break;
    }
#if defined(__linux__) && defined(TCP_QUICKACK)
    if (plain) {
        const int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
    }
#endif
    return PeerWait::Arrived;
}

ShutdownOnStop::ShutdownOnStop(T_ASC_Association* assoc, const std::stop_token& token) {
    const int fd = associationSocket(assoc);
    if (fd < 0 || !token.stop_possible()) return;
    callback_.emplace(token, std::function<void()>([fd] { ::shutdown(fd, SHUT_RDWR); }));
}

Cork::Cork(T_ASC_Association* assoc) {
#if defined(__linux__) && defined(TCP_CORK)
    const int fd = associationSocket(assoc);
    const int on = 1;
    if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0) fd_ = fd;
#else
    (void)assoc;
#endif
}

Cork::~Cork() {
#if defined(__linux__) && defined(TCP_CORK)
    const int off = 0;
    if (fd_ >= 0) setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
#endif
}

}  // namespace bridge::dimse
