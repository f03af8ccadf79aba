#include "web/DicomWebServer.h"

#include "bridge/catalog/Catalog.h"
#include "bridge/common/Error.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/InstanceCache.h"
#include "web/LandingPage.h"
#include "web/WebRequestHandler.h"

#include <Poco/Net/HTTPRequestHandlerFactory.h>
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
    return [policy](const std::optional<std::string>& token) { return policy->forHttp(token); };
}

}  // namespace

DicomWebServer::DicomWebServer(BridgeServices& services)
    : DicomWebServer(*services.query, *services.retrieve, scopeFrom(services.access.get()), services.metadata.get(),
                     services.config.web) {
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
        return s;
    };
}

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
    auto* params = new Poco::Net::HTTPServerParams;
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
    threadPool_ = std::make_unique<Poco::ThreadPool>(2, threads, 60);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(*context_, *landing_), *threadPool_, socket, params);
    server_->start();
}

void DicomWebServer::stop() {
    if (!server_) return;
    server_->stopAll(true);
    server_.reset();
    threadPool_->joinAll();
    threadPool_.reset();
}

std::uint16_t DicomWebServer::port() const { return port_; }

}  // namespace bridge::web
