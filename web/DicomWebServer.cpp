#include "web/DicomWebServer.h"

#include "bridge/common/Error.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/Metrics.h"
#include "web/HttpAuthenticator.h"
#include "web/LandingPage.h"
#include "web/Readiness.h"
#include "web/WebRequestHandler.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>


namespace bridge::web {
namespace {

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    HandlerFactory(WebContext& context, LandingPage& landing) : context_(context), landing_(landing) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new WebRequestHandler(context_, landing_);
    }

private:
    WebContext& context_;
    LandingPage& landing_;
};

ScopeResolver scopeFrom(AccessPolicy* policy) {
    if (policy == nullptr) return {};
    return [policy](const HttpPrincipal& caller) { return policy->forPrincipal(caller); };
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
        [s] { (void)s->tcia->collections(); });
    context_->readiness = [probe = readiness_.get()] { return probe->check(); };
    if (services.config.auth.enabled)
        context_->auth = std::make_shared<HttpAuthenticator>(services.config.auth, services.config.access);
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
    auto* params = new Poco::Net::HTTPServerParams;
    Poco::Net::HTTPServerParams::Ptr sharedParams(params);  // one set of limits for both listeners
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
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory = new HandlerFactory(*context_, *landing_);
    if (s.plainEnabled) {
        Poco::Net::ServerSocket socket;
        try {
            socket.bind(Poco::Net::SocketAddress(s.bindAddress, s.port), true);
            socket.listen(128);
        } catch (const Poco::Exception& e) {
            throw BridgeError(ErrorCode::Internal, "cannot listen on " + s.bindAddress + ":" + std::to_string(s.port) + ": " + e.displayText());
        }
        port_ = socket.address().port();
        threadPool_ = std::make_unique<Poco::ThreadPool>(2, threads, 60);
        std::lock_guard lock(serverMutex_);
        server_ = std::make_unique<Poco::Net::HTTPServer>(factory, *threadPool_, socket, sharedParams);
        server_->start();
    }
    if (s.httpsPort) {
        // The TLS handshake runs lazily on the connection's pool thread (Poco SecureSocketImpl
        // acceptSSL), bounded by the same socket timeout, never on the accept thread.
        Poco::Net::SecureServerSocket socket(tlsContext);
        try {
            socket.bind(Poco::Net::SocketAddress(s.bindAddress, *s.httpsPort), true);
            socket.listen(128);
        } catch (const Poco::Exception& e) {
            stop();
            throw BridgeError(ErrorCode::Internal, "cannot listen on " + s.bindAddress + ":" + std::to_string(*s.httpsPort) + ": " + e.displayText());
        }
        httpsPort_ = socket.address().port();
        httpsThreadPool_ = std::make_unique<Poco::ThreadPool>(2, threads, 60);
        std::lock_guard lock(serverMutex_);
        httpsServer_ = std::make_unique<Poco::Net::HTTPServer>(factory, *httpsThreadPool_, socket, sharedParams);
        httpsServer_->start();
    }
}

void DicomWebServer::stop() {
    // Handlers may still run (a /metrics scrape among them): everything they touch -- context_,
    // landing_, readiness_ -- is destroyed only after these joins, in ~DicomWebServer.
    auto stopOne = [this](std::unique_ptr<Poco::Net::HTTPServer>& server, std::unique_ptr<Poco::ThreadPool>& pool) {
        if (!server) return;
        server->stopAll(true);
        {
            std::lock_guard lock(serverMutex_);
            server.reset();
        }
        pool->joinAll();
        pool.reset();
    };
    stopOne(server_, threadPool_);
    stopOne(httpsServer_, httpsThreadPool_);
}

int DicomWebServer::currentConnections() const {
    std::lock_guard lock(serverMutex_);
    return (server_ ? server_->currentConnections() : 0) + (httpsServer_ ? httpsServer_->currentConnections() : 0);
}

std::uint16_t DicomWebServer::port() const { return port_; }

}  // namespace bridge::web
