#pragma once
// The DICOMweb server on an ephemeral port over the real query core (QueryEngine +
// TciaMetadataSource + TciaClient) talking to the TCIA emulator, with the real AccessPolicy.
// Retrieval: SampleRetrieveService (the emulator's sample files from disk). One shared
// instance per test process (the emulator takes a moment to start).

#include "SampleRetrieveService.h"

#include "bridge/common/Config.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/query/QueryEngine.h"
#include "bridge/query/TciaMetadataSource.h"
#include "bridge/tcia/TciaClient.h"
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
    EmulatorProcess emulator;
    Config config;
    std::unique_ptr<tcia::TciaClient> tcia;
    std::unique_ptr<TciaMetadataSource> metadata;
    std::unique_ptr<QueryEngine> query;
    std::unique_ptr<SampleRetrieveService> retrieve;
    std::unique_ptr<AccessPolicy> access;
    std::unique_ptr<web::DicomWebServer> server;

    WebFixture() {
        config.tcia.baseUrl = emulator.baseUrl("v4");
        config.tcia.maxRetries = 0;
        config.access.restrictedCollections = {"Restricted-Demo"};
        config.access.grantsByToken["Restricted-Demo"] = {"let-me-in"};
        config.web.port = 0;
        config.web.bindAddress = "127.0.0.1";
        tcia = std::make_unique<tcia::TciaClient>(config.tcia);
        metadata = std::make_unique<TciaMetadataSource>(*tcia);
        query = std::make_unique<QueryEngine>(*metadata, nullptr, config.query);
        retrieve = std::make_unique<SampleRetrieveService>(sampleDataDir());
        access = std::make_unique<AccessPolicy>(config, *metadata);
        AccessPolicy* policy = access.get();
        server = std::make_unique<web::DicomWebServer>(
            *query, *retrieve, [policy](const std::optional<std::string>& t) { return policy->forHttp(t); }, metadata.get(),
            config.web);
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
