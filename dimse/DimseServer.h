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
// Negotiation: each accepted connection gets its own thread at once (the accept thread reads
// nothing), which waits for the WHOLE A-ASSOCIATE-RQ with one total deadline (acseTimeout;
// dcmnet's own timeout is per read) before ASC_receiveAssociation runs under the mutex on the
// buffered PDU (AssociateRequestWait.h). A peer trickling bytes is dropped at the deadline and
// delays nobody else. At most maxAssociations connections may be negotiating at once; beyond
// that a new connection is closed at once (nothing was read that an A-ASSOCIATE-RJ could answer).
// An announced A-ASSOCIATE-RQ longer than kMaxAssociateRequestBytes, or a first PDU of another
// type, is dropped.
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
// Each TLS connection runs its handshake and reads its whole A-ASSOCIATE-RQ on its own thread,
// outside the mutex, within the same total deadline (acseTimeout; socket timeouts plus a
// watchdog), like a plain one (TlsNegotiation.h); dcmnet then parses the bytes already read.
// After that, associations from both ports are handled identically (limits, AE checks, services).
// DimseSettings::plainEnabled = false leaves only the TLS port.
//
// Threading: start()/stop() from one owner thread; one accept thread; one thread per connection
// (negotiation, then the association).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "bridge/common/Config.h"
#include "dimse/DimseDependencies.h"
#include "dimse/StopSignal.h"

struct T_ASC_Network;
struct T_ASC_Association;
class DcmTLSTransportLayer;

namespace bridge::dimse {

class PreparedConnectionLayer;
class PrereadConnection;

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
    /// Gauge: connections accepted whose A-ASSOCIATE-RQ has not been read yet.
    int negotiatingConnections() const { return negotiating_.load(); }
    /// Bound on the announced length of an incoming A-ASSOCIATE-RQ PDU; a longer one is
    /// dropped without answer (128 presentation contexts with many syntaxes stay far below).
    static constexpr std::size_t kMaxAssociateRequestBytes = 256 * 1024;
    /// SIGHUP: takes dimse.peers, allowedCallingAets and checkCallerHost from `fresh` (the rest
    /// of the settings -- port, AE titles, limits -- need a restart). Running associations keep
    /// serving; each new association and each new C-MOVE uses the new values. Thread-safe.
    void reload(const DimseSettings& fresh);
    /// The settings in force now (immutable snapshot). Thread-safe.
    std::shared_ptr<const DimseSettings> currentSettings() const;

private:
    struct Worker {
        std::thread thread;
        std::atomic<bool> done{false};
    };
    /// Sleeps in poll(2) on the listening sockets, wakeFd_ and the stop signal (no timeout):
    /// accepts, reaps finished association threads when one signals, returns on stop().
    void acceptLoop();
    void wakeAcceptLoop();  ///< writes wakeFd_
    /// Hands an accepted socket to a thread of its own (bounded by the negotiating limit).
    void admit(int client, bool secure);
    /// On the connection's own thread: waits (total deadline acseTimeout) for the whole
    /// A-ASSOCIATE-RQ (plain: peeked; TLS: a watchdog), lets dcmnet read it, enforces
    /// maxAssociations, then serve().
    void negotiateAndServe(int client, bool secure);
    /// TLS: on the calling thread, without any lock, the handshake and the whole A-ASSOCIATE-RQ
    /// (TlsNegotiation.h) by `deadline`. Success: `negotiated` (new, owns `client`) and "";
    /// failure: `client` closed, `negotiated` null and the reason.
    std::string negotiateTls(int client, std::chrono::steady_clock::time_point deadline,
                             PrereadConnection*& negotiated);
    void serve(T_ASC_Association* assoc);
    int maxNegotiating() const { return settings_.maxAssociations; }
    void reapWorkers(bool all);

    DimseSettings settings_;  ///< start-time settings (port, limits); see currentSettings()
    DimseDependencies deps_;
    mutable std::mutex reloadMutex_;
    std::shared_ptr<const DimseSettings> current_;
    int listenFd_ = -1;
    std::uint16_t port_ = 0;
    T_ASC_Network* network_ = nullptr;
    TlsSettings tls_;
    std::unique_ptr<DcmTLSTransportLayer> tlsLayer_;  ///< TLS contexts; handshakes run on it (TlsNegotiation.h)
    std::unique_ptr<PreparedConnectionLayer> preparedLayer_;  ///< tlsNetwork_'s layer: hands over negotiated connections
    int tlsListenFd_ = -1;
    std::uint16_t tlsPort_ = 0;
    T_ASC_Network* tlsNetwork_ = nullptr;
    /// Created by start(), requested by stop(): every wait of the server's threads wakes on it.
    std::unique_ptr<StopSignal> stop_;
    bool stopRequested() const { return !stop_ || stop_->requested(); }
    std::atomic<int> active_{0};
    std::atomic<int> negotiating_{0};  ///< connections whose A-ASSOCIATE-RQ is not yet read
    std::thread acceptThread_;
    int wakeFd_ = -1;  ///< eventfd: each finished association thread wakes acceptLoop
    std::mutex workersMutex_;
    std::list<std::unique_ptr<Worker>> workers_;
};

}  // namespace bridge::dimse
