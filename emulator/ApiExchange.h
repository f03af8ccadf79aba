#pragma once
// The transport-free request and answer of one NBIA API call, so EndpointService can be tested
// without sockets. Plain value types.

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

/// The answer. When zip is non-empty the body is streamed as a ZIP of those entries.
struct ApiResponse {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool isZip = false;
    std::vector<ZipEntryPlan> zip;
};

}  // namespace emulator
