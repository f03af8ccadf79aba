#include "web/MultipartWriter.h"

#include <Poco/Net/MediaType.h>
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

// The wire bytes, pinned: the same before and after the writer moved onto Poco's.
BOOST_AUTO_TEST_CASE(wire_format_is_pinned) {
    std::ostringstream out;
    MultipartWriter writer(out, "b0undary");
    writer.writePart("application/dicom", "AB", 2, {{"Content-Location", "http://h/1"}});
    writer.writePart("application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1", "", 0);
    writer.finish();
    BOOST_TEST(out.str() ==
               "--b0undary\r\nContent-Type: application/dicom\r\nContent-Length: 2\r\nContent-Location: http://h/1\r\n\r\nAB"
               "\r\n--b0undary\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1\r\n"
               "Content-Length: 0\r\n\r\n\r\n--b0undary--\r\n");
}

BOOST_AUTO_TEST_CASE(empty_body_is_just_the_closing_delimiter) {
    std::ostringstream out;
    MultipartWriter writer(out, "x");
    writer.finish();
    BOOST_TEST(out.str() == "--x--\r\n");
    BOOST_CHECK_THROW(writer.writePart("application/dicom", "A", 1), std::exception);
}

// RFC 2046 5.1.1: 1..70 characters. Row per length; Orthanc #165 (viewers choke on longer).
BOOST_AUTO_TEST_CASE(boundary_length_table) {
    struct Row {
        std::size_t length;
        bool accepted;
    };
    const Row rows[] = {{0, false}, {1, true}, {32, true}, {69, true}, {70, true}, {71, false}, {200, false}};
    for (const auto& row : rows) {
        std::ostringstream out;
        bool accepted = true;
        try {
            MultipartWriter writer(out, std::string(row.length, 'b'));
        } catch (const std::exception&) {
            accepted = false;
        }
        BOOST_TEST(accepted == row.accepted, "boundary of " << row.length << " characters");
    }
}

// The response Content-Type parses back (quoted `type=`, the boundary unquoted and <= 70).
BOOST_AUTO_TEST_CASE(content_type_parses_back) {
    const char* partTypes[] = {"application/dicom", "application/octet-stream", "image/jls",
                               "application/dicom; transfer-syntax=1.2.840.10008.1.2.4.80"};
    for (const char* partType : partTypes) {
        std::ostringstream out;
        const std::string boundary = MultipartWriter::makeBoundary();
        BOOST_TEST(!boundary.empty());
        BOOST_TEST(boundary.size() <= 70u);
        MultipartWriter writer(out, boundary);
        const std::string contentType = writer.contentType(partType);
        BOOST_TEST(contentType == "multipart/related; type=\"" + std::string(partType) + "\"; boundary=" + boundary);
        Poco::Net::MediaType parsed(contentType);
        BOOST_TEST(parsed.getParameter("type") == partType);
        BOOST_TEST(parsed.getParameter("boundary") == boundary);
    }
}

BOOST_AUTO_TEST_SUITE_END()
