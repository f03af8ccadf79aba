#include "dimse/DimseServer.h"

#include <arpa/inet.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/oflog/oflog.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bridge/common/Error.h"
#include "bridge/common/Logging.h"
#include "bridge/common/MetricsRegistry.h"
#include "bridge/common/Text.h"
#include "dimse/AssociateRequestWait.h"
#include "dimse/AssociationPolicy.h"
#include "dimse/CStoreSender.h"
#include "dimse/DimseObservation.h"
#include "dimse/FindScp.h"
#include "dimse/GetScp.h"
#include "dimse/MoveScp.h"

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

}  // namespace

DimseServer::DimseServer(DimseSettings settings, DimseDependencies dependencies)
    : settings_(std::move(settings)), deps_(std::move(dependencies)),
      current_(std::make_shared<const DimseSettings>(settings_)) {}

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
    registerDecoders();
    // DUL reads dcmDisableGethostbyaddr: no reverse DNS per association (slow, useless here).
    dcmDisableGethostbyaddr.set(OFTrue);

    listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listenFd_ < 0) throw BridgeError(ErrorCode::Internal, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(settings_.port);
    if (::inet_pton(AF_INET, settings_.bindAddress.c_str(), &addr.sin_addr) != 1) {
        ::close(listenFd_);
        listenFd_ = -1;
        throw BridgeError(ErrorCode::InvalidArgument,
                          "dimse.bindAddress is not an IPv4 address: " + settings_.bindAddress);
    }
    if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listenFd_, 64) != 0) {
        std::string err = std::strerror(errno);
        ::close(listenFd_);
        listenFd_ = -1;
        throw BridgeError(ErrorCode::Internal, "cannot listen on " + settings_.bindAddress + ":" +
                                                   std::to_string(settings_.port) + ": " + err);
    }
    socklen_t len = sizeof addr;
    ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);

    {
        std::lock_guard<std::mutex> lock(externalSocketMutex());
        // With an external handle set, initializeNetworkTCP() creates no INADDR_ANY listener.
        dcmExternalSocketHandle.set(listenFd_);
        OFCondition cond = ASC_initializeNetwork(NET_ACCEPTOR, port_,
                                                 static_cast<int>(settings_.acseTimeout.count()), &network_);
        dcmExternalSocketHandle.set(-1);
        if (cond.bad()) {
            ::close(listenFd_);
            listenFd_ = -1;
            throw BridgeError(ErrorCode::Internal, std::string("ASC_initializeNetwork: ") + cond.text());
        }
    }
    stopping_ = false;
    acceptThread_ = std::thread(&DimseServer::acceptLoop, this);
}

void DimseServer::stop() {
    if (!acceptThread_.joinable()) return;
    stopping_ = true;
    acceptThread_.join();
    reapWorkers(true);
    if (network_) ASC_dropNetwork(&network_);
    network_ = nullptr;
    if (listenFd_ >= 0) ::close(listenFd_);
    listenFd_ = -1;
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
    while (!stopping_) {
        reapWorkers(false);
        pollfd pfd{listenFd_, POLLIN, 0};
        int n = ::poll(&pfd, 1, 200);
        if (n <= 0 || !(pfd.revents & POLLIN)) continue;
        int client = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        // Negotiation happens on the connection's own thread (never here), so one slow peer
        // cannot delay the others. Connections still negotiating are bounded separately: beyond
        // the bound nothing has been read yet that an A-ASSOCIATE-RJ could answer, so close.
        if (negotiating_.load() >= maxNegotiating()) {
            OFLOG_WARN(serverLogger, "closing connection: " << maxNegotiating()
                                                            << " connections already negotiating");
            ::close(client);
            continue;
        }
        // Room for a whole A-ASSOCIATE-RQ in the receive queue (awaitAssociateRequest peeks).
        int rcvbuf = static_cast<int>(2 * kMaxAssociateRequestBytes);
        ::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        ++negotiating_;
        auto worker = std::make_unique<Worker>();
        Worker* w = worker.get();
        try {
            // One log context id per association, from its first PDU to its end.
            w->thread = std::thread([this, client, w, contextId = nextLogContextId('a')] {
                {
                    LogScope scope(contextId);
                    try {
                        negotiateAndServe(client);
                    } catch (...) {
                        OFLOG_ERROR(serverLogger, "unexpected exception in association thread");
                    }
                }
                w->done = true;
            });
        } catch (const std::exception& e) {
            // No thread for it (resource exhaustion): nothing was read, so just close.
            --negotiating_;
            OFLOG_ERROR(serverLogger, "cannot start association thread: " << e.what());
            ::close(client);
            continue;
        }
        std::lock_guard<std::mutex> lock(workersMutex_);
        workers_.push_back(std::move(worker));
    }
}

void DimseServer::negotiateAndServe(int client) {
    // One TOTAL deadline for the whole A-ASSOCIATE-RQ (dcmnet's own timeout is per read).
    const auto deadline = std::chrono::steady_clock::now() + settings_.acseTimeout;
    const AssociateRequestWait wait = awaitAssociateRequest(client, deadline, kMaxAssociateRequestBytes, stopping_);
    if (wait != AssociateRequestWait::Ready) {
        --negotiating_;
        OFLOG_INFO(serverLogger, "dropping connection: " << describe(wait));
        ::close(client);
        return;
    }
    T_ASC_Association* assoc = nullptr;
    OFCondition cond;
    {
        // The PDU is buffered: dcmnet reads it without waiting, so the mutex is held briefly.
        std::lock_guard<std::mutex> lock(externalSocketMutex());
        dcmExternalSocketHandle.set(client);
        cond = ASC_receiveAssociation(network_, &assoc, settings_.maxPdu, nullptr, nullptr, OFFalse, DUL_NOBLOCK,
                                      static_cast<int>(settings_.acseTimeout.count()));
        dcmExternalSocketHandle.set(-1);
    }
    --negotiating_;
    if (cond.bad()) {
        OFLOG_INFO(serverLogger, "association receive failed: " << cond.text());
        if (assoc) {
            ASC_dropAssociation(assoc);
            ASC_destroyAssociation(&assoc);
        } else {
            ::close(client);
        }
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

    long idleSeconds = 0;
    bool aborted = false;
    for (;;) {
        if (stopping_) {
            // Shutdown: close the transport without A-ABORT. DUL_AbortAssociation waits for the
            // peer to close (ARTIM, ~30 s) and would stall stop() on an unresponsive peer; a
            // closed connection is an A-P-ABORT for the peer (PS3.8 9.1.8).
            aborted = true;
            break;
        }
        T_ASC_PresentationContextID presId = 0;
        T_DIMSE_Message msg;
        DcmDataset* statusDetail = nullptr;
        cond = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, 1, &presId, &msg, &statusDetail);
        delete statusDetail;
        if (cond == DIMSE_NODATAAVAILABLE) {
            if (++idleSeconds >= settings_.networkTimeout.count()) {
                OFLOG_INFO(serverLogger, "aborting idle association from " << info.callingAet);
                ASC_abortAssociation(assoc);
                aborted = true;
                break;
            }
            continue;
        }
        idleSeconds = 0;
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
                cond = handleFind(assoc, presId, msg.msg.CFindRQ, info, *snapshot, deps_);
                break;
            case DIMSE_C_MOVE_RQ:
                cond = handleMove(assoc, presId, msg.msg.CMoveRQ, info, *snapshot, deps_, stopping_);
                break;
            case DIMSE_C_GET_RQ:
                cond = handleGet(assoc, presId, msg.msg.CGetRQ, info, *snapshot, deps_, stopping_);
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
