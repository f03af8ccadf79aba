// Protocol ring: the bounds of issue 9 on the real DicomWebServer over the real core and the TCIA
// emulator, on real loopback sockets. Each case failed on the code before its fix:
//   finding 3  slowloris: trickling clients held every pool thread (ClientConnectionGuard)
//   finding 4  WADO-URI rows/columns unbounded, atoi-parsed (kMaxRenderDimension)
//   finding 5  frame-list amplification (kMaxFramesPerRequest, streamed multipart)
//   finding 6  UID lists fanned out to TCIA without a cap (kMaxFanOutValues)
//   finding 7  a GET body parsed as a second request (request desync)
//   finding 10 WADO-URI UIDs not validated like WADO-RS ones
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/MediaType.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NetException.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "WebFixture.h"
#include "bridge/query/Query.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/RawSocket.h"
#include "web/ImageRenderer.h"
#include "web/WebRoute.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;
using bridge::web::kMaxFramesPerRequest;
using bridge::web::kMaxRenderDimension;

namespace {

const std::string kStudy = "1.2.826.0.1.3680043.10.1234.1.1";         // TCGA-DM-0001
const std::string kSeriesNative = "1.2.826.0.1.3680043.10.1234.2.1";  // 10 CT, explicit LE
const std::string kStudyMultiframe = "1.2.826.0.1.3680043.10.1234.1.3";
const std::string kSeriesMultiframe = "1.2.826.0.1.3680043.10.1234.2.6";  // 1 OT, 8 frames

Poco::JSON::Object::Ptr object(const std::string& body) {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

/// A JSON error with CORS; returns its message.
std::string jsonErrorMessage(const HttpResult& r, int status, const std::string& name) {
    BOOST_TEST(r.status == status);
    BOOST_TEST(r.header("Access-Control-Allow-Origin") == "*");
    BOOST_TEST(r.header("Content-Type").find("application/json") == 0u);
    try {
        auto o = object(r.body);
        BOOST_TEST(o->getValue<std::string>("error") == name);
        return o->getValue<std::string>("message");
    } catch (const std::exception&) {
        BOOST_ERROR("not a JSON error body: " + r.body.substr(0, 200));
        return {};
    }
}

std::string firstSop(const std::string& study, const std::string& series) {
    auto r = WebFixture::shared().get("/dicom-web/studies/" + study + "/series/" + series + "/instances");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    Poco::JSON::Parser parser;
    auto arr = parser.parse(r.body).extract<Poco::JSON::Array::Ptr>();
    BOOST_REQUIRE(arr->size() > 0);
    std::vector<std::string> sops;
    for (std::size_t i = 0; i < arr->size(); ++i)
        sops.push_back(
            arr->getObject(i)->getObject("00080018")->getArray("Value")->getElement<std::string>(0));
    std::sort(sops.begin(), sops.end());
    return sops.front();
}

std::size_t multipartPartCount(const HttpResult& r) {
    Poco::Net::MediaType type(r.header("Content-Type"));
    BOOST_REQUIRE_EQUAL(type.getType(), "multipart");
    std::istringstream in(r.body);
    Poco::Net::MultipartReader reader(in, type.getParameter("boundary"));
    std::size_t parts = 0;
    while (reader.hasNextPart()) {
        Poco::Net::MessageHeader h;
        reader.nextPart(h);
        std::string ignored;
        Poco::StreamCopier::copyToString(reader.stream(), ignored);
        ++parts;
    }
    return parts;
}

std::string uidList(std::size_t count, const std::string& prefix, char separator) {
    std::string out;
    for (std::size_t i = 1; i <= count; ++i) {
        if (i > 1) out += separator;
        out += prefix + std::to_string(i);
    }
    return out;
}

std::size_t countOccurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(WebHardening)

// Finding 6: one bound for every list that fans out to TCIA; refused before any TCIA call.
BOOST_AUTO_TEST_CASE(qido_uid_list_beyond_the_cap_is_400_without_any_tcia_call) {
    auto& f = WebFixture::shared();
    resetStats(f.emulator);
    const std::string tooMany = uidList(kMaxFanOutValues + 1, "1.2.826.0.1.3680043.10.9999.", ',');
    auto r = f.get("/dicom-web/studies?StudyInstanceUID=" + tooMany);
    const std::string message = jsonErrorMessage(r, 400, "invalid-argument");
    BOOST_TEST(message.find("too many values in StudyInstanceUID: " + std::to_string(kMaxFanOutValues + 1)) !=
                   std::string::npos,
               message);
    // (The token and collection listings of the access policy may run; no per-UID call does.)
    BOOST_TEST(endpointCount(f.emulator, "getPatientStudy") == 0);
    BOOST_TEST(endpointCount(f.emulator, "getSeries") == 0);

    r = f.get("/dicom-web/series?SeriesInstanceUID=" + tooMany);
    BOOST_TEST(jsonErrorMessage(r, 400, "invalid-argument").find("SeriesInstanceUID") != std::string::npos);
    r = f.get("/dicom-web/studies?PatientID=" + uidList(kMaxFanOutValues + 1, "P-", ','));
    BOOST_TEST(jsonErrorMessage(r, 400, "invalid-argument").find("PatientID") != std::string::npos);
    BOOST_TEST(endpointCount(f.emulator, "getPatientStudy") == 0);
    BOOST_TEST(endpointCount(f.emulator, "getSeries") == 0);

    // At the cap the query runs (the known study among unknown ones is found).
    const std::string atCap =
        uidList(kMaxFanOutValues - 1, "1.2.826.0.1.3680043.10.9999.", ',') + "," + kStudy;
    r = f.get("/dicom-web/studies?StudyInstanceUID=" + atCap);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body.find(kStudy) != std::string::npos);
}

// Finding 4: WADO-URI rows/columns share /rendered's bound and are parsed strictly.
BOOST_AUTO_TEST_CASE(wado_uri_rows_and_columns_are_bounded_and_strict) {
    auto& f = WebFixture::shared();
    const std::string sop = firstSop(kStudy, kSeriesNative);
    const std::string q =
        "/wado?requestType=WADO&studyUID=" + kStudy + "&seriesUID=" + kSeriesNative + "&objectUID=" + sop;
    const std::string max = std::to_string(kMaxRenderDimension);
    const std::string over = std::to_string(kMaxRenderDimension + 1);
    for (const std::string& bad : std::vector<std::string>{
             "&rows=" + over + "&columns=1", "&rows=1&columns=" + over, "&rows=99999999999&columns=64",
             "&rows=12abc&columns=12", "&rows=-5&columns=64", "&rows=0&columns=64", "&rows=%2B64&columns=64",
             "&rows=64&columns=64&imageQuality=0x10", "&rows=64&columns=64&windowCenter=40",
             "&frameNumber=1,2"}) {
        BOOST_TEST_CONTEXT(bad) {
            auto message = jsonErrorMessage(f.get(q + bad), 400, "invalid-argument");
            BOOST_TEST(!message.empty());
        }
    }
    BOOST_TEST(jsonErrorMessage(f.get(q + "&rows=" + over + "&columns=1"), 400, "invalid-argument")
                   .find("1.." + max) != std::string::npos);
    // The same bound on WADO-RS /rendered.
    const std::string rendered =
        "/dicom-web/studies/" + kStudy + "/series/" + kSeriesNative + "/instances/" + sop + "/rendered";
    jsonErrorMessage(f.get(rendered + "?viewport=" + over + ",1", {{"Accept", "image/jpeg"}}), 400,
                     "invalid-argument");
    // Within the bound it renders.
    auto r = f.get(q + "&rows=64&columns=48&windowCenter=40&windowWidth=400&imageQuality=80");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Type") == "image/jpeg");
}

// Finding 10: WADO-URI UIDs are checked like WADO-RS path UIDs, before any TCIA call.
BOOST_AUTO_TEST_CASE(wado_uri_uids_are_validated_like_wado_rs) {
    auto& f = WebFixture::shared();
    const std::string sop = firstSop(kStudy, kSeriesNative);
    resetStats(f.emulator);
    auto message =
        jsonErrorMessage(f.get("/wado?requestType=WADO&contentType=application/dicom&studyUID=" + kStudy +
                               "&seriesUID=" + kSeriesNative + "&objectUID=1.2.3%27%20OR%201=1"),
                         400, "invalid-argument");
    BOOST_TEST(message.find("not a valid UID in objectUID") != std::string::npos, message);
    jsonErrorMessage(
        f.get("/wado?requestType=WADO&studyUID=abc&seriesUID=" + kSeriesNative + "&objectUID=" + sop), 400,
        "invalid-argument");
    jsonErrorMessage(f.get("/wado?requestType=WADO&studyUID=" + kStudy +
                           "&seriesUID=" + std::string(65, '1') + "&objectUID=" + sop),
                     400, "invalid-argument");
    BOOST_TEST(endpointCount(f.emulator, "getSeries") == 0);
    BOOST_TEST(endpointCount(f.emulator, "getImage") == 0);
}

// Finding 5: a frame list is bounded, never longer than the instance's frames, and streamed.
BOOST_AUTO_TEST_CASE(frame_list_is_bounded_and_streamed) {
    auto& f = WebFixture::shared();
    const std::string sop = firstSop(kStudyMultiframe, kSeriesMultiframe);
    const std::string base = "/dicom-web/studies/" + kStudyMultiframe + "/series/" + kSeriesMultiframe +
                             "/instances/" + sop + "/frames/";
    const std::map<std::string, std::string> accept{
        {"Accept", "multipart/related; type=application/octet-stream"}};
    // The amplification of the finding: one frame listed over and over.
    auto message = jsonErrorMessage(f.get(base + "1,1,1,1,1,1,1,1,1", accept), 400, "invalid-argument");
    BOOST_TEST(message.find("longer than the instance's 8 frames") != std::string::npos, message);
    std::string thousands;
    for (std::size_t i = 0; i <= kMaxFramesPerRequest; ++i) thousands += i ? ",1" : "1";
    message = jsonErrorMessage(f.get(base + thousands, accept), 400, "invalid-argument");
    BOOST_TEST(message.find("frame list too long") != std::string::npos, message);

    // Repeats within the frame count are served, each part in order, as a chunked stream.
    auto r = f.get(base + "2,1,2", accept);
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Transfer-Encoding") == "chunked");
    BOOST_TEST(multipartPartCount(r) == 3u);
    BOOST_TEST(countOccurrences(r.body, "/frames/2\r\n") == 2u);
    r = f.get(base + "1,2,3,4,5,6,7,8", accept);
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(multipartPartCount(r) == 8u);
    // Out of range is still 404, before anything is sent.
    jsonErrorMessage(f.get(base + "1,9", accept), 404, "not-found");
}

// Finding 7: a body on GET is never parsed as a second request.
BOOST_AUTO_TEST_CASE(get_with_a_body_is_refused_and_the_connection_closed) {
    auto& f = WebFixture::shared();
    const std::string smuggled = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    RawSocket socket(f.server->port());
    BOOST_REQUIRE(socket.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                              std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled));
    bool closed = false;
    const std::string answer = socket.readUntilClosed(30s, closed);
    BOOST_TEST(closed);
    BOOST_TEST(countOccurrences(answer, "HTTP/1.1 ") == 1u, answer);
    BOOST_TEST(answer.rfind("HTTP/1.1 400", 0) == 0u, answer);
    BOOST_TEST(answer.find("Access-Control-Allow-Origin: *") != std::string::npos);
    BOOST_TEST(answer.find("\"error\":\"invalid-argument\"") != std::string::npos);

    // A chunked body is refused the same way.
    RawSocket chunked(f.server->port());
    BOOST_REQUIRE(
        chunked.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
                     [&] {
                         std::ostringstream hex;
                         hex << std::hex << smuggled.size();
                         return hex.str();
                     }() +
                     "\r\n" + smuggled + "\r\n0\r\n\r\n"));
    const std::string second = chunked.readUntilClosed(30s, closed);
    BOOST_TEST(closed);
    BOOST_TEST(countOccurrences(second, "HTTP/1.1 ") == 1u, second);

    // A write with a body gets its 405 and the connection closes: the body is never a request.
    RawSocket post(f.server->port());
    BOOST_REQUIRE(post.send("POST /dicom-web/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                            std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled));
    const std::string third = post.readUntilClosed(30s, closed);
    BOOST_TEST(closed);
    BOOST_TEST(countOccurrences(third, "HTTP/1.1 ") == 1u, third);
    BOOST_TEST(third.rfind("HTTP/1.1 405", 0) == 0u, third);

    // Keep-alive without bodies still works: two requests, two answers.
    RawSocket keepAlive(f.server->port());
    BOOST_REQUIRE(
        keepAlive.send(smuggled + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    const std::string fourth = keepAlive.readUntilClosed(30s, closed);
    BOOST_TEST(countOccurrences(fourth, "HTTP/1.1 200") == 2u, fourth);
}

BOOST_AUTO_TEST_SUITE_END()

// Finding 3: trickling clients. A second server over the same core with small pools and short
// deadlines, so the test is quick; the tricklers come from 127.0.0.2, the honest client from
// 127.0.0.1.
namespace {

struct SmallServer {
    std::unique_ptr<web::DicomWebServer> server;
    explicit SmallServer(int maxPerClient, std::chrono::seconds headerTimeout) {
        auto& f = WebFixture::shared();
        WebSettings s = f.config.web;
        s.port = 0;
        s.maxThreads = 2;
        s.maxQueued = 2;
        s.maxConnectionsPerClient = maxPerClient;
        s.headerTimeout = headerTimeout;
        server = std::make_unique<web::DicomWebServer>(*f.services->query, *f.services->retrieve,
                                                       web::ScopeResolver{}, nullptr, s);
        server->start();
    }
    unsigned short port() const { return server->port(); }
};

/// GET /health on a fresh connection with a 5 s socket timeout; the status, or 0 on failure.
int healthStatus(unsigned short port, std::chrono::milliseconds& took) {
    const auto start = std::chrono::steady_clock::now();
    int status = 0;
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", port);
        session.setTimeout(Poco::Timespan(5, 0));
        Poco::Net::HTTPRequest request("GET", "/health", Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::string body;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
        status = response.getStatus();
    } catch (const Poco::Exception&) {
        status = 0;
    }
    took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return status;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(WebSlowClients)

BOOST_AUTO_TEST_CASE(trickling_clients_cannot_starve_others) {
    // Pool: maxThreads 2 + maxQueued 2 + 2 = 6 threads; 40 tricklers would hold all of them.
    SmallServer small(/*maxPerClient=*/3, /*headerTimeout=*/std::chrono::seconds(30));
    constexpr int kTricklers = 40;
    std::vector<std::unique_ptr<RawSocket>> tricklers;
    for (int i = 0; i < kTricklers; ++i) {
        try {
            tricklers.push_back(std::make_unique<RawSocket>(small.port(), "127.0.0.2"));
        } catch (const std::exception&) {
            // A refused connect is fine: the point is that they cannot hold the server.
        }
    }
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
        // One header byte per socket every 200 ms, for at most 20 s (never a full header).
        const std::string header =
            "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        const auto until = std::chrono::steady_clock::now() + 20s;
        for (std::size_t at = 0; !stop && std::chrono::steady_clock::now() < until;
             at = (at + 1) % header.size()) {
            for (auto& t : tricklers) t->send(header.substr(at, 1));
            for (int i = 0; i < 4 && !stop; ++i) std::this_thread::sleep_for(50ms);
        }
    });
    // Let the tricklers take what they can, then an honest client must still be answered fast,
    // again and again (the trickle thread keeps going meanwhile).
    std::this_thread::sleep_for(1s);
    int answered = 0;
    std::chrono::milliseconds worst{0};
    for (int i = 0; i < 5; ++i) {
        std::chrono::milliseconds took{0};
        if (healthStatus(small.port(), took) == 200) ++answered;
        worst = std::max(worst, took);
    }
    stop = true;
    trickle.join();
    BOOST_TEST(answered == 5);
    BOOST_TEST(worst.count() < 5000, "slowest /health took " << worst.count() << " ms");
}

BOOST_AUTO_TEST_CASE(a_trickled_header_is_dropped_at_its_deadline) {
    SmallServer small(/*maxPerClient=*/8, /*headerTimeout=*/std::chrono::seconds(2));
    RawSocket slow(small.port(), "127.0.0.2");
    const auto start = std::chrono::steady_clock::now();
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
        // One byte every 250 ms: each read succeeds well within Poco's 60 s per-read timeout.
        const std::string header =
            "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        for (std::size_t at = 0; !stop && at < header.size(); ++at) {
            if (!slow.send(header.substr(at, 1))) break;
            for (int i = 0; i < 5 && !stop; ++i) std::this_thread::sleep_for(50ms);
        }
    });
    // Poll for the drop with a generous deadline (header timeout 2 s; the trickle would last 25 s).
    const bool closed = slow.closedWithin(20s);
    const auto after =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    stop = true;
    trickle.join();
    BOOST_TEST(closed, "the trickling connection was still open after 20 s");
    BOOST_TEST(after.count() >= 1500, "dropped after " << after.count() << " ms, before its deadline");

    // A whole header sent at once on a fresh connection is answered as usual.
    std::chrono::milliseconds took{0};
    BOOST_TEST(healthStatus(small.port(), took) == 200);
}

BOOST_AUTO_TEST_CASE(connections_beyond_the_per_client_cap_get_503_json) {
    SmallServer small(/*maxPerClient=*/2, /*headerTimeout=*/std::chrono::seconds(30));
    // Idle connections a and b take both slots of 127.0.0.2, one after the other: pool threads
    // admit in any order, so a third connection opened before both are admitted could take a
    // slot in their place. Poll the guard's gauge (no fixed sleep).
    auto admittedWithin = [&](int expected) {
        const auto until = std::chrono::steady_clock::now() + 10s;
        while (small.server->admittedConnections() < expected && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(10ms);
        return small.server->admittedConnections() == expected;
    };
    RawSocket a(small.port(), "127.0.0.2");
    BOOST_REQUIRE(admittedWithin(1));
    RawSocket b(small.port(), "127.0.0.2");
    BOOST_REQUIRE(admittedWithin(2));
    RawSocket c(small.port(), "127.0.0.2");
    bool closed = false;
    const std::string answer = c.readUntilClosed(10s, closed);
    BOOST_TEST(closed);
    BOOST_TEST(answer.rfind("HTTP/1.1 503", 0) == 0u, answer);
    BOOST_TEST(answer.find("\"error\":\"overloaded\"") != std::string::npos, answer);
    BOOST_TEST(answer.find("Access-Control-Allow-Origin: *") != std::string::npos, answer);
    // A whole HTTP answer a client library can read: reason, Retry-After, close, exact length.
    std::istringstream in(answer);
    Poco::Net::HTTPResponse head;
    BOOST_CHECK_NO_THROW(head.read(in));
    BOOST_TEST(head.getStatus() == Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
    BOOST_TEST(head.getReason() == "Service Unavailable");
    BOOST_TEST(head.get("Retry-After", "") == "1");
    BOOST_TEST(!head.getKeepAlive());
    const std::string body(std::istreambuf_iterator<char>(in), {});
    BOOST_TEST(head.getContentLength64() == static_cast<Poco::Int64>(body.size()), answer);
    BOOST_TEST(body.rfind("{\"error\":\"overloaded\",\"message\":", 0) == 0u, body);
    // Another client address is not affected.
    std::chrono::milliseconds took{0};
    BOOST_TEST(healthStatus(small.port(), took) == 200);
}

BOOST_AUTO_TEST_SUITE_END()
