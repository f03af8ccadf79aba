#pragma once
// A tiny in-process HTTP(S) test double for what the emulator cannot do on purpose: count TCP
// connections (keep-alive reuse), close idle connections early, serve a ZIP with a wrong MD5,
// present a self-signed certificate, refuse refresh tokens. Real Poco HTTPServer on 127.0.0.1:0.

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "bridge/common/Config.h"
#include "tests/support/EmulatorControl.h"

namespace bridge::test {

class FakeTciaServer {
public:
    using Handler = std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&)>;

    /// Starts serving at once. `tls` (server context) makes it HTTPS.
    explicit FakeTciaServer(Handler handler, Poco::Net::Context::Ptr tls = nullptr,
                            Poco::Timespan keepAliveTimeout = Poco::Timespan(10, 0))
        : handler_(std::move(handler)), https_(!tls.isNull()) {
        auto params = new Poco::Net::HTTPServerParams;
        params->setKeepAlive(true);
        params->setKeepAliveTimeout(keepAliveTimeout);
        params->setMaxThreads(8);
        Poco::Net::SocketAddress address("127.0.0.1", 0);
        if (tls) {
            Poco::Net::initializeSSL();
            socket_ = std::make_unique<Poco::Net::SecureServerSocket>(address, 64, tls);
        } else {
            socket_ = std::make_unique<Poco::Net::ServerSocket>(address);
        }
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(handler_), *socket_, params);
        server_->start();
    }
    ~FakeTciaServer() { server_->stopAll(true); }

    unsigned short port() const { return socket_->address().port(); }
    std::string url(const std::string& path) const {
        return std::string(https_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) + path;
    }
    int totalConnections() const { return server_->totalConnections(); }

private:
    class Handle : public Poco::Net::HTTPRequestHandler {
    public:
        explicit Handle(Handler& h) : h_(h) {}
        void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) override {
            h_(req, resp);
        }

    private:
        Handler& h_;
    };
    class Factory : public Poco::Net::HTTPRequestHandlerFactory {
    public:
        explicit Factory(Handler& h) : h_(h) {}
        Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
            return new Handle(h_);
        }

    private:
        Handler& h_;
    };

    Handler handler_;
    bool https_;
    std::unique_ptr<Poco::Net::ServerSocket> socket_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

/// Client settings for talking to `server`: v4 under /nbia-api/services/v4, short timeouts,
/// 2 retries 10-100 ms apart.
inline TciaSettings settingsFor(const FakeTciaServer& server) {
    using namespace std::chrono_literals;
    return testClientSettings(server.url("/nbia-api/services/v4"), "v4",
                              {.readTimeout = 5s, .maxRetries = 2, .retryBaseDelay = 10ms, .retryMaxDelay = 100ms,
                               .connectTimeout = 2s});
}

}  // namespace bridge::test
