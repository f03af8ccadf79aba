#include "tests/support/EmulatorControl.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <json/reader.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <utility>

namespace bridge::test {

std::string httpBody(unsigned short port, const std::string& method, const std::string& path) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentLength(0);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    return body;
}

Json::Value emulatorStats(const EmulatorProcess& emulator) {
    const std::string body = httpBody(emulator.port(), "GET", "/emulator/stats");
    Json::CharReaderBuilder builder;
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    if (!reader->parse(body.data(), body.data() + body.size(), &root, &errors))
        throw std::runtime_error("/emulator/stats is not JSON: " + errors);
    return root;
}

int endpointCount(const EmulatorProcess& emulator, const std::string& endpoint) {
    return emulatorStats(emulator)["endpoints"].get(endpoint, 0).asInt();
}

int totalCalls(const EmulatorProcess& emulator) { return emulatorStats(emulator)["total"].asInt(); }

void resetStats(const EmulatorProcess& emulator) {
    httpBody(emulator.port(), "POST", "/emulator/stats/reset");
}

TciaSettings testClientSettings(std::string baseUrl, std::string version, const TestClientTiming& timing) {
    TciaSettings s;
    s.baseUrl = std::move(baseUrl);
    s.apiVersion = std::move(version);
    s.connectTimeout = timing.connectTimeout;
    s.readTimeout = timing.readTimeout;
    s.maxRetries = timing.maxRetries;
    s.retryBaseDelay = timing.retryBaseDelay;
    s.retryMaxDelay = timing.retryMaxDelay;
    return s;
}

TciaSettings singleRetrySettings(const EmulatorProcess& emulator, const std::string& version) {
    using namespace std::chrono_literals;
    return testClientSettings(emulator.baseUrl(version), version,
                              {.readTimeout = 10s, .maxRetries = 1, .retryBaseDelay = 10ms, .retryMaxDelay = 50ms,
                               .connectTimeout = 2s});
}

TciaSettings faultRetrySettings(const EmulatorProcess& emulator) {
    using namespace std::chrono_literals;
    return testClientSettings(emulator.baseUrl("v4"), "v4",
                              {.readTimeout = 20s, .maxRetries = 2, .retryBaseDelay = 20ms, .retryMaxDelay = 200ms});
}

void replaceFaults(const EmulatorProcess& emulator, const std::string& spec) {
    httpBody(emulator.port(), "DELETE", "/emulator/faults");
    if (!spec.empty()) httpBody(emulator.port(), "POST", "/emulator/faults?spec=" + spec);
}

}  // namespace bridge::test
