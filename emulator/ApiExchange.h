#pragma once
// The transport-free request and answer of one NBIA API call, so EndpointService can be tested
// without sockets. Plain value types.

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace emulator {

/// One call of /nbia-api/services/<version>/<endpoint>.
struct ApiRequest {
    std::string version;   ///< "v1", "v2" or "v4"
    std::string endpoint;  ///< e.g. "getSeries" (case as sent)
    std::string method = "GET";
    std::vector<std::pair<std::string, std::string>> params;  ///< query (and form) parameters, in order
    bool authorized = false;  ///< a valid bearer token granting restricted collections
};

/// One ZIP entry to stream: inline bytes or a file on disk.
struct ZipEntryPlan {
    std::string name;
    std::string data;      ///< used when path is empty
    std::string path;
};

/// Receives one piece of a streamed body.
using BodySink = std::function<void(const std::string& piece)>;

/// The answer. When isZip is set the body is streamed as a ZIP of the `zip` entries; when
/// `stream` is set the body is whatever it hands to its sink (large JSON answers, memory bounded).
struct ApiResponse {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool isZip = false;
    std::vector<ZipEntryPlan> zip;
    std::function<void(const BodySink&)> stream;
};

}  // namespace emulator
