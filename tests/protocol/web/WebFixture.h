#pragma once
// The DICOMweb server on an ephemeral port over the real core (makeBridgeServices: TciaClient
// -> Catalog -> QueryEngine, InstanceCache -> RetrieveEngine, AccessPolicy) talking to the TCIA
// emulator, built with the production constructor DicomWebServer(BridgeServices&). The bridge
// authenticates to the emulator (so it can see the restricted collection) and grants that
// collection to one HTTP bearer token only. One shared instance per test process.

#include "bridge/common/Config.h"
#include "bridge/retrieve/BridgeServices.h"
#include "tests/support/TestSupport.h"
#include "web/DicomWebServer.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <map>
#include <memory>
#include <string>

namespace bridge::test {

struct HttpResult {
    int status = 0;
    Poco::Net::HTTPResponse response;
    std::string body;
    std::string header(const std::string& name) const { return response.get(name, ""); }
};

inline HttpResult httpRequest(unsigned short port, const std::string& method, const std::string& uri,
                              const std::map<std::string, std::string>& headers = {}, const std::string& body = {}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) request.set(k, v);
    if (!body.empty()) request.setContentLength(static_cast<std::streamsize>(body.size()));
    auto& out = session.sendRequest(request);
    if (!body.empty()) out << body;
    HttpResult result;
    auto& in = session.receiveResponse(result.response);
    result.status = result.response.getStatus();
    Poco::StreamCopier::copyToString(in, result.body);
    return result;
}

struct WebFixture {
    EmulatorProcess emulator{{"--quiet"}};
    TempDir cacheDir;
    Config config;
    std::unique_ptr<BridgeServices> services;
    std::unique_ptr<web::DicomWebServer> server;

    /// `dataDir`: the emulator's data (default: the generated sample data).
    explicit WebFixture(const std::string& dataDir = sampleDataDir()) : emulator({"--quiet"}, dataDir) {
        config.tcia.baseUrl = emulator.baseUrl("v4");
        config.tcia.tokenUrl = "http://127.0.0.1:" + std::to_string(emulator.port()) + "/nbia-api/oauth/token";
        config.tcia.username = "emulator-user";
        config.tcia.password = "emulator-password";
        config.tcia.maxRetries = 0;
        config.cache.directory = cacheDir.path();
        config.access.restrictedCollections = {"Restricted-Demo"};
        config.access.grantsByToken["Restricted-Demo"] = {"let-me-in"};
        // QidoCacheTest's made-up collection: TCIA does not list it, so only a grant shows it.
        config.access.grantsByToken["Qido-Cache-Probe"] = {"qido-probe"};
        config.dimse.enabled = false;
        config.web.port = 0;
        config.web.bindAddress = "127.0.0.1";
        services = makeBridgeServices(config);
        server = std::make_unique<web::DicomWebServer>(*services);
        server->start();
    }

    static WebFixture& shared() {
        static WebFixture fixture;
        return fixture;
    }

    HttpResult get(const std::string& uri, const std::map<std::string, std::string>& headers = {}) {
        return httpRequest(server->port(), "GET", uri, headers);
    }
};

}  // namespace bridge::test
