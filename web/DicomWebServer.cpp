#include "web/DicomWebServer.h"

#include "bridge/common/Error.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/retrieve/BridgeServices.h"
#include "web/ClientConnectionGuard.h"
#include "web/LandingPage.h"
#include "web/WebExchange.h"
#include "web/WebRequestHandler.h"

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>


namespace bridge::web {
namespace {

/// Tells the guard when a request's header has been parsed and when its response is done.
class GuardedHandler : public Poco::Net::HTTPRequestHandler {
public:
    GuardedHandler(WebContext& context, LandingPage& landing, ClientConnectionGuard& guard, Poco::Net::SocketAddress peer)
        : inner_(context, landing), guard_(guard), peer_(std::move(peer)) {
        guard_.requestStarted(peer_);
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
        const std::string body = "{\"error\":" + jsonQuote(m.name) + ",\"message\":" +
                                 jsonQuote("too many connections from this client (at most " +
                                           std::to_string(settings_.maxConnectionsPerClient) + ")") +
                                 ",\"status\":" + std::to_string(m.httpStatus) + "}";
        const std::string response = "HTTP/1.1 " + std::to_string(m.httpStatus) +
                                     " Service Unavailable\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: " +
                                     settings_.allowedOrigin + "\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: " +
                                     std::to_string(body.size()) + "\r\n\r\n" + body;
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
    return [policy](const std::optional<std::string>& token) { return policy->forHttp(token); };
}

}  // namespace

DicomWebServer::DicomWebServer(BridgeServices& services)
    : DicomWebServer(*services.query, *services.retrieve, scopeFrom(services.access.get()), services.metadata.get(),
                     services.config.web) {}

DicomWebServer::DicomWebServer(QueryService& query, RetrieveService& retrieve, AccessPolicy* access, MetadataSource* metadata,
                               WebSettings settings)
    : DicomWebServer(query, retrieve, scopeFrom(access), metadata, std::move(settings)) {}

DicomWebServer::DicomWebServer(QueryService& query, RetrieveService& retrieve, ScopeResolver scope, MetadataSource* metadata,
                               WebSettings settings)
    : context_(std::make_unique<WebContext>(query, retrieve, std::move(scope), metadata, std::move(settings))),
      landing_(std::make_unique<LandingPage>()) {}

DicomWebServer::~DicomWebServer() { stop(); }

void DicomWebServer::start() {
    if (server_) return;
    const auto& s = context_->settings;
    Poco::Net::ServerSocket socket;
    try {
        socket.bind(Poco::Net::SocketAddress(s.bindAddress, s.port), true);
        socket.listen(128);
    } catch (const Poco::Exception& e) {
        throw BridgeError(ErrorCode::Internal, "cannot listen on " + s.bindAddress + ":" + std::to_string(s.port) + ": " + e.displayText());
    }
    port_ = socket.address().port();
    // One reference-counted params object shared by the server and every connection.
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
    // per client (issue 9 finding 3).
    ClientConnectionGuard::Limits limits;
    limits.maxPerClient = s.maxConnectionsPerClient;
    limits.headerTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(s.headerTimeout);
    limits.keepAliveIdle = std::chrono::milliseconds(10'000);
    guard_ = std::make_unique<ClientConnectionGuard>(limits);
    handlers_ = new HandlerFactory(*context_, *landing_, *guard_);
    threadPool_ = std::make_unique<Poco::ThreadPool>(2, threads, 60);
    server_ = std::make_unique<Poco::Net::TCPServer>(
        new GuardedConnectionFactory(params, Poco::Net::HTTPRequestHandlerFactory::Ptr(handlers_), *guard_, context_->settings),
        *threadPool_, socket, Poco::Net::TCPServerParams::Ptr(params.get(), true));
    server_->start();
}

void DicomWebServer::stop() {
    if (!server_) return;
    server_->stop();
    static_cast<HandlerFactory*>(handlers_)->abortConnections();
    threadPool_->joinAll();
    server_.reset();
    threadPool_.reset();
    handlers_ = nullptr;
    guard_.reset();
}

std::uint16_t DicomWebServer::port() const { return port_; }

}  // namespace bridge::web
