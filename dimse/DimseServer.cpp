#include "bridge/retrieve/Part10Dataset.h"
#include "dimse/DimseServer.h"

#include <arpa/inet.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/dcmtls/tlscond.h>
#include <dcmtk/dcmtls/tlslayer.h>
#include <dcmtk/oflog/oflog.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>

#include "bridge/common/Error.h"
#include "bridge/common/Logging.h"
#include "bridge/common/MetricsRegistry.h"
#include "bridge/common/Text.h"
#include "dimse/AssociateRequestWait.h"
#include "dimse/AssociationPolicy.h"
#include "dimse/AssociationSocket.h"
#include "dimse/CStoreSender.h"
#include "dimse/DimseObservation.h"
#include "dimse/FindScp.h"
#include "dimse/GetScp.h"
#include "dimse/MoveScp.h"
#include "dimse/TlsNegotiation.h"

namespace bridge::dimse {
namespace {

OFLogger serverLogger = OFLog::getLogger("bridge.dimse.server");

/// Guards dcmExternalSocketHandle, a dcmnet process global (see DimseServer.h).
std::mutex& externalSocketMutex() {
    static std::mutex m;
    return m;
}

std::string trimmed(const char* s) { return trimSpaces(s ? s : ""); }

void reject(T_ASC_Association* assoc, T_ASC_RejectParametersResult result,
            T_ASC_RejectParametersSource source, T_ASC_RejectParametersReason reason) {
    T_ASC_RejectParameters rej{result, source, reason};
    ASC_rejectAssociation(assoc, &rej);
    ASC_dropAssociation(assoc);
    ASC_destroyAssociation(&assoc);
}

/// A listening IPv4 socket on address:port (0 = any free port); returns the fd and fills the
/// bound port. Throws BridgeError.
int listenOn(const std::string& address, std::uint16_t port, std::uint16_t& boundPort, const std::string& key) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw BridgeError(ErrorCode::Internal, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
        ::close(fd);
        throw BridgeError(ErrorCode::InvalidArgument, "dimse.bindAddress is not an IPv4 address: " + address);
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
        std::string err = std::strerror(errno);
        ::close(fd);
        throw BridgeError(ErrorCode::Internal,
                          "cannot listen on " + address + ":" + std::to_string(port) + " (" + key + "): " + err);
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    boundPort = ntohs(addr.sin_port);
    return fd;
}

/// A dcmnet acceptor network that creates no listener of its own (see DimseServer.h).
T_ASC_Network* externalNetwork(int fd, std::uint16_t port, int acseTimeout) {
    std::lock_guard<std::mutex> lock(externalSocketMutex());
    // With an external handle set, initializeNetworkTCP() creates no INADDR_ANY listener.
    dcmExternalSocketHandle.set(fd);
    T_ASC_Network* network = nullptr;
    OFCondition cond = ASC_initializeNetwork(NET_ACCEPTOR, port, acseTimeout, &network);
    dcmExternalSocketHandle.set(-1);
    if (cond.bad()) throw BridgeError(ErrorCode::Internal, std::string("ASC_initializeNetwork: ") + cond.text());
    return network;
}

/// The DICOM TLS layer: Non-downgrading BCP 195 profile (PS3.15 B.9), PEM certificate and key,
/// client certificates required and verified when a CA file is given.
std::unique_ptr<DcmTLSTransportLayer> makeTlsLayer(const TlsSettings& tls) {
    auto fail = [](const std::string& key, const std::string& what) {
        throw BridgeError(ErrorCode::InvalidArgument, "config: " + key + ": " + what);
    };
    auto layer = std::make_unique<DcmTLSTransportLayer>(NET_ACCEPTOR, nullptr, OFTrue);
    if (layer->setTLSProfile(TSP_Profile_BCP195_ND).bad() || layer->activateCipherSuites().bad())
        fail("tls", "OpenSSL does not offer the BCP 195 cipher suites");
    if (layer->setPrivateKeyFile(tls.keyFile.c_str(), DCF_Filetype_PEM).bad())
        fail("tls.keyFile", "cannot load private key " + tls.keyFile);
    if (layer->setCertificateFile(tls.certFile.c_str(), DCF_Filetype_PEM).bad())
        fail("tls.certFile", "cannot load certificate " + tls.certFile);
    if (!layer->checkPrivateKeyMatchesCertificate())
        fail("tls.keyFile", tls.keyFile + " does not match certificate " + tls.certFile);
    if (!tls.caFile.empty()) {
        if (layer->addTrustedCertificateFile(tls.caFile.c_str(), DCF_Filetype_PEM).bad())
            fail("tls.caFile", "cannot load CA certificates " + tls.caFile);
        layer->setCertificateVerification(DCV_requireCertificate);
    } else {
        layer->setCertificateVerification(DCV_ignoreCertificate);
    }
    return layer;
}

/// SO_RCVTIMEO / SO_SNDTIMEO in seconds (<= 0: none), as dcmnet sets them on its sockets.
void setSocketTimeouts(int fd, long receiveSeconds, long sendSeconds) {
    timeval receive{std::max(0L, receiveSeconds), 0}, send{std::max(0L, sendSeconds), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receive, sizeof receive);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send, sizeof send);
}

enum class RequestWait { Received, Idle, Stopped };

/// The association's next command into `presId`/`msg`, DIMSE's condition in `cond` (Received);
/// Idle after `idle` without a byte from the peer; Stopped when `stopFd` (the server's stop)
/// became readable first. One sleep in poll(2), no slices.
RequestWait receiveRequest(T_ASC_Association* assoc, int stopFd, std::chrono::seconds idle,
                           T_ASC_PresentationContextID& presId, T_DIMSE_Message& msg, OFCondition& cond) {
    DcmDataset* statusDetail = nullptr;
    PeerWait wait = awaitPeer(assoc, stopFd, 0);
    if (wait == PeerWait::Stopped) return RequestWait::Stopped;
    if (wait == PeerWait::TimedOut) {
        // Nothing on the socket, but DUL may hold a PDV already (a PDU that carried more than one
        // message): DIMSE looks without waiting.
        cond = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, 0, &presId, &msg, &statusDetail);
        delete statusDetail;
        if (cond != DIMSE_NODATAAVAILABLE) return RequestWait::Received;
        const auto idleMs = std::chrono::duration_cast<std::chrono::milliseconds>(idle).count();
        wait = awaitPeer(assoc, stopFd, static_cast<int>(std::clamp<long long>(idleMs, 0, INT_MAX)));
        if (wait == PeerWait::Stopped) return RequestWait::Stopped;
        if (wait == PeerWait::TimedOut) return RequestWait::Idle;
    }
    // The request's first bytes are there (acknowledged at once: a requester with Nagle on
    // stalls 40 ms per request otherwise); the rest of the message within DIMSE's second.
    statusDetail = nullptr;
    cond = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, 1, &presId, &msg, &statusDetail);
    delete statusDetail;
    return RequestWait::Received;
}

}  // namespace

DimseServer::DimseServer(DimseSettings settings, DimseDependencies dependencies, TlsSettings tls)
    : settings_(std::move(settings)), deps_(std::move(dependencies)),
      current_(std::make_shared<const DimseSettings>(settings_)), tls_(std::move(tls)) {}

void DimseServer::reload(const DimseSettings& fresh) {
    std::lock_guard lock(reloadMutex_);
    auto next = std::make_shared<DimseSettings>(*current_);
    next->peers = fresh.peers;
    next->allowedCallingAets = fresh.allowedCallingAets;
    next->checkCallerHost = fresh.checkCallerHost;
    current_ = std::move(next);
}

std::shared_ptr<const DimseSettings> DimseServer::currentSettings() const {
    std::lock_guard lock(reloadMutex_);
    return current_;
}

DimseServer::~DimseServer() { stop(); }

void DimseServer::start() {
    if (acceptThread_.joinable()) return;
    stop_ = std::make_unique<StopSignal>();  // a fresh one: a stopped server may start again
    registerDicomDecoders();
    // DUL reads dcmDisableGethostbyaddr: no reverse DNS per association (slow, useless here).
    dcmDisableGethostbyaddr.set(OFTrue);
    const int acseTimeout = static_cast<int>(settings_.acseTimeout.count());
    try {
        if (settings_.tlsPort) tlsLayer_ = makeTlsLayer(tls_);  // bad certificate: fail before listening
        if (settings_.plainEnabled) {
            listenFd_ = listenOn(settings_.bindAddress, settings_.port, port_, "dimse.port");
            network_ = externalNetwork(listenFd_, port_, acseTimeout);
        }
        if (settings_.tlsPort) {
            tlsListenFd_ = listenOn(settings_.bindAddress, *settings_.tlsPort, tlsPort_, "dimse.tlsPort");
            tlsNetwork_ = externalNetwork(tlsListenFd_, tlsPort_, acseTimeout);
            // dcmnet gets connections already negotiated on their own thread (TlsNegotiation.h).
            preparedLayer_ = std::make_unique<PreparedConnectionLayer>();
            OFCondition cond = ASC_setTransportLayer(tlsNetwork_, preparedLayer_.get(), 0);
            if (cond.bad()) throw BridgeError(ErrorCode::Internal, std::string("ASC_setTransportLayer: ") + cond.text());
        }
    } catch (...) {
        stop();
        throw;
    }
    wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd_ < 0) {
        stop();
        throw BridgeError(ErrorCode::Internal, std::string("eventfd: ") + std::strerror(errno));
    }
    acceptThread_ = std::thread(&DimseServer::acceptLoop, this);
}

void DimseServer::wakeAcceptLoop() {
    const std::uint64_t one = 1;
    if (wakeFd_ >= 0 && ::write(wakeFd_, &one, sizeof one) < 0) {
        // EAGAIN: the counter is already non-zero, the loop wakes anyway
    }
}

void DimseServer::stop() {
    if (stop_) stop_->request();  // wakes the accept loop and every association thread's wait
    if (acceptThread_.joinable()) acceptThread_.join();
    reapWorkers(true);
    if (wakeFd_ >= 0) ::close(wakeFd_);  // every association thread that could write it is joined
    wakeFd_ = -1;
    if (network_) ASC_dropNetwork(&network_);
    network_ = nullptr;
    if (tlsNetwork_) ASC_dropNetwork(&tlsNetwork_);
    tlsNetwork_ = nullptr;
    if (listenFd_ >= 0) ::close(listenFd_);
    listenFd_ = -1;
    if (tlsListenFd_ >= 0) ::close(tlsListenFd_);
    tlsListenFd_ = -1;
    tlsLayer_.reset();
    preparedLayer_.reset();
}

void DimseServer::reapWorkers(bool all) {
    std::lock_guard<std::mutex> lock(workersMutex_);
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (all || (*it)->done.load()) {
            if ((*it)->thread.joinable()) (*it)->thread.join();
            it = workers_.erase(it);
        } else {
            ++it;
        }
    }
}

void DimseServer::acceptLoop() {
    while (!stopRequested()) {
        reapWorkers(false);
        // fd -1 is ignored by poll; no timeout: finished associations write wakeFd_, stop() the
        // stop signal's descriptor.
        pollfd pfd[4] = {{listenFd_, POLLIN, 0}, {tlsListenFd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}, {stop_->fd(), POLLIN, 0}};
        int n = ::poll(pfd, 4, -1);
        if (n <= 0) continue;
        if (pfd[2].revents & POLLIN) {
            std::uint64_t value = 0;
            if (::read(wakeFd_, &value, sizeof value) < 0) {
                // EAGAIN: drained already
            }
        }
        for (int i = 0; i < 2 && !stopRequested(); ++i) {
            if (pfd[i].fd < 0 || !(pfd[i].revents & POLLIN)) continue;
            int client = ::accept4(pfd[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0) admit(client, i == 1);
        }
    }
}

void DimseServer::admit(int client, bool secure) {
    // Negotiation happens on the connection's own thread (never here), so one slow peer
    // cannot delay the others. Connections still negotiating are bounded separately: beyond
    // the bound nothing has been read yet that an A-ASSOCIATE-RJ could answer, so close.
    if (negotiating_.load() >= maxNegotiating()) {
        OFLOG_WARN(serverLogger, "closing connection: " << maxNegotiating() << " connections already negotiating");
        ::close(client);
        return;
    }
    // Room for a whole A-ASSOCIATE-RQ in the receive queue (awaitAssociateRequest peeks).
    int rcvbuf = static_cast<int>(2 * kMaxAssociateRequestBytes);
    ::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    ++negotiating_;
    auto worker = std::make_unique<Worker>();
    Worker* w = worker.get();
    try {
        // One log context id per association, from its first PDU to its end.
        w->thread = std::thread([this, client, secure, w, contextId = nextLogContextId('a')] {
            {
                LogScope scope(contextId);
                try {
                    negotiateAndServe(client, secure);
                } catch (...) {
                    OFLOG_ERROR(serverLogger, "unexpected exception in association thread");
                }
            }
            w->done = true;
            wakeAcceptLoop();  // to be reaped now, not at the next connection
        });
    } catch (const std::exception& e) {
        // No thread for it (resource exhaustion): nothing was read, so just close.
        --negotiating_;
        OFLOG_ERROR(serverLogger, "cannot start association thread: " << e.what());
        ::close(client);
        return;
    }
    std::lock_guard<std::mutex> lock(workersMutex_);
    workers_.push_back(std::move(worker));
}

std::string DimseServer::negotiateTls(int client, std::chrono::steady_clock::time_point deadline,
                                      PrereadConnection*& negotiated) {
    negotiated = nullptr;
    DcmTransportConnection* connection = tlsLayer_->createConnection(client, OFTrue);
    if (!connection) {
        ::close(client);
        return "cannot create a TLS connection";
    }
    // Per read: the ACSE timeout (set after createConnection, whose constructor set dcmnet's
    // 60 s defaults). In total: the watchdog shuts the socket down at the deadline (or at stop()),
    // which ends any blocked read or write of the handshake at once.
    const long acse = std::max<long>(1, static_cast<long>(settings_.acseTimeout.count()));
    setSocketTimeouts(client, acse, acse);
    std::mutex watchMutex;
    std::condition_variable_any watchWake;
    bool done = false;
    std::thread watchdog([&, stopToken = stop_->context().stopToken()] {
        // One wait: the negotiation's end, the deadline or the server's stop (its token).
        std::unique_lock lock(watchMutex);
        watchWake.wait_until(lock, stopToken, deadline, [&] { return done; });
        if (!done) ::shutdown(client, SHUT_RDWR);
    });
    std::string failure;
    std::vector<std::uint8_t> pdu;
    // SSL_accept on a blocking socket stops with WANT_READ/WRITE when a read or write is
    // interrupted (a signal: EINTR even with SA_RESTART, as the socket has timeouts) or times
    // out; calling it again resumes the handshake. The watchdog still bounds the total.
    OFCondition cond;
    do {
        cond = connection->serverSideHandshake();
    } while ((cond == DCMTLS_EC_TLSReadOperationDidNotComplete || cond == DCMTLS_EC_TLSWriteOperationDidNotComplete) &&
             !stopRequested() && std::chrono::steady_clock::now() < deadline);
    if (cond.bad()) {
        failure = std::string("TLS handshake failed: ") + cond.text();
    } else {
        const AssociateRequestWait read = readAssociateRequest(*connection, kMaxAssociateRequestBytes, deadline, pdu);
        if (read != AssociateRequestWait::Ready) failure = describe(read);
    }
    {
        std::lock_guard lock(watchMutex);
        done = true;
    }
    watchWake.notify_all();
    watchdog.join();
    if (failure.empty() && std::chrono::steady_clock::now() >= deadline)
        failure = "negotiation deadline passed";  // the watchdog may have shut the socket already
    else if (!failure.empty() && stopRequested())
        failure = describe(AssociateRequestWait::Stopped);
    else if (!failure.empty() && std::chrono::steady_clock::now() >= deadline)
        failure = "TLS handshake and A-ASSOCIATE-RQ not complete within the negotiation deadline (" + failure + ")";
    if (!failure.empty()) {
        delete connection;  // closes the socket
        return failure;
    }
    // Its constructor gives the socket dcmnet's usual timeouts back for the association.
    negotiated = new PrereadConnection(connection, client, std::move(pdu));
    return {};
}

void DimseServer::negotiateAndServe(int client, bool secure) {
    // One TOTAL deadline for the whole A-ASSOCIATE-RQ (dcmnet's own timeout is per read).
    const auto deadline = std::chrono::steady_clock::now() + settings_.acseTimeout;
    if (!secure) {
        const AssociateRequestWait wait =
            awaitAssociateRequest(client, deadline, kMaxAssociateRequestBytes, stop_->fd());
        if (wait != AssociateRequestWait::Ready) {
            --negotiating_;
            OFLOG_INFO(serverLogger, "dropping connection: " << describe(wait));
            ::close(client);
            return;
        }
    }
    // TLS: the handshake and the request are encrypted, so nothing can be peeked. They are read
    // here, on this thread and outside the mutex (TlsNegotiation.h), on a blocking socket bounded
    // per read by socket timeouts and in total by a watchdog that shuts the socket down at the
    // deadline; dcmnet then parses the bytes already read.
    PrereadConnection* negotiated = nullptr;
    if (secure) {
        const std::string failure = negotiateTls(client, deadline, negotiated);
        if (!negotiated) {
            --negotiating_;
            OFLOG_INFO(serverLogger, "dropping TLS connection: " << failure);
            return;  // the connection (and its socket) is closed already
        }
    }
    T_ASC_Association* assoc = nullptr;
    OFCondition cond;
    {
        // Both kinds have the whole A-ASSOCIATE-RQ at hand: dcmnet reads it without waiting, so
        // the mutex is held briefly.
        std::lock_guard<std::mutex> lock(externalSocketMutex());
        if (secure) preparedLayer_->offer(negotiated);
        dcmExternalSocketHandle.set(client);
        cond = ASC_receiveAssociation(secure ? tlsNetwork_ : network_, &assoc, settings_.maxPdu, nullptr, nullptr,
                                      secure ? OFTrue : OFFalse, DUL_NOBLOCK,
                                      static_cast<int>(settings_.acseTimeout.count()));
        dcmExternalSocketHandle.set(-1);
        // dcmnet failed before taking it (e.g. getpeername on a reset socket): close it here.
        if (secure) delete preparedLayer_->takeBack();
    }
    --negotiating_;
    if (cond.bad()) {
        OFLOG_INFO(serverLogger, (secure ? "TLS " : "") << "association receive failed: " << cond.text());
        // Without a DUL association (e.g. getpeername failed: the peer reset the connection)
        // dcmnet never took the plain socket: close it here (TLS: takeBack() above did).
        const bool dulOwnsSocket = assoc && assoc->DULassociation;
        if (assoc) {
            ASC_dropAssociation(assoc);
            ASC_destroyAssociation(&assoc);
        }
        if (!dulOwnsSocket && !secure) ::close(client);
        return;
    }
    if (active_.fetch_add(1) >= settings_.maxAssociations) {
        --active_;
        OFLOG_WARN(serverLogger, "rejecting association: " << settings_.maxAssociations << " already active");
        metrics().add("tcia_bridge_dimse_associations_total", {"rejected-limit"});
        reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
               ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
        return;
    }
    metrics().add("tcia_bridge_dimse_associations_active", {}, 1);
    struct ActiveGuard {
        std::atomic<int>& active;
        ~ActiveGuard() {
            metrics().add("tcia_bridge_dimse_associations_active", {}, -1);
            --active;
        }
    } guard{active_};
    serve(assoc);
}

void DimseServer::serve(T_ASC_Association* assoc) {
    char callingAet[65] = {0}, calledAet[65] = {0};
    ASC_getAPTitles(assoc->params, callingAet, sizeof callingAet, calledAet, sizeof calledAet, nullptr, 0);
    char peer[130] = {0}, local[130] = {0};
    ASC_getPresentationAddresses(assoc->params, peer, sizeof peer, local, sizeof local);
    AssociationInfo info{trimmed(callingAet), trimmed(calledAet), trimmed(peer)};
    std::string peerHost = info.peerAddress.substr(0, info.peerAddress.find(':'));

    std::shared_ptr<const DimseSettings> snapshot = currentSettings();
    switch (decideAssociation(*snapshot, deps_.isKnownCalledAet, info.callingAet, info.calledAet, peerHost)) {
        case AssociationDecision::Accept:
            break;
        case AssociationDecision::CalledAeNotRecognized:
            OFLOG_WARN(serverLogger,
                       "rejecting " << info.callingAet << ": called AE '" << info.calledAet << "' unknown");
            reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                   ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
            metrics().add("tcia_bridge_dimse_associations_total", {"rejected-called-ae"});
            return;
        case AssociationDecision::CallingAeNotRecognized:
        case AssociationDecision::CallingHostNotAllowed:
            OFLOG_WARN(serverLogger, "rejecting calling AE '" << info.callingAet << "' from " << peerHost);
            reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                   ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
            metrics().add("tcia_bridge_dimse_associations_total", {"rejected-calling-ae"});
            return;
    }
    OFCondition cond = acceptPresentationContexts(assoc->params);
    if (cond.good()) {
        // The responding AE title is the one called (a collection AE answers as itself).
        ASC_setAPTitles(assoc->params, nullptr, nullptr, info.calledAet.c_str());
        cond = ASC_acknowledgeAssociation(assoc);
    }
    if (cond.bad()) {
        OFLOG_WARN(serverLogger, "cannot acknowledge association: " << cond.text());
        ASC_dropAssociation(assoc);
        ASC_destroyAssociation(&assoc);
        return;
    }
    metrics().add("tcia_bridge_dimse_associations_total", {"accepted"});
    OFLOG_DEBUG(serverLogger,
                "association from " << info.callingAet << " (" << peerHost << ") to " << info.calledAet);

    bool aborted = false;
    for (;;) {
        T_ASC_PresentationContextID presId = 0;
        T_DIMSE_Message msg;
        const RequestWait wait = receiveRequest(assoc, stop_->fd(), settings_.networkTimeout, presId, msg, cond);
        if (wait == RequestWait::Stopped) {
            // Shutdown: close the transport without A-ABORT. DUL_AbortAssociation waits for the
            // peer to close (ARTIM, ~30 s) and would stall stop() on an unresponsive peer; a
            // closed connection is an A-P-ABORT for the peer (PS3.8 9.1.8).
            aborted = true;
            break;
        }
        if (wait == RequestWait::Idle) {
            OFLOG_INFO(serverLogger, "aborting idle association from " << info.callingAet);
            ASC_abortAssociation(assoc);
            aborted = true;
            break;
        }
        if (cond == DUL_PEERREQUESTEDRELEASE) {
            ASC_acknowledgeRelease(assoc);
            break;
        }
        if (cond == DUL_PEERABORTEDASSOCIATION) {
            aborted = true;
            break;
        }
        if (cond.bad()) {
            OFLOG_INFO(serverLogger, "association from " << info.callingAet << " ended: " << cond.text());
            ASC_abortAssociation(assoc);
            aborted = true;
            break;
        }
        // Each command sees the settings in force when it arrives (SIGHUP reloads peers).
        snapshot = currentSettings();
        switch (msg.CommandField) {
            case DIMSE_C_ECHO_RQ: {
                Stopwatch watch;
                cond = DIMSE_sendEchoResponse(assoc, presId, &msg.msg.CEchoRQ, STATUS_Success, nullptr);
                observeOperation("C-ECHO", STATUS_Success, watch.seconds());
                break;
            }
            case DIMSE_C_FIND_RQ:
                cond = handleFind(assoc, presId, msg.msg.CFindRQ, info, *snapshot, deps_, stop_->context());
                break;
            case DIMSE_C_MOVE_RQ:
                cond = handleMove(assoc, presId, msg.msg.CMoveRQ, info, *snapshot, deps_, stop_->context());
                break;
            case DIMSE_C_GET_RQ:
                cond = handleGet(assoc, presId, msg.msg.CGetRQ, info, *snapshot, deps_, stop_->context());
                break;
            case DIMSE_C_CANCEL_RQ:
                // A C-CANCEL after the final response (Weasis sends one after every response): ignore.
                cond = EC_Normal;
                break;
            default:
                OFLOG_WARN(serverLogger,
                           "unsupported DIMSE command 0x" << std::hex << msg.CommandField << "; aborting");
                cond = DIMSE_BADCOMMANDTYPE;
                break;
        }
        if (cond.bad()) {
            OFLOG_INFO(serverLogger, "aborting association from " << info.callingAet << ": " << cond.text());
            ASC_abortAssociation(assoc);
            aborted = true;
            break;
        }
    }
    // After a release the peer closes the transport; after an abort there is nothing to wait for.
    if (aborted)
        ASC_dropAssociation(assoc);
    else
        ASC_dropSCPAssociation(assoc, 5);
    ASC_destroyAssociation(&assoc);
}

}  // namespace bridge::dimse
