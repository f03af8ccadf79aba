// HttpTransport::getBytes on a real socket (FakeTciaServer): the body lands in the caller's vector
// whole -- fixed-length and chunked -- on a kept-alive connection; a body cut by the connection is
// a failed attempt, retried; one larger than the bound (declared or read) is refused at once and
// not retried; any other status leaves the bytes alone and answers like get().
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "FakeTciaServer.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/HttpTransport.h"
#include "tests/support/ErrorCodeOf.h"

using namespace bridge;
using namespace bridge::tcia;
using namespace bridge::test;

namespace {

std::string patternBody(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
    return s;
}

std::vector<std::uint8_t> bytesOf(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(GetBytes)

BOOST_AUTO_TEST_CASE(fixed_length_and_chunked_bodies_arrive_whole_on_one_connection) {
    const std::string body = patternBody(3'000'001);
    FakeTciaServer server([&](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) {
        if (req.getURI() == "/chunked") resp.setChunkedTransferEncoding(true);
        else resp.setContentLength64(static_cast<Poco::Int64>(body.size()));
        resp.send().write(body.data(), static_cast<std::streamsize>(body.size()));
    });
    HttpTransport http(settingsFor(server));
    std::vector<std::uint8_t> bytes{1, 2, 3};  // replaced, not appended to
    for (const char* path : {"/fixed", "/chunked", "/fixed"}) {
        BOOST_TEST_CONTEXT(path) {
            const HttpResponse r = http.getBytes(server.url(path), {}, bytes, 4'000'000);
            BOOST_TEST(r.status == 200);
            BOOST_TEST(r.body.empty());
            BOOST_TEST((bytes == bytesOf(body)));
        }
    }
    BOOST_TEST(server.totalConnections() == 1);  // kept alive, also after the chunked body
}

BOOST_AUTO_TEST_CASE(a_cut_body_is_retried_and_arrives_whole) {
    const std::string body = patternBody(500'000);
    std::atomic<int> requests{0};
    FakeTciaServer server([&](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp) {
        resp.setContentLength64(static_cast<Poco::Int64>(body.size()));
        if (requests++ == 0) {  // half the declared body, then the connection closes
            resp.setKeepAlive(false);
            resp.send().write(body.data(), static_cast<std::streamsize>(body.size() / 2));
            return;
        }
        resp.send().write(body.data(), static_cast<std::streamsize>(body.size()));
    });
    HttpTransport http(settingsFor(server));
    std::vector<std::uint8_t> bytes;
    const HttpResponse r = http.getBytes(server.url("/object"), {}, bytes, 1'000'000);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.retries == 1);
    BOOST_TEST(requests.load() == 2);
    BOOST_TEST((bytes == bytesOf(body)));
}

BOOST_AUTO_TEST_CASE(a_body_beyond_the_bound_is_refused_once_declared_or_read) {
    const std::string body = patternBody(200'000);
    std::atomic<int> requests{0};
    FakeTciaServer server([&](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) {
        ++requests;
        if (req.getURI() == "/chunked") resp.setChunkedTransferEncoding(true);
        else resp.setContentLength64(static_cast<Poco::Int64>(body.size()));
        resp.send().write(body.data(), static_cast<std::streamsize>(body.size()));
    });
    HttpTransport http(settingsFor(server));
    for (const char* path : {"/declared", "/chunked"}) {
        BOOST_TEST_CONTEXT(path) {
            requests = 0;
            std::vector<std::uint8_t> bytes;
            BOOST_TEST((thrownCode([&] { http.getBytes(server.url(path), {}, bytes, 100'000); }) ==
                        ErrorCode::UpstreamBadResponse));
            BOOST_TEST(requests.load() == 1);  // not retried: the same answer would come again
            BOOST_TEST(bytes.size() <= 100'000u + (1u << 20));  // never the whole body buffered
        }
    }
}

BOOST_AUTO_TEST_CASE(a_declared_length_is_not_allocated_before_the_bytes_arrive) {
    // 64 MiB declared (within the bound), 10 bytes sent, connection closed: a cut body, retried
    // and then failed -- with at most the first 16 MiB ever reserved, not the declared 64.
    FakeTciaServer server([&](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp) {
        resp.setContentLength64(64ll << 20);
        resp.setKeepAlive(false);
        resp.send() << "0123456789";
    });
    HttpTransport http(settingsFor(server));
    std::vector<std::uint8_t> bytes;
    BOOST_TEST((thrownCode([&] { http.getBytes(server.url("/liar"), {}, bytes, 128ull << 20); }) ==
                ErrorCode::UpstreamUnavailable));
    BOOST_TEST(bytes.capacity() <= (16u << 20));
}

BOOST_AUTO_TEST_CASE(another_status_answers_like_get_and_leaves_the_bytes_alone) {
    FakeTciaServer server([&](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp) {
        resp.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
        resp.setContentType("application/xml");
        resp.send() << "<Error><Code>NoSuchKey</Code></Error>";
    });
    HttpTransport http(settingsFor(server));
    std::vector<std::uint8_t> bytes{7};
    const HttpResponse r = http.getBytes(server.url("/missing"), {}, bytes, 1000);
    BOOST_TEST(r.status == 404);
    BOOST_TEST(r.body.find("NoSuchKey") != std::string::npos);
    BOOST_TEST((bytes == std::vector<std::uint8_t>{7}));
}

// Issue 12: a fixed-length body is read from the socket straight into the caller's vector, which
// is not cleared first (a recycled buffer costs no zero-fill): whatever it held before -- larger,
// smaller, junk -- the result is exactly the body, also for bodies small enough to arrive in the
// same read as the header, one after another on one kept-alive connection.
BOOST_AUTO_TEST_CASE(a_reused_buffer_holds_exactly_each_body) {
    std::map<std::string, std::string> bodies{
        {"/tiny", "x"}, {"/small", patternBody(3000)}, {"/large", patternBody(700'001)}, {"/empty", ""}};
    FakeTciaServer server([&](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) {
        const std::string& body = bodies.at(req.getURI());
        resp.setContentLength64(static_cast<Poco::Int64>(body.size()));
        resp.send().write(body.data(), static_cast<std::streamsize>(body.size()));
    });
    HttpTransport http(settingsFor(server));
    std::vector<std::uint8_t> bytes(1'000'000, 0xEE);  // a recycled buffer, larger than every body
    for (const char* path : {"/large", "/small", "/tiny", "/large", "/empty", "/large", "/large", "/small"}) {
        BOOST_TEST_CONTEXT(path) {
            const HttpResponse r = http.getBytes(server.url(path), {}, bytes, 1'000'000);
            BOOST_TEST(r.status == 200);
            BOOST_TEST((bytes == bytesOf(bodies.at(path))));
        }
    }
    BOOST_TEST(server.totalConnections() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
