#pragma once
// DICOM TLS negotiation outside dcmnet's process-wide accept mutex (see DimseServer.h).
//
// dcmnet reads an accepted socket's TLS handshake and its A-ASSOCIATE-RQ inside
// ASC_receiveAssociation, which must run under the mutex guarding dcmExternalSocketHandle. Done
// there, every TLS negotiation waited for the one before it, and its own deadline ran out while
// it waited: a peer slow between handshake and request (or a silent one) made the TLS peers
// arriving with it fail, and held up the plain ones. Instead, on the connection's own thread and
// without any lock: the handshake runs on a DcmTLSConnection from the server's
// DcmTLSTransportLayer, then the whole A-ASSOCIATE-RQ is read through it (readAssociateRequest);
// only then, under the mutex, dcmnet gets that connection (PreparedConnectionLayer) wrapped in a
// PrereadConnection that hands it the bytes already read first, so ASC_receiveAssociation
// completes without waiting on the network.
//
// Thread-safety: PrereadConnection is used by one thread at a time (like any dcmnet
// connection); PreparedConnectionLayer::offer/take only under the caller's mutex.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/dcmlayer.h>
#include <dcmtk/dcmnet/dcmtrans.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dimse/AssociateRequestWait.h"

namespace bridge::dimse {

/// Reads one whole A-ASSOCIATE-RQ PDU (PS3.8 9.3.2) through `connection` (after its handshake)
/// into `pdu`. Blocking reads: the caller bounds them in total (a watchdog shutting the socket
/// down at `deadline`); a read interrupted by a signal or a socket timeout is retried until
/// `deadline`. Ready, NotAssociateRequest, TooLarge (announced length above `maxPduBytes`) or
/// Closed (end of stream, error, or the deadline, before the PDU was complete).
AssociateRequestWait readAssociateRequest(DcmTransportConnection& connection, std::size_t maxPduBytes,
                                          std::chrono::steady_clock::time_point deadline,
                                          std::vector<std::uint8_t>& pdu);

/// A transport connection over an already negotiated one (owned): reads return `preread` first,
/// then the inner connection's data; the server-side handshake is reported done (it was).
/// Everything else is the inner connection's.
class PrereadConnection : public DcmTransportConnection {
public:
    /// Takes ownership of `inner`, whose socket is `socket`. Note: the base constructor sets the
    /// socket's timeouts from dcmnet's globals (dcmSocketReceiveTimeout/SendTimeout), i.e. back
    /// to dcmnet's defaults for the association.
    PrereadConnection(DcmTransportConnection* inner, DcmNativeSocketType socket,
                      std::vector<std::uint8_t> preread);
    ~PrereadConnection() override;
    PrereadConnection(const PrereadConnection&) = delete;
    PrereadConnection& operator=(const PrereadConnection&) = delete;

    OFCondition serverSideHandshake() override;  ///< EC_Normal: done before
    OFCondition clientSideHandshake() override;
    OFCondition renegotiate(const char* newSuite) override;
    ssize_t read(void* buf, size_t nbyte) override;
    ssize_t write(void* buf, size_t nbyte) override;
    void close() override;
    void closeTransportConnection() override;
    unsigned long getPeerCertificateLength() override;
    unsigned long getPeerCertificate(void* buf, unsigned long bufLen) override;
    OFBool networkDataAvailable(int timeout) override;
    OFBool isTransparentConnection() override;
    OFString& dumpConnectionParameters(OFString& str) override;

private:
    DcmTransportConnection* inner_;
    std::vector<std::uint8_t> preread_;
    std::size_t consumed_ = 0;
};

/// The transport layer of the TLS acceptor network: createConnection() hands dcmnet the
/// connection offered just before ASC_receiveAssociation (ownership passes to dcmnet), or
/// nullptr (dcmnet then closes the socket) when none was offered.
class PreparedConnectionLayer : public DcmTransportLayer {
public:
    /// Offers `connection` (owned until taken) for the next createConnection().
    void offer(DcmTransportConnection* connection) { offered_ = connection; }
    /// What dcmnet did not take (it failed before asking), else nullptr; the caller owns it.
    DcmTransportConnection* takeBack() {
        DcmTransportConnection* c = offered_;
        offered_ = nullptr;
        return c;
    }
    DcmTransportConnection* createConnection(DcmNativeSocketType openSocket, OFBool useSecureLayer) override;

private:
    DcmTransportConnection* offered_ = nullptr;
};

}  // namespace bridge::dimse
