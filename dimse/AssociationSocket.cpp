#include "dimse/AssociationSocket.h"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dul.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

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

bool awaitPeerAndAcknowledge(T_ASC_Association* assoc, int timeoutMs) {
    const int fd = plainAssociationSocket(assoc);
    if (fd < 0) return true;
    pollfd p{fd, POLLIN, 0};
    int ready;
    do ready = ::poll(&p, 1, timeoutMs);
    while (ready < 0 && errno == EINTR);
    if (ready == 0) return false;
#if defined(__linux__) && defined(TCP_QUICKACK)
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
#endif
    return true;
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
