#pragma once
// The DICOMweb front end: a Poco HTTPServer on WebSettings::bindAddress serving
//   /dicom-web/...   QIDO-RS, WADO-RS (instances, metadata, frames, bulkdata, rendered, thumbnail)
//   /wado            WADO-URI (also /dicom-web/wado)
//   /                landing page (HTML), /collections (JSON twin), /health (JSON)
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
// Lifetime: the services passed in must outlive the server. start()/stop() from one thread.

#include "web/WebContext.h"

#include <memory>

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

class DicomWebServer {
public:
    /// Production: the core's services; scope from AccessPolicy::forHttp (bearer token),
    /// settings from services.config.web.
    explicit DicomWebServer(BridgeServices& services);
    /// Lower level (tests): explicit pieces. `scope` may be empty (everyone sees everything
    /// the core shows); `metadata` may be null (landing page without collections).
    DicomWebServer(QueryService& query, RetrieveService& retrieve, ScopeResolver scope, MetadataSource* metadata,
                   WebSettings settings);
    /// Same, with the scope from `access->forHttp(bearerToken)`; `access` may be null (no
    /// restrictions) and must outlive the server.
    DicomWebServer(QueryService& query, RetrieveService& retrieve, AccessPolicy* access, MetadataSource* metadata,
                   WebSettings settings);
    ~DicomWebServer();
    DicomWebServer(const DicomWebServer&) = delete;
    DicomWebServer& operator=(const DicomWebServer&) = delete;

    /// Binds and starts serving; returns at once. Throws BridgeError(Internal) when the port
    /// cannot be bound.
    void start();
    /// Stops accepting, waits for running requests to end (bounded by Poco's stop). Idempotent.
    void stop();
    /// The bound port (the ephemeral one when settings.port was 0). 0 before start().
    std::uint16_t port() const;

    WebContext& context() { return *context_; }

private:
    std::unique_ptr<WebContext> context_;
    std::unique_ptr<LandingPage> landing_;
    std::unique_ptr<ClientConnectionGuard> guard_;
    Poco::Net::HTTPRequestHandlerFactory* handlers_ = nullptr;  ///< owned by server_'s connection factory
    std::unique_ptr<Poco::ThreadPool> threadPool_;
    std::unique_ptr<Poco::Net::TCPServer> server_;
    std::uint16_t port_ = 0;
};

}  // namespace bridge::web
