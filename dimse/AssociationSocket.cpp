#include "dimse/AssociationSocket.h"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dul.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

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
