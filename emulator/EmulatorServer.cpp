#include "emulator/EmulatorServer.h"

#include "emulator/EmulatorRequestHandler.h"

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

namespace emulator {

namespace {
class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit HandlerFactory(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new EmulatorRequestHandler(state_);
    }

private:
    std::shared_ptr<ServerState> state_;
};

Poco::ThreadPool& pool(int maxThreads) {
    static Poco::ThreadPool p(2, maxThreads);
    return p;
}
}  // namespace

EmulatorServer::EmulatorServer(std::shared_ptr<const DataIndex> index, const ServerOptions& options)
    : state_(std::make_shared<ServerState>()), options_(options) {
    state_->index = index;
    state_->service = std::make_unique<EndpointService>(index);
    state_->tokens = std::make_unique<TokenRegistry>(options.tokenUser, options.tokenPassword, options.tokenLifetimeSeconds);
    state_->quiet = options.quiet;
    idc::IdcCatalog::Options idcOptions;
    idcOptions.idcVersion = options.idcVersion;
    idcOptions.indexDataVersion = options.idcIndexDataVersion;
    idcOptions.sqlTimeoutMs = options.idcSqlTimeoutMs;
    idcOptions.includeSynthetic = options.idcSynthetic;
    state_->idc = std::make_unique<idc::IdcService>(std::make_shared<idc::IdcCatalog>(*index, idcOptions));
    for (const auto& spec : options.faults) state_->faults.add(FaultPlan::parse(spec));
}

EmulatorServer::~EmulatorServer() { stop(); }

void EmulatorServer::start() {
    Poco::Net::ServerSocket socket;
    // SO_REUSEADDR (restart after TIME_WAIT) but not SO_REUSEPORT: Poco's two-argument bind()
    // sets both, which let a second emulator share a busy port and split its connections.
    socket.bind(Poco::Net::SocketAddress(options_.bind, options_.port), true, false);
    socket.listen(128);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.maxThreads);
    params->setMaxQueued(256);
    params->setKeepAlive(true);
    params->setTimeout(Poco::Timespan(60, 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(state_), pool(options_.maxThreads + 2),
                                                      socket, params);
    server_->start();
}

void EmulatorServer::stop() {
    if (server_) {
        server_->stopAll(true);
        server_.reset();
    }
}

unsigned short EmulatorServer::port() const { return server_ ? server_->port() : 0; }

}  // namespace emulator
