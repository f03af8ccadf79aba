#include "web/DicomWebServer.h"

#include "bridge/catalog/Catalog.h"
#include "bridge/common/Error.h"
#include "bridge/idc/IdcClient.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/Metrics.h"
#include "web/ClientConnectionGuard.h"
#include "web/ErrorJson.h"
#include "web/HttpAuthenticator.h"
#include "bridge/retrieve/InstanceCache.h"
#include "web/LandingPage.h"
#include "web/Readiness.h"
#include "web/WebExchange.h"
#include "web/WebRequestHandler.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <sstream>

namespace bridge::web {
namespace {

/// Tells the guard when a request's header has been parsed and when its response is done.
class GuardedHandler : public Poco::Net::HTTPRequestHandler {
public:
    GuardedHandler(WebContext& context, LandingPage& landing, ClientConnectionGuard& guard, Poco::Net::SocketAddress peer)
        : inner_(context, landing), guard_(guard), peer_(std::move(peer)) {
        guard_.requestStarted(peer_);
        inner_.setHangUpWatch([this](std::function<void()> cancel) { guard_.watchHangUp(peer_, std::move(cancel)); });
    }
    ~GuardedHandler() override { guard_.requestFinished(peer_); }
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        inner_.handleRequest(request, response);
    }

private:
    WebRequestHandler inner_;
    ClientConnectionGuard& guard_;
    Poco::Net::SocketAddress peer_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    HandlerFactory(WebContext& context, LandingPage& landing, ClientConnectionGuard& guard)
        : context_(context), landing_(landing), guard_(guard) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override {
        return new GuardedHandler(context_, landing_, guard_, request.clientAddress());
    }
    /// What Poco's HTTPServer::stopAll(true) does: every open connection stops at once.
    void abortConnections() { serverStopped(this, true); }

private:
    WebContext& context_;
    LandingPage& landing_;
    ClientConnectionGuard& guard_;
};

/// Poco's HTTP connection, admitted by the guard first (per-client cap, header deadline).
class GuardedConnection : public Poco::Net::HTTPServerConnection {
public:
    GuardedConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                      Poco::Net::HTTPRequestHandlerFactory::Ptr factory, ClientConnectionGuard& guard, const WebSettings& settings)
        : HTTPServerConnection(socket, params, factory), guard_(guard), settings_(settings) {}

    void run() override {
        auto lease = guard_.admit(socket());
        if (!lease) return refuse();
        HTTPServerConnection::run();
    }

private:
    /// 503 JSON (the error table's "overloaded") without reading the request, then close.
    void refuse() {
        const auto& m = errorMapping(ErrorCode::Overloaded);
        const std::string body = errorJson(ErrorCode::Overloaded, "too many connections from this client (at most " +
                                                                      std::to_string(settings_.maxConnectionsPerClient) + ")");
        Poco::Net::HTTPResponse head(Poco::Net::HTTPMessage::HTTP_1_1, static_cast<Poco::Net::HTTPResponse::HTTPStatus>(m.httpStatus));
        head.setContentType("application/json");
        head.set("Access-Control-Allow-Origin", settings_.allowedOrigin);
        head.set("Retry-After", "1");
        head.setKeepAlive(false);
        head.setContentLength(static_cast<std::streamsize>(body.size()));
        std::ostringstream out;
        head.write(out);
        out << body;
        const std::string response = out.str();
        try {
            socket().setSendTimeout(Poco::Timespan(1, 0));
            socket().sendBytes(response.data(), static_cast<int>(response.size()));
            socket().shutdownSend();
        } catch (const Poco::Exception&) {
            // The client is gone: nothing to tell it.
        }
    }

    ClientConnectionGuard& guard_;
    const WebSettings& settings_;
};

class GuardedConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
public:
    GuardedConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                             ClientConnectionGuard& guard, const WebSettings& settings)
        : params_(std::move(params)), factory_(std::move(factory)), guard_(guard), settings_(settings) {}
    Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
        return new GuardedConnection(socket, params_, factory_, guard_, settings_);
    }

private:
    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
    ClientConnectionGuard& guard_;
    const WebSettings& settings_;
};

ScopeResolver scopeFrom(AccessPolicy* policy) {
    if (policy == nullptr) return {};
    return [policy](const HttpPrincipal& caller, const RequestContext& context) {
        return policy->forPrincipal(caller, context);
    };
}

// BCP 195 (RFC 7525 4.2) TLS 1.2 suites, the same set as DCMTK's TSP_Profile_BCP195 for DICOM;
// TLS 1.3 keeps OpenSSL's (all AEAD) suites.
const char* const kBcp195Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

/// The server TLS context: certificate + key; with a CA file, client certificates required.
Poco::Net::Context::Ptr serverContext(const TlsSettings& tls) {
    Poco::Net::initializeSSL();
    Poco::Net::Context::Params params;
    params.privateKeyFile = tls.keyFile;
    params.certificateFile = tls.certFile;
    params.caLocation = tls.caFile;
    params.verificationMode = tls.caFile.empty() ? Poco::Net::Context::VERIFY_NONE : Poco::Net::Context::VERIFY_STRICT;
    params.loadDefaultCAs = false;
    params.cipherList = kBcp195Ciphers;
    params.dhUse2048Bits = true;
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    context->preferServerCiphers();
    // Poco's "extended verification" would match the CLIENT certificate's names against the
    // client's address (a client certificate names a person or an AE, not a host): chain
    // verification against tls.caFile is what is wanted.
    context->enableExtendedCertificateVerification(false);
    // Required by OpenSSL for session resumption when client certificates are verified.
    context->enableSessionCache(true, "tcia-bridge");
    return context;
}

}  // namespace

DicomWebServer::DicomWebServer(BridgeServices& services)
    : DicomWebServer(*services.query, *services.retrieve, scopeFrom(services.access.get()), services.metadata.get(),
                     services.config.web, services.config.tls) {
    context_->audit = services.audit.get();
    context_->source = services.config.source;
    BridgeServices* s = &services;
    context_->extraMetrics = [s, this] {
        std::string text = collectMetrics(*s).toPrometheusText();
        text += "# HELP tcia_bridge_http_connections_active HTTP connections being served now\n"
                "# TYPE tcia_bridge_http_connections_active gauge\ntcia_bridge_http_connections_active " +
                std::to_string(currentConnections()) + "\n";
        return text;
    };
    readiness_ = std::make_unique<ReadinessProbe>(
        [s]() -> std::string {
            if (!s->metadata) return "no catalog";
            try {
                (void)s->metadata->generation();
            } catch (const std::exception& e) {
                return std::string("catalog not usable: ") + e.what();
            }
            return {};
        },
        [s] { (void)s->tcia->collections(RequestContext("ready")); });
    context_->readiness = [probe = readiness_.get()] { return probe->check(); };
    if (services.config.auth.enabled)
        context_->auth = std::make_shared<HttpAuthenticator>(services.config.auth, services.config.access);
    // The services outlive this server (composition root); so does their harvester, when set.
    context_->status = [&services] {
        StatusSnapshot s;
        if (services.harvester) s.harvest = services.harvester->status();
        if (auto* catalog = dynamic_cast<Catalog*>(services.metadata.get())) {
            s.collections = catalog->harvestStates();
            s.now = catalog->nowSeconds();
        }
        if (services.instanceCache) s.cache = services.instanceCache->stats();
        const auto& d = services.config.dimse;
        s.dimseEnabled = d.enabled;
        s.aeTitle = d.aeTitle;
        s.dimseHost = d.bindAddress;
        s.dimsePort = services.dimsePort ? services.dimsePort : d.port;
        if (!d.peers.empty()) s.moveDestinationExample = d.peers.begin()->first;
        s.source = services.config.source;
        if (auto* idc = dynamic_cast<idc::IdcClient*>(services.tcia.get())) s.idcVersion = idc->pinnedVersion();
        return s;
    };
}

DicomWebServer::DicomWebServer(QueryService& query, RetrieveService& retrieve, AccessPolicy* access, MetadataSource* metadata,
                               WebSettings settings, TlsSettings tls)
    : DicomWebServer(query, retrieve, scopeFrom(access), metadata, std::move(settings), std::move(tls)) {}

DicomWebServer::DicomWebServer(QueryService& query, RetrieveService& retrieve, ScopeResolver scope, MetadataSource* metadata,
                               WebSettings settings, TlsSettings tls)
    : context_(std::make_unique<WebContext>(query, retrieve, std::move(scope), metadata, std::move(settings))),
      landing_(std::make_unique<LandingPage>()), tls_(std::move(tls)) {}

DicomWebServer::~DicomWebServer() { stop(); }

void DicomWebServer::start() {
    if (server_ || httpsServer_) return;
    const auto& s = context_->settings;
    // TLS first: a bad certificate or key fails start() before anything listens.
    Poco::Net::Context::Ptr tlsContext;
    if (s.httpsPort) {
        try {
            tlsContext = serverContext(tls_);
        } catch (const Poco::Exception& e) {
            throw BridgeError(ErrorCode::InvalidArgument, "tls: cannot use certificate " + tls_.certFile + " / key " +
                                                              tls_.keyFile + ": " + e.displayText());
        }
    }
    // One reference-counted params object shared by both listeners and every connection.
    Poco::Net::HTTPServerParams::Ptr params(new Poco::Net::HTTPServerParams);
    // Threads: the working requests plus the waiting ones (they hold a thread while queued in
    // the RequestGate) plus two to answer 503 promptly. Keep-alive connections hold a thread.
    const int threads = std::max(1, s.maxThreads) + std::max(0, s.maxQueued) + 2;
    params->setMaxThreads(threads);
    params->setMaxQueued(std::max(16, s.maxQueued));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(10, 0));
    params->setMaxKeepAliveRequests(1000);
    params->setTimeout(Poco::Timespan(60, 0));
    params->setServerName("tcia-bridge");
    // Poco's timeout above is per read; the guard bounds a whole header and the connections
    // per client (issue 9 finding 3), on both listeners together.
    ClientConnectionGuard::Limits limits;
    limits.maxPerClient = s.maxConnectionsPerClient;
    limits.headerTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(s.headerTimeout);
    limits.keepAliveIdle = std::chrono::milliseconds(10'000);
    guard_ = std::make_unique<ClientConnectionGuard>(limits);
    handlers_ = new HandlerFactory(*context_, *landing_, *guard_);
    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers(handlers_);
    auto listen = [&](Poco::Net::ServerSocket& socket, std::uint16_t port) {
        try {
            socket.bind(Poco::Net::SocketAddress(s.bindAddress, port), true);
            socket.listen(128);
        } catch (const Poco::Exception& e) {
            stop();
            throw BridgeError(ErrorCode::Internal,
                              "cannot listen on " + s.bindAddress + ":" + std::to_string(port) + ": " + e.displayText());
        }
        return socket.address().port();
    };
    auto serve = [&](Poco::Net::ServerSocket& socket, std::unique_ptr<Poco::ThreadPool>& pool,
                     std::unique_ptr<Poco::Net::TCPServer>& server) {
        pool = std::make_unique<Poco::ThreadPool>(2, threads, 60);
        std::lock_guard lock(serverMutex_);
        server = std::make_unique<Poco::Net::TCPServer>(
            new GuardedConnectionFactory(params, handlers, *guard_, context_->settings), *pool, socket,
            Poco::Net::TCPServerParams::Ptr(params.get(), true));
        server->start();
    };
    if (s.plainEnabled) {
        Poco::Net::ServerSocket socket;
        port_ = listen(socket, s.port);
        serve(socket, threadPool_, server_);
    }
    if (s.httpsPort) {
        // The TLS handshake runs lazily on the connection's pool thread (Poco SecureSocketImpl
        // acceptSSL), under the same guard and socket timeout, never on the accept thread.
        Poco::Net::SecureServerSocket socket(tlsContext);
        httpsPort_ = listen(socket, *s.httpsPort);
        serve(socket, httpsThreadPool_, httpsServer_);
    }
}

void DicomWebServer::stop() {
    if (!server_ && !httpsServer_) return;
    for (auto* server : {server_.get(), httpsServer_.get()})
        if (server) server->stop();
    // What Poco's HTTPServer::stopAll(true) does: every open connection stops at once.
    if (handlers_) static_cast<HandlerFactory*>(handlers_)->abortConnections();
    // Handlers may still run (a /metrics scrape among them): everything they touch -- context_,
    // landing_, readiness_ -- is destroyed only after these joins, in ~DicomWebServer.
    for (auto* pool : {threadPool_.get(), httpsThreadPool_.get()})
        if (pool) pool->joinAll();
    {
        std::lock_guard lock(serverMutex_);
        server_.reset();
        httpsServer_.reset();
    }
    threadPool_.reset();
    httpsThreadPool_.reset();
    handlers_ = nullptr;
    std::lock_guard lock(serverMutex_);
    guard_.reset();
}

int DicomWebServer::currentConnections() const {
    std::lock_guard lock(serverMutex_);
    return (server_ ? server_->currentConnections() : 0) + (httpsServer_ ? httpsServer_->currentConnections() : 0);
}

int DicomWebServer::admittedConnections() const {
    std::lock_guard lock(serverMutex_);
    return guard_ ? guard_->connections() : 0;
}

std::uint16_t DicomWebServer::port() const { return port_; }

}  // namespace bridge::web
