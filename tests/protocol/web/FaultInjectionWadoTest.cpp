// Faults during a WADO-RS series retrieve (issue 9, "Faults and load as tests"): the real
// DicomWebServer over the real core in front of the TCIA emulator, whose faults (500, 429,
// truncate, slow, drop) are set at run time through POST /emulator/faults.
//
// The response is read off a raw socket and de-chunked here, because Poco's client treats a
// connection that ends before the last chunk as a normal end of body. The contract:
//  * when every instance arrived: 200, a cleanly terminated chunked body, one part per instance
//    whose bytes equal the emulator's file (transfer-syntax=*: as stored), the closing delimiter;
//  * when instances are missing after the stream started: the stream is ABORTED -- no closing
//    multipart delimiter and no terminating zero-length chunk -- so no client can take a partial
//    series for a whole one; the parts that did arrive are intact;
//  * when nothing could be retrieved: an HTTP error with a JSON body and CORS headers;
//  * afterwards, without the fault, the series arrives whole (fetched again: a partial series is
//    never served from the cache), and once more warm without any TCIA download.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/InstanceCache.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"
#include "web/DicomWebServer.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

// TCGA-DEMO-CT / TCGA-DM-0001: CT 10 x 64x64, Explicit VR LE (emulator/README.md).
const std::string kStudy = "1.2.826.0.1.3680043.10.1234.1.1";
const std::string kSeries = "1.2.826.0.1.3680043.10.1234.2.1";

struct WadoFaultFixture {
    EmulatorProcess emulator{{"--quiet"}};
    TempDir cacheDir;
    std::unique_ptr<BridgeServices> services;
    std::unique_ptr<web::DicomWebServer> server;

    WadoFaultFixture() {
        Config config;
        config.tcia = faultRetrySettings(emulator);
        config.cache.directory = cacheDir.path();
        config.dimse.enabled = false;
        config.web.port = 0;
        config.web.bindAddress = "127.0.0.1";
        services = makeBridgeServices(config);
        server = std::make_unique<web::DicomWebServer>(*services);
        server->start();
    }

    void setFault(const std::string& spec) {
        BOOST_REQUIRE_NO_THROW(replaceFaults(emulator, spec));
    }
};

/// One HTTP/1.1 exchange read off a raw socket until the server closes (or resets) it.
struct RawResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  ///< lower-case names
    std::string body;                            ///< de-chunked
    bool chunked = false;
    bool terminated = false;  ///< chunked: the zero-length last chunk arrived
    bool reset = false;       ///< the read ended with an error (e.g. connection reset)
};

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// Parses a raw HTTP response (headers + chunked or plain body); pure.
RawResponse parseRawResponse(const std::string& raw, bool reset) {
    RawResponse r;
    r.reset = reset;
    const auto headEnd = raw.find("\r\n\r\n");
    if (headEnd == std::string::npos) return r;
    const std::string head = raw.substr(0, headEnd);
    std::size_t lineEnd = head.find("\r\n");
    const std::string statusLine = head.substr(0, lineEnd);
    if (statusLine.size() > 12) r.status = std::atoi(statusLine.c_str() + 9);
    while (lineEnd != std::string::npos && lineEnd < head.size()) {
        const std::size_t next = head.find("\r\n", lineEnd + 2);
        const std::string line =
            head.substr(lineEnd + 2, (next == std::string::npos ? head.size() : next) - lineEnd - 2);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            r.headers[lower(line.substr(0, colon))] = value;
        }
        lineEnd = next;
    }
    std::size_t pos = headEnd + 4;
    r.chunked = lower(r.headers["transfer-encoding"]) == "chunked";
    if (!r.chunked) {
        r.body = raw.substr(pos);
        return r;
    }
    while (pos < raw.size()) {
        const auto eol = raw.find("\r\n", pos);
        if (eol == std::string::npos) break;
        const std::size_t size = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
        pos = eol + 2;
        if (size == 0) {
            r.terminated = raw.compare(pos, 2, "\r\n") == 0;
            break;
        }
        if (pos + size > raw.size()) {  // cut inside a chunk
            r.body += raw.substr(pos);
            break;
        }
        r.body += raw.substr(pos, size);
        pos += size + 2;
    }
    return r;
}

RawResponse rawGet(unsigned short port, const std::string& uri, const std::string& accept) {
    Poco::Net::StreamSocket socket;
    socket.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(10, 0));
    socket.setReceiveTimeout(Poco::Timespan(120, 0));
    const std::string request =
        "GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + accept + "\r\nConnection: close\r\n\r\n";
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string raw;
    bool reset = false;
    char buffer[65536];
    try {
        while (true) {
            const int n = socket.receiveBytes(buffer, sizeof buffer);
            if (n <= 0) break;
            raw.append(buffer, static_cast<std::size_t>(n));
        }
    } catch (const Poco::Exception&) {
        reset = true;
    }
    return parseRawResponse(raw, reset);
}

struct Part {
    std::map<std::string, std::string> headers;
    std::string bytes;
};

/// Splits a multipart/related body by its parts' Content-Length; `closed` tells whether the
/// closing delimiter followed the last part.
std::vector<Part> splitMultipart(const std::string& body, const std::string& boundary, bool& closed) {
    std::vector<Part> parts;
    closed = false;
    const std::string delimiter = "--" + boundary;
    std::size_t pos = 0;
    while (body.compare(pos, delimiter.size(), delimiter) == 0) {
        pos += delimiter.size();
        if (body.compare(pos, 2, "--") == 0) {
            closed = true;
            break;
        }
        const auto headEnd = body.find("\r\n\r\n", pos);
        if (headEnd == std::string::npos) break;
        Part part;
        std::size_t line = body.find("\r\n", pos);
        while (line < headEnd) {
            const std::size_t next = body.find("\r\n", line + 2);
            const std::string h = body.substr(line + 2, next - line - 2);
            const auto colon = h.find(':');
            if (colon != std::string::npos) part.headers[lower(h.substr(0, colon))] = h.substr(colon + 2);
            line = next;
        }
        const std::size_t size = std::stoul(part.headers["content-length"]);
        const std::size_t start = headEnd + 4;
        if (start + size + 2 > body.size()) break;  // cut inside a part: not counted
        part.bytes = body.substr(start, size);
        parts.push_back(std::move(part));
        pos = start + size + 2;
    }
    return parts;
}

/// SOP Instance UID -> the bytes of the emulator's file, for one series.
std::map<std::string, std::string> emulatorSeriesBytes(const std::string& seriesUid) {
    std::map<std::string, std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(sampleDataDir())) {
        if (!e.is_regular_file() || e.path().extension() != ".dcm") continue;
        if (e.path().parent_path().filename() != seriesUid) continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        DcmFileFormat ff;
        if (ff.loadFile(e.path().c_str()).bad()) continue;
        OFString uid;
        ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, uid);
        out[uid.c_str()] = bytes;
    }
    return out;
}

const char* const kAccept = "multipart/related; type=\"application/dicom\"; transfer-syntax=*";

struct SeriesOutcome {
    RawResponse response;
    std::set<std::string> received;  ///< intact parts, by SOP Instance UID
    bool whole = false;              ///< every instance, clean end
};

/// GET the series; checks every part that arrived against the emulator's bytes and the
/// abort-or-complete contract. Returns what arrived.
SeriesOutcome getSeries(WadoFaultFixture& f) {
    const auto expected = emulatorSeriesBytes(kSeries);
    BOOST_REQUIRE_EQUAL(expected.size(), 10u);
    SeriesOutcome out;
    out.response = rawGet(f.server->port(), "/dicom-web/studies/" + kStudy + "/series/" + kSeries, kAccept);
    const RawResponse& r = out.response;
    BOOST_TEST_MESSAGE("status " << r.status << " chunked " << r.chunked << " terminated " << r.terminated
                                 << " reset " << r.reset << " body " << r.body.size() << " bytes");
    BOOST_TEST(r.headers.count("access-control-allow-origin") == 1u);
    if (r.status != 200) {
        // Nothing could be sent: an error with a JSON body.
        BOOST_TEST(r.status >= 400);
        BOOST_TEST(r.body.find("\"error\"") != std::string::npos);
        return out;
    }
    const std::string type = r.headers.at("content-type");
    const auto b = type.find("boundary=");
    BOOST_REQUIRE(b != std::string::npos);
    bool closed = false;
    const auto parts = splitMultipart(r.body, type.substr(b + 9), closed);
    for (const auto& part : parts) {
        const std::string location =
            part.headers.count("content-location") ? part.headers.at("content-location") : "";
        const std::string sop = location.substr(location.rfind('/') + 1);
        auto it = expected.find(sop);
        BOOST_REQUIRE_MESSAGE(it != expected.end(), "unexpected part " << location);
        BOOST_TEST(out.received.insert(sop).second, "part sent twice: " << sop);
        BOOST_TEST((part.bytes == it->second), "part bytes differ from the emulator's file: " << sop);
    }
    const bool cleanEnd = r.chunked && r.terminated && !r.reset;
    if (out.received.size() == expected.size()) {
        BOOST_TEST(closed);
        BOOST_TEST(cleanEnd);
        out.whole = closed && cleanEnd;
    } else {
        // Missing instances: the body must not look complete.
        BOOST_TEST(!closed, "closing delimiter after " << out.received.size() << " of 10 parts");
        BOOST_TEST(!cleanEnd,
                   "chunked stream terminated cleanly after " << out.received.size() << " of 10 parts");
    }
    return out;
}

struct FaultCase {
    const char* spec;
    bool transient;  ///< within the client's retries (maxRetries 2): the series must arrive whole
};

const FaultCase kCases[] = {
    {"getImage:500:1", true},
    {"getImage:429:1:retry-after=1", true},
    {"getImage:truncate:1", true},
    {"getImage:drop:1", true},
    {"getImage:slow:1:delay-ms=1500", true},
    {"getImage:500:20", false},
    {"getImage:drop:20", false},
    {"getImage:truncate:20", false},
    {"getImage:truncate:20:mode=reset", false},
    {"getImage:truncate:20:bytes=40000", false},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(FaultInjectionWado)

BOOST_AUTO_TEST_CASE(raw_response_parser_tells_a_clean_end_from_a_cut) {
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    auto clean = parseRawResponse(head + "3\r\nabc\r\n0\r\n\r\n", false);
    BOOST_TEST(clean.status == 200);
    BOOST_TEST(clean.body == "abc");
    BOOST_TEST(clean.terminated);
    auto cut = parseRawResponse(head + "3\r\nabc\r\n", false);
    BOOST_TEST(cut.body == "abc");
    BOOST_TEST(!cut.terminated);
    auto inside = parseRawResponse(head + "6\r\nabc", true);
    BOOST_TEST(inside.body == "abc");
    BOOST_TEST(!inside.terminated);
    bool closed = false;
    auto parts = splitMultipart("--B\r\nContent-Length: 2\r\n\r\nxy\r\n--B--\r\n", "B", closed);
    BOOST_TEST(parts.size() == 1u);
    BOOST_TEST(parts[0].bytes == "xy");
    BOOST_TEST(closed);
    parts = splitMultipart("--B\r\nContent-Length: 2\r\n\r\nxy\r\n--B\r\nContent-Length: 9\r\n\r\nabc", "B",
                           closed);
    BOOST_TEST(parts.size() == 1u);
    BOOST_TEST(!closed);
}

BOOST_AUTO_TEST_CASE(wado_rs_series_under_every_emulator_fault_is_whole_or_visibly_cut) {
    for (const auto& c : kCases) {
        BOOST_TEST_CONTEXT("WADO-RS series with fault " << c.spec) {
            WadoFaultFixture f;
            f.setFault(c.spec);
            resetStats(f.emulator);
            const auto first = getSeries(f);
            if (c.transient) BOOST_TEST(first.whole);
            BOOST_TEST(f.services->instanceCache->isComplete(kSeries) == (first.received.size() == 10u));
            const int downloadsBefore = endpointCount(f.emulator, "getImage");

            f.setFault("");
            const auto second = getSeries(f);
            BOOST_TEST(second.whole);
            BOOST_TEST(f.services->instanceCache->isComplete(kSeries));
            const int downloadsAfter = endpointCount(f.emulator, "getImage");
            if (first.received.size() != 10u) BOOST_TEST(downloadsAfter > downloadsBefore);

            const auto third = getSeries(f);
            BOOST_TEST(third.whole);
            BOOST_TEST(endpointCount(f.emulator, "getImage") == downloadsAfter);
        }
    }
}

BOOST_AUTO_TEST_CASE(series_metadata_with_missing_instances_is_an_error_not_a_short_array) {
    // A persistent truncate delivers 4 of 10 instances: a 200 with 4 objects would look like a
    // 4-instance series to OHIF. The answer is an error; without the fault, all 10.
    WadoFaultFixture f;
    f.setFault("getImage:truncate:20");
    const std::string uri = "/dicom-web/studies/" + kStudy + "/series/" + kSeries + "/metadata";
    const auto cut = rawGet(f.server->port(), uri, "application/dicom+json");
    BOOST_TEST_MESSAGE("metadata under the fault: " << cut.status << " " << cut.body.substr(0, 200));
    BOOST_TEST(cut.status >= 500);
    BOOST_TEST(cut.body.find("\"error\"") != std::string::npos);
    BOOST_TEST(cut.headers.count("access-control-allow-origin") == 1u);
    f.setFault("");
    const auto whole = rawGet(f.server->port(), uri, "application/dicom+json");
    BOOST_TEST(whole.status == 200);
    std::size_t objects = 0;
    for (auto pos = whole.body.find("\"00080018\""); pos != std::string::npos;
         pos = whole.body.find("\"00080018\"", pos + 1))
        ++objects;
    BOOST_TEST(objects == 10u);
}

BOOST_AUTO_TEST_SUITE_END()
