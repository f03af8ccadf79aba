// Accept headers that broke other DICOMweb servers, parsed and negotiated: one row each, the
// whole parse rendered as "type{name=value,...}@q | ..." so any change of behaviour shows.
#include "web/AcceptParser.h"

#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>

using namespace bridge::web;

namespace {

std::string render(const std::vector<MediaRange>& ranges) {
    std::ostringstream out;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        if (i) out << " | ";
        out << ranges[i].mediaType << "{";
        bool first = true;
        for (const auto& [name, value] : ranges[i].parameters) {
            out << (first ? "" : ",") << name << "=" << value;
            first = false;
        }
        out << "}@" << ranges[i].quality;
    }
    return out.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(AcceptNegotiationTableTest)

BOOST_AUTO_TEST_CASE(parse_table) {
    struct Row {
        const char* header;
        const char* parsed;
        const char* why;
    };
    const Row rows[] = {
        {"", "*/*{}@1", "no Accept: anything"},
        {"   ", "*/*{}@1", "blank Accept: anything"},
        {" , ,", "", "only empty elements: nothing acceptable"},
        {"application/dicom+json, multipart/related; type=application/octet-stream; transfer-syntax=*",
         "application/dicom+json{}@1 | multipart/related{transfer-syntax=*,type=application/octet-stream}@1",
         "OHIF's combined metadata Accept (Orthanc ORT-DW 1.21 log)"},
        {"multipart/related; type=\"application/dicom\"; transfer-syntax=*",
         "multipart/related{transfer-syntax=*,type=application/dicom}@1", "dicomweb-client, quoted type="},
        {"multipart/related; type=application/dicom; transfer-syntax=*",
         "multipart/related{transfer-syntax=*,type=application/dicom}@1", "unquoted type="},
        {"multipart/related;type=\"application/octet-stream\";transfer-syntax=*",
         "multipart/related{transfer-syntax=*,type=application/octet-stream}@1", "no spaces"},
        {"MULTIPART/Related; TYPE=\"Application/DICOM\"; Transfer-Syntax=1.2.840.10008.1.2.4.80",
         "multipart/related{transfer-syntax=1.2.840.10008.1.2.4.80,type=application/dicom}@1",
         "names and type= lower-cased, other values keep their case"},
        {"multipart/related; type=application/octet-stream; transfer-syntax=*; transfer-syntax=1.2.840.10008.1.2.1",
         "multipart/related{transfer-syntax=*,type=application/octet-stream}@1", "OHIF #3990: a doubled parameter keeps the first"},
        {"multipart/related; type=\"application/dicom\"; x=\"a,b;c\", application/json",
         "multipart/related{type=application/dicom,x=a,b;c}@1 | application/json{}@1", "separators inside quotes"},
        {"image/png;q=0.5, image/jpeg;q=0.9, */*;q=0.1", "image/jpeg{}@0.9 | image/png{}@0.5 | */*{}@0.1", "q-values sort"},
        {"a/x;q=0.5, b/y;q=0.5, c/z", "c/z{}@1 | a/x{}@0.5 | b/y{}@0.5", "equal q keeps header order"},
        {"image/png;q=0, image/jpeg", "image/jpeg{}@1", "q=0 is refused"},
        {"image/png;q=abc, image/jpeg", "image/jpeg{}@1", "unreadable q is refused"},
        {"image/png;q=2", "image/png{}@1", "q above 1 counts as 1"},
        {"image/png; q=\"0.5\"", "image/png{}@0.5", "quoted q"},
        {"application/json; charset; q=0.7", "application/json{}@0.7", "a parameter without = is skipped"},
        {"\tapplication/json ;\tq=0.4 ", "application/json{}@0.4", "tabs and spaces around elements"},
        {"multipart/related ; type = \"application/dicom\" ; q = 0.5", "multipart/related{type=application/dicom}@0.5",
         "spaces around = and ;"},
        {"a/b, ,c/d", "a/b{}@1 | c/d{}@1", "an empty element between two is skipped"},
        {"a/b; =v; x=2", "a/b{x=2}@1", "a parameter without a name is skipped"},
        {"a/b; type=; type=c/d", "a/b{type=c/d}@1", "an empty parameter counts as absent"},
        {"*; q=0.1", "*{}@0.1", "a bare * (old Java clients)"},
        {"image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
         "image/avif{}@1 | image/webp{}@1 | image/apng{}@1 | image/svg+xml{}@1 | image/*{}@1 | */*{}@0.8",
         "Chromium's image Accept"},
        {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
         "text/html{}@1 | application/xhtml+xml{}@1 | application/xml{}@0.9 | */*{}@0.8", "a browser's page Accept"},
    };
    for (const auto& row : rows) BOOST_TEST(render(parseAccept(row.header)) == row.parsed, row.why << ": [" << row.header << "]");
}

// RFC 9110 5.6.4 quoted-pair: Poco's splitter drops the backslash, so the escaped quote ends the
// string and the rest of the element (here "; q=0.5") joins the value: the one input the old
// hand-written splitter read better. No DICOMweb client sends one; the element still parses
// with its media type, the next element is untouched, and nothing throws.
BOOST_AUTO_TEST_CASE(escaped_quote_degrades_gracefully) {
    const auto ranges = parseAccept("image/png; x=\"a\\\"b\"; q=0.5, image/jpeg; q=0.9");
    BOOST_REQUIRE_EQUAL(ranges.size(), 2u);
    BOOST_TEST(ranges[0].mediaType == "image/png");
    BOOST_TEST(ranges[0].parameter("x").rfind("a", 0) == 0u);
    BOOST_TEST(ranges[1].mediaType == "image/jpeg");
    BOOST_TEST(ranges[1].quality == 0.9);
}

BOOST_AUTO_TEST_CASE(negotiation_table) {
    struct Row {
        const char* header;
        bool json;                ///< acceptsDicomJson
        const char* instance;     ///< first acceptable instance type "type ts multipart|single", "" = none
        const char* frame;        ///< first acceptable frame type, same form
        const char* rendered;     ///< negotiateRenderedType, "" = none
    };
    const Row rows[] = {
        {"application/dicom+json, multipart/related; type=application/octet-stream; transfer-syntax=*", true,
         "", "application/octet-stream * multipart", ""},
        {"multipart/related; type=\"application/dicom\"", false, "application/dicom * multipart",
         "application/dicom * multipart", ""},
        {"multipart/related; type=application/dicom", false, "application/dicom * multipart",
         "application/dicom * multipart", ""},
        {"multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.1", false,
         "application/dicom 1.2.840.10008.1.2.1 multipart", "application/dicom 1.2.840.10008.1.2.1 multipart", ""},
        {"multipart/related; type=\"image/jls\"; transfer-syntax=1.2.840.10008.1.2.4.80", false, "",
         "image/jls 1.2.840.10008.1.2.4.80 multipart", ""},
        {"multipart/related", false, "application/dicom * multipart", "application/octet-stream 1.2.840.10008.1.2.1 multipart", ""},
        {"application/dicom", false, "application/dicom * single", "", ""},
        {"application/octet-stream", false, "", "application/octet-stream 1.2.840.10008.1.2.1 single", ""},
        {"image/jpeg", false, "", "image/jpeg * single", "image/jpeg"},
        {"*/*", true, "application/dicom * multipart", "application/octet-stream 1.2.840.10008.1.2.1 multipart", "image/jpeg"},
        {"", true, "application/dicom * multipart", "application/octet-stream 1.2.840.10008.1.2.1 multipart", "image/jpeg"},
        {"application/json", true, "", "", ""},
        {"image/png, image/jpeg;q=0.5", false, "", "image/png * single", "image/png"},
        {"multipart/related; type=\"application/dicom\"; q=0", false, "", "", ""},
    };
    auto first = [](const std::vector<AcceptableRepresentation>& types) {
        return types.empty() ? std::string()
                             : types[0].mediaType + " " + types[0].transferSyntax + (types[0].multipart ? " multipart" : " single");
    };
    for (const auto& row : rows) {
        const auto ranges = parseAccept(row.header);
        BOOST_TEST(acceptsDicomJson(ranges) == row.json, row.header);
        BOOST_TEST(first(acceptableInstanceTypes(ranges)) == row.instance, row.header);
        BOOST_TEST(first(acceptableFrameTypes(ranges)) == row.frame, row.header);
        BOOST_TEST(negotiateRenderedType(ranges).value_or("") == row.rendered, row.header);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(AcceptEncodingTableTest)

BOOST_AUTO_TEST_CASE(gzip_table) {
    struct Row {
        const char* header;
        bool gzip;
        const char* why;
    };
    const Row rows[] = {
        {"", false, "none"},
        {"gzip", true, "curl --compressed sends gzip, deflate"},
        {"gzip, deflate, br, zstd", true, "Chromium"},
        {"GZIP", true, "any case"},
        {"deflate, gzip;q=0.5", true, "a q above 0"},
        {"gzip;q=0", false, "q=0 refuses"},
        {"gzip; q=0.0, deflate", false, "q=0.0 with spaces"},
        {"identity", false, "identity only"},
        {"x-gzip", true, "RFC 9110 8.4.1.3: x-gzip is gzip"},
        {"br;q=1, gzip;q=0.001", true, "a small q is still a yes"},
        {"*", false, "a wildcard does not ask for gzip"},
    };
    for (const auto& row : rows) BOOST_TEST(acceptsGzipEncoding(row.header) == row.gzip, row.why << ": [" << row.header << "]");
}

BOOST_AUTO_TEST_SUITE_END()
