#include "tests/support/EmulatorControl.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <json/reader.h>

#include <chrono>
#include <memory>
#include <stdexcept>

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

TciaSettings singleRetrySettings(const EmulatorProcess& emulator, const std::string& version) {
    TciaSettings s;
    s.baseUrl = emulator.baseUrl(version);
    s.apiVersion = version;
    s.connectTimeout = std::chrono::seconds(2);
    s.readTimeout = std::chrono::seconds(10);
    s.maxRetries = 1;
    s.retryBaseDelay = std::chrono::milliseconds(10);
    s.retryMaxDelay = std::chrono::milliseconds(50);
    return s;
}

TciaSettings faultRetrySettings(const EmulatorProcess& emulator) {
    TciaSettings s;
    s.baseUrl = emulator.baseUrl("v4");
    s.apiVersion = "v4";
    s.maxRetries = 2;
    s.retryBaseDelay = std::chrono::milliseconds(20);
    s.retryMaxDelay = std::chrono::milliseconds(200);
    s.readTimeout = std::chrono::seconds(20);
    return s;
}

void replaceFaults(const EmulatorProcess& emulator, const std::string& spec) {
    httpBody(emulator.port(), "DELETE", "/emulator/faults");
    if (!spec.empty()) httpBody(emulator.port(), "POST", "/emulator/faults?spec=" + spec);
}

}  // namespace bridge::test
