#include "web/MultipartWriter.h"

#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace bridge::web;

BOOST_AUTO_TEST_SUITE(MultipartWriterTest)

BOOST_AUTO_TEST_CASE(parts_round_trip_through_poco_reader) {
    std::ostringstream out;
    const std::string boundary = MultipartWriter::makeBoundary();
    BOOST_TEST(boundary.size() <= 70u);
    MultipartWriter writer(out, boundary);
    // Binary payloads, including CRLF and "--" sequences that must not confuse the reader.
    const std::string a("\x00\x01\r\n--not-a-boundary\r\n\xff", 24);
    const std::string b(1000, 'x');
    writer.writePart("application/dicom; transfer-syntax=1.2.840.10008.1.2.1", a.data(), a.size(), {{"Content-Location", "http://h/x"}});
    writer.writePart("application/dicom", b.data(), b.size());
    writer.finish();
    writer.finish();  // idempotent
    BOOST_TEST(writer.partCount() == 2u);
    BOOST_TEST(writer.contentType("application/dicom") == "multipart/related; type=\"application/dicom\"; boundary=" + boundary);

    std::istringstream in(out.str());
    Poco::Net::MultipartReader reader(in, boundary);
    std::vector<std::string> bodies;
    std::vector<std::string> types;
    while (reader.hasNextPart()) {
        Poco::Net::MessageHeader header;
        reader.nextPart(header);
        std::string body;
        Poco::StreamCopier::copyToString(reader.stream(), body);
        bodies.push_back(body);
        types.push_back(header.get("Content-Type"));
    }
    BOOST_REQUIRE_EQUAL(bodies.size(), 2u);
    BOOST_TEST(bodies[0] == a);
    BOOST_TEST(bodies[1] == b);
    BOOST_TEST(types[0] == "application/dicom; transfer-syntax=1.2.840.10008.1.2.1");
    BOOST_TEST(out.str().substr(out.str().size() - boundary.size() - 6) == "--" + boundary + "--\r\n");
}

BOOST_AUTO_TEST_CASE(boundary_length_is_enforced) {
    std::ostringstream out;
    BOOST_CHECK_THROW(MultipartWriter(out, std::string(71, 'a')), std::exception);
    BOOST_CHECK_THROW(MultipartWriter(out, ""), std::exception);
    BOOST_CHECK_NO_THROW(MultipartWriter(out, std::string(70, 'a')));
}

BOOST_AUTO_TEST_CASE(boundaries_differ) { BOOST_TEST(MultipartWriter::makeBoundary() != MultipartWriter::makeBoundary()); }

BOOST_AUTO_TEST_SUITE_END()
