// Every HTTP request has a request id (issue 11 item 1, web/RequestId.h), checked with curl
// against the real DICOMweb server over the real core (WebFixture):
//  * a well-formed client X-Request-ID is honoured: echoed in the X-Request-ID response header
//    (exposed through CORS), and the bridge's log lines of that request -- the handler's and the
//    scope resolution's (AccessPolicy runs under the request's context) -- carry it;
//  * a malformed or oversized one is replaced by a generated "h-<n>" id (never echoed, never
//    logged), and a request without one gets a generated id too.
#include <Poco/String.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "bridge/common/Logging.h"
#include "tests/protocol/web/WebFixture.h"
#include "web/RequestId.h"

using namespace bridge;
using namespace bridge::test;

namespace {

/// The response headers of `curl -sS -D - -o /dev/null [-H 'X-Request-ID: id'] url`, lower-cased
/// names kept as sent. `id` is passed through the environment, so no shell quoting is involved.
std::string curlHeaders(const std::string& url, const std::string* id) {
    std::string command = "curl -sS --max-time 60 -D - -o /dev/null ";
    if (id) {
        ::setenv("BRIDGE_TEST_REQUEST_ID", id->c_str(), 1);
        command += "-H \"X-Request-ID: $BRIDGE_TEST_REQUEST_ID\" ";
    }
    command += "'" + url + "'";
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        std::size_t n;
        while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) out.append(buffer, n);
        ::pclose(p);
    }
    return out;
}

/// The value of header `name` (case-insensitive) in curl's -D output, or "".
std::string headerValue(const std::string& headers, const std::string& name) {
    std::istringstream in(headers);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto colon = line.find(':');
        if (colon == std::string::npos || colon != name.size()) continue;
        if (Poco::icompare(line.substr(0, colon), name) != 0) continue;
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        return value;
    }
    return {};
}

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Logs of this test to a file; restores the console sink afterwards.
struct LogToFile {
    TempDir dir;
    std::string path = dir.path() + "/bridge.log";
    LogToFile() {
        LogSettings log;
        log.sink = "file";
        log.file = path;
        log.levels["bridge.web"] = "debug";
        log.levels["bridge.access"] = "debug";
        configureLogging(log, "info");
    }
    ~LogToFile() { configureLogging(LogSettings{}, "info"); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(request_id)

BOOST_AUTO_TEST_CASE(client_request_id_is_echoed_exposed_and_in_the_log_lines) {
    auto& f = WebFixture::shared();
    LogToFile log;
    const std::string url = "http://127.0.0.1:" + std::to_string(f.server->port()) +
                            "/dicom-web/studies?PatientID=TCGA-DM-0001&limit=5";
    const std::string id = "curl-f47ac10b-58cc-4372";
    const std::string headers = curlHeaders(url, &id);
    BOOST_TEST_MESSAGE(headers);
    BOOST_REQUIRE_MESSAGE(headers.rfind("HTTP/1.1 200", 0) == 0, "curl did not get a 200: " << headers);
    BOOST_TEST(headerValue(headers, "X-Request-ID") == id);
    BOOST_TEST(headerValue(headers, "Access-Control-Expose-Headers").find("X-Request-ID") !=
               std::string::npos);

    const std::string lines = readFile(log.path);
    BOOST_TEST_MESSAGE(lines);
    // The handler's line and the scope resolution's line of this request carry the client's id.
    BOOST_TEST(lines.find("bridge.web [" + id + "] GET /dicom-web/studies") != std::string::npos);
    BOOST_TEST(lines.find("bridge.access [" + id + "] scope of principal") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_oversized_or_missing_ids_are_replaced_by_generated_ones) {
    auto& f = WebFixture::shared();
    LogToFile log;
    const std::string url = "http://127.0.0.1:" + std::to_string(f.server->port()) +
                            "/dicom-web/studies?PatientID=TCGA-DM-0001&limit=1";
    const std::string forged = "x] INFO bridge.web [admin";
    const std::string oversized(web::kMaxRequestIdLength + 1, 'a');
    for (const std::string* id : {&forged, &oversized, static_cast<const std::string*>(nullptr)}) {
        const std::string headers = curlHeaders(url, id);
        BOOST_REQUIRE_MESSAGE(headers.rfind("HTTP/1.1 200", 0) == 0, "curl did not get a 200: " << headers);
        const std::string echoed = headerValue(headers, "X-Request-ID");
        BOOST_TEST_CONTEXT((id ? *id : std::string("(none)"))) {
            BOOST_TEST(echoed.rfind("h-", 0) == 0u, "not a generated id: " << echoed);
            BOOST_TEST(readFile(log.path).find("[" + echoed + "] GET /dicom-web/studies") !=
                       std::string::npos);
            if (id)
                BOOST_TEST(readFile(log.path).find(*id) == std::string::npos, "the refused id was logged");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
