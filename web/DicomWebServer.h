#pragma once
// The DICOMweb front end: a Poco HTTPServer on WebSettings::bindAddress serving
//   /dicom-web/...   QIDO-RS, WADO-RS (instances, metadata, frames, bulkdata, rendered, thumbnail)
//   /wado            WADO-URI (also /dicom-web/wado)
//   /                landing page (HTML), /collections (JSON twin), /health (JSON, alive)
//   /ready           200 when the catalog is open and TCIA answered recently, else 503 JSON
//   /metrics         Prometheus text format (bridge/common/MetricsRegistry.h + core statistics)
// STOW-RS and other writes answer 405 JSON (read-only bridge).
//
// Threads and overload: Poco serves each connection (keep-alive) on a pool thread; a
// RequestGate lets WebSettings::maxThreads requests work at once and WebSettings::maxQueued
// wait; any request beyond gets 503 JSON {"error":"overloaded"} at once. Connections beyond
// the pool's capacity wait in Poco's accept queue. A ClientConnectionGuard admits each
// connection first: at most WebSettings::maxConnectionsPerClient per client address (503 JSON
// and close beyond), and WebSettings::headerTimeout in total for each request header (then
// the connection is dropped), so trickling clients cannot hold the pool (issue 9 finding 3).
//
// Listeners: plain HTTP on settings.port unless settings.plainEnabled is false; HTTPS on
// settings.httpsPort when set (Poco NetSSL SecureServerSocket, TLS 1.2+, BCP 195 cipher suites,
// certificate and key from TlsSettings; with tls.caFile a client certificate is required and
// verified). Both listeners serve the same routes with the same handler, gate and caches.
// Authentication: with services.config.auth.enabled an HttpAuthenticator guards every route but
// auth.publicPaths and preflight (docs/security.md).
//
// Lifetime: the services passed in must outlive the server. start()/stop() from one thread.

#include "web/WebContext.h"

#include <memory>
#include <mutex>

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPRequestHandlerFactory;
class TCPServer;
}
}  // namespace Poco

namespace bridge {
struct BridgeServices;
class AccessPolicy;
}

namespace bridge::web {

class ClientConnectionGuard;
class LandingPage;
class ReadinessProbe;

class DicomWebServer {
public:
    /// Production: the core's services; scope from AccessPolicy::forHttp (bearer token),
    /// settings from services.config.web.
    explicit DicomWebServer(BridgeServices& services);
    /// Lower level (tests): explicit pieces. `scope` may be empty (everyone sees everything
    /// the core shows); `metadata` may be null (landing page without collections).
    DicomWebServer(QueryService& query, RetrieveService& retrieve, ScopeResolver scope, MetadataSource* metadata,
                   WebSettings settings, TlsSettings tls = {});
    /// Same, with the scope from `access->forHttp(bearerToken)`; `access` may be null (no
    /// restrictions) and must outlive the server.
    DicomWebServer(QueryService& query, RetrieveService& retrieve, AccessPolicy* access, MetadataSource* metadata,
                   WebSettings settings, TlsSettings tls = {});
    ~DicomWebServer();
    DicomWebServer(const DicomWebServer&) = delete;
    DicomWebServer& operator=(const DicomWebServer&) = delete;

    /// Binds and starts serving; returns at once. Throws BridgeError(Internal) when the port
    /// cannot be bound.
    void start();
    /// Stops accepting, waits for running requests to end (bounded by Poco's stop). Idempotent.
    void stop();
    /// The bound port (the ephemeral one when settings.port was 0). 0 before start() or when
    /// the plain listener is off.
    std::uint16_t port() const;
    /// The bound HTTPS port; 0 before start() or without settings.httpsPort.
    std::uint16_t httpsPort() const { return httpsPort_; }
    /// Turns on HTTP authentication (before start()); null turns it off.
    void setAuthenticator(std::shared_ptr<const HttpAuthenticator> auth) { context_->auth = std::move(auth); }

    WebContext& context() { return *context_; }
    /// Gauge: TCP connections Poco serves now (0 when stopped). Thread-safe.
    int currentConnections() const;
    /// Gauge: connections the per-client guard has admitted and not yet released (refused ones
    /// never count). Thread-safe.
    int admittedConnections() const;

private:
    std::unique_ptr<WebContext> context_;
    std::unique_ptr<LandingPage> landing_;
    std::unique_ptr<ReadinessProbe> readiness_;
    std::unique_ptr<ClientConnectionGuard> guard_;
    Poco::Net::HTTPRequestHandlerFactory* handlers_ = nullptr;  ///< owned by server_'s connection factory
    std::unique_ptr<Poco::ThreadPool> threadPool_;
    std::unique_ptr<Poco::Net::TCPServer> server_;
    std::uint16_t port_ = 0;
    mutable std::mutex serverMutex_;  ///< guards server_ against currentConnections() from handlers
    TlsSettings tls_;
    std::unique_ptr<Poco::ThreadPool> httpsThreadPool_;
    std::unique_ptr<Poco::Net::TCPServer> httpsServer_;
    std::uint16_t httpsPort_ = 0;
};

}  // namespace bridge::web
