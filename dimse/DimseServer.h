#pragma once
// The DIMSE Q/R SCP: listener, bounded association threads, A-ASSOCIATE negotiation, and the
// command loop that hands C-ECHO / C-FIND / C-MOVE / C-GET to FindScp / MoveScp / GetScp.
//
// Binding: DCMTK 3.6.7's ASC_initializeNetwork always listens on INADDR_ANY. The server
// therefore owns its listening socket, bound to DimseSettings::bindAddress (127.0.0.1 by
// default), accepts connections itself and hands each accepted socket to dcmnet through
// dcmExternalSocketHandle (dul.h: "used by dcmnet the next time receiveTransportConnectionTCP()
// is called"), with ASC_initializeNetwork run while that handle is set so dcmnet creates no
// listener of its own. dcmExternalSocketHandle is a process global: it is set and cleared under
// one process-wide mutex around each ASC_receiveAssociation, so several DimseServers may share a
// process; another DCMTK *acceptor* (DcmSCP, storescp code) in the same process would race
// with it, so in-process tests use an out-of-process storescp as C-MOVE destination.
//
// Limits: at most maxAssociations concurrent associations; one more is answered with
// A-ASSOCIATE-RJ (rejected-transient, service-provider presentation, local-limit-exceeded,
// PS3.8 9.3.4). Unknown called AE -> rejected-permanent called-AE-not-recognized; calling AE not
// in a non-empty allow-list (or from another host with checkCallerHost) ->
// calling-AE-not-recognized. Idle associations are aborted after networkTimeout.
//
// DICOM TLS: with DimseSettings::tlsPort set, a second listening socket (same bind address)
// whose connections go through a DcmTLSTransportLayer (DCMTK dcmtls) with the Non-downgrading
// BCP 195 profile of PS3.15 B.9 (TLS 1.2+, the four RFC 7525 suites), certificate and key from
// TlsSettings; with tls.caFile the peer must present a certificate that verifies against it.
// Each TLS connection has its handshake bounded by acseTimeout (socket timeouts). After the
// handshake, associations from both ports are handled identically (limits, AE checks, services).
// DimseSettings::plainEnabled = false leaves only the TLS port.
//
// Threading: start()/stop() from one owner thread; one accept thread; one thread per association.

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "bridge/common/Config.h"
#include "dimse/DimseDependencies.h"

struct T_ASC_Network;
struct T_ASC_Association;
class DcmTLSTransportLayer;

namespace bridge::dimse {

class DimseServer {
public:
    DimseServer(DimseSettings settings, DimseDependencies dependencies, TlsSettings tls = {});
    ~DimseServer();  ///< stop()
    DimseServer(const DimseServer&) = delete;
    DimseServer& operator=(const DimseServer&) = delete;

    /// Binds (port 0 = any free port) and starts accepting. Throws BridgeError(Internal) when the
    /// address cannot be bound, BridgeError(InvalidArgument) when the TLS certificate or key
    /// cannot be used.
    void start();
    /// Stops accepting, asks running operations to cancel, joins every thread. Idempotent.
    void stop();
    /// The bound port (after start()); 0 when the plain listener is off.
    std::uint16_t port() const { return port_; }
    /// The bound DICOM TLS port (after start()); 0 without settings.tlsPort.
    std::uint16_t tlsPort() const { return tlsPort_; }
    /// Gauge: associations being served now.
    int activeAssociations() const { return active_.load(); }

private:
    struct Worker {
        std::thread thread;
        std::atomic<bool> done{false};
    };
    void acceptLoop();
    /// Receives (and for TLS handshakes) one A-ASSOCIATE-RQ on an accepted socket and hands the
    /// association to a worker thread (or rejects it at the limit).
    void admit(int client, bool secure);
    void serve(T_ASC_Association* assoc);
    void reapWorkers(bool all);

    DimseSettings settings_;
    DimseDependencies deps_;
    int listenFd_ = -1;
    std::uint16_t port_ = 0;
    T_ASC_Network* network_ = nullptr;
    TlsSettings tls_;
    std::unique_ptr<DcmTLSTransportLayer> tlsLayer_;
    int tlsListenFd_ = -1;
    std::uint16_t tlsPort_ = 0;
    T_ASC_Network* tlsNetwork_ = nullptr;
    std::atomic<bool> stopping_{false};
    std::atomic<int> active_{0};
    std::thread acceptThread_;
    std::mutex workersMutex_;
    std::list<std::unique_ptr<Worker>> workers_;
};

}  // namespace bridge::dimse
