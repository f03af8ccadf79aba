// WADO-RS instances leave as they arrive: with the emulator spreading a series download over
// ~2 s, the first multipart part reaches the client long before the last.
#include "WebFixture.h"

#include <boost/test/unit_test.hpp>

#include <chrono>

using namespace bridge::test;

BOOST_AUTO_TEST_CASE(first_part_leaves_before_the_series_download_ends) {
    auto& f = WebFixture::shared();
    // TCGA-DM-0002's 12-instance CT series; no other test touches it, so it is not cached.
    const std::string study = "1.2.826.0.1.3680043.10.1234.1.3";
    const std::string series = "1.2.826.0.1.3680043.10.1234.2.5";
    auto fault = httpRequest(f.emulator.port(), "POST", "/emulator/faults?spec=getImage:slow:1:delay-ms=2400");
    BOOST_REQUIRE_EQUAL(fault.status / 100, 2);

    const auto start = std::chrono::steady_clock::now();
    Poco::Net::HTTPClientSession session("127.0.0.1", f.server->port());
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request("GET", "/dicom-web/studies/" + study + "/series/" + series, Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Accept", "multipart/related; type=\"application/dicom\"");
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    auto& in = session.receiveResponse(response);
    BOOST_REQUIRE_EQUAL(response.getStatus(), 200);
    const std::string contentType = response.getContentType();
    const std::string boundary = "--" + contentType.substr(contentType.find("boundary=") + 9);

    std::string body;
    char buffer[4096];
    double firstPartSeconds = -1;
    std::size_t delimiters = 0;
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        body.append(buffer, static_cast<std::size_t>(in.gcount()));
        // A part is complete when the next delimiter has arrived.
        if (firstPartSeconds < 0 && body.find(boundary, boundary.size()) != std::string::npos)
            firstPartSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (auto pos = body.find(boundary); pos != std::string::npos; pos = body.find(boundary, pos + 1)) ++delimiters;
    BOOST_TEST_MESSAGE("first part after " << firstPartSeconds << " s, all 12 after " << total << " s");
    BOOST_TEST(delimiters == 13u);  // 12 parts + the closing delimiter
    BOOST_TEST(total > 1.5);
    BOOST_TEST(firstPartSeconds >= 0);
    BOOST_TEST(firstPartSeconds < total / 2);
}
