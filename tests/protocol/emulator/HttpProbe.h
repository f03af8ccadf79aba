#pragma once
// Test helper (header-only): one plain HTTP/1.1 exchange with Poco's client, keeping what the
// tests assert on: status, headers, whether the body was chunked, the body; plus ordered JSON
// parsing (Poco's ParseHandler with insertion order preserved).

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace emulator::test {

struct HttpAnswer {
    int status = 0;
    std::string reason;
    std::string contentType;
    bool chunked = false;
    bool hasContentLength = false;
    std::map<std::string, std::string> headers;
    std::string body;
};

/// GET (or POST with a form body) url; throws Poco exceptions on connection failures.
inline HttpAnswer http(const std::string& url, const std::string& method = "GET",
                       const std::map<std::string, std::string>& headers = {}, const std::string& formBody = {}) {
    const Poco::URI uri(url);
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    session.setTimeout(Poco::Timespan(20, 0));
    Poco::Net::HTTPRequest request(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) request.set(k, v);
    if (method == "POST") {
        request.setContentType("application/x-www-form-urlencoded");
        request.setContentLength(static_cast<std::streamsize>(formBody.size()));
        session.sendRequest(request) << formBody;
    } else {
        session.sendRequest(request);
    }
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpAnswer a;
    a.status = response.getStatus();
    a.reason = response.getReason();
    a.contentType = response.getContentType();
    a.chunked = response.getChunkedTransferEncoding();
    a.hasContentLength = response.hasContentLength();
    for (const auto& [k, v] : response) a.headers[k] = v;
    Poco::StreamCopier::copyToString(in, a.body);
    return a;
}

inline Poco::Dynamic::Var parseOrdered(const std::string& json) {
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
    return parser.parse(json);
}

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// "null", "string", "int", "number", "bool", "object", "array".
inline std::string jsonType(const Poco::Dynamic::Var& v) {
    if (v.isEmpty()) return "null";
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) return "object";
    if (v.type() == typeid(Poco::JSON::Array::Ptr)) return "array";
    if (v.isString()) return "string";
    if (v.isBoolean()) return "bool";
    if (v.isInteger()) return "int";
    if (v.isNumeric()) return "number";
    return "other";
}

}  // namespace emulator::test
