#pragma once
// The TCP socket under a DCMTK association, and TCP_CORK over it. One place for the workaround:
// DcmTransportConnection::getSocket() is protected in DCMTK 3.6.7.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

namespace bridge::dimse {

/// The association's socket descriptor (plain or TLS: the TCP socket below), or -1. Only for
/// reading state and socket options; never closed or read from by the caller.
int associationSocket(T_ASC_Association* assoc);

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
