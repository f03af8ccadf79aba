#include "web/AcceptParser.h"

#include <boost/test/unit_test.hpp>

using namespace bridge::web;

BOOST_AUTO_TEST_SUITE(AcceptParserTest)

BOOST_AUTO_TEST_CASE(ohif_combined_metadata_header) {
    // Logged by Orthanc from OHIF (ORT-DW 1.21).
    auto r = parseAccept("application/dicom+json, multipart/related; type=application/octet-stream; transfer-syntax=*");
    BOOST_REQUIRE_EQUAL(r.size(), 2u);
    BOOST_TEST(acceptsDicomJson(r));
    BOOST_TEST(r[1].parameter("type") == "application/octet-stream");
    BOOST_TEST(r[1].parameter("transfer-syntax") == "*");
}

BOOST_AUTO_TEST_CASE(frame_accept_table) {
    struct Row {
        std::string header;
        std::string firstType;
        std::string firstTs;
    };
    const Row rows[] = {
        {"multipart/related; type=\"application/octet-stream\"; transfer-syntax=*", "application/octet-stream", "*"},  // OHIF default
        {"multipart/related; type=application/octet-stream; transfer-syntax=*", "application/octet-stream", "*"},      // unquoted
        {"multipart/related; type=application/octet-stream; transfer-syntax=*; transfer-syntax=*", "application/octet-stream", "*"},  // OHIF #3990
        {"multipart/related; type=\"image/jls\"; transfer-syntax=1.2.840.10008.1.2.4.80", "image/jls", "1.2.840.10008.1.2.4.80"},
        {"multipart/related; type=\"application/octet-stream\"", "application/octet-stream", "1.2.840.10008.1.2.1"},
        {"multipart/related", "application/octet-stream", "1.2.840.10008.1.2.1"},
        {"*/*", "application/octet-stream", "1.2.840.10008.1.2.1"},
        {"", "application/octet-stream", "1.2.840.10008.1.2.1"},
        {"MULTIPART/RELATED; TYPE=\"Image/JLS\"; q=0.5, multipart/related; type=application/octet-stream; q=0.9",
         "application/octet-stream", "1.2.840.10008.1.2.1"},  // q ordering, case
    };
    for (const auto& row : rows) {
        auto types = acceptableFrameTypes(parseAccept(row.header));
        BOOST_REQUIRE_MESSAGE(!types.empty(), row.header);
        BOOST_TEST(types[0].mediaType == row.firstType, row.header);
        BOOST_TEST(types[0].transferSyntax == row.firstTs, row.header);
    }
}

BOOST_AUTO_TEST_CASE(instance_accept_table) {
    struct Row {
        std::string header;
        bool acceptable;
        std::string ts;
    };
    const Row rows[] = {
        {"multipart/related; type=\"application/dicom\"", true, "*"},
        {"multipart/related; type=application/dicom; transfer-syntax=1.2.840.10008.1.2.1", true, "1.2.840.10008.1.2.1"},
        {"multipart/related; type=\"application/dicom\"; transfer-syntax=*", true, "*"},
        {"*/*", true, "*"},
        {"application/dicom+json", false, ""},
        {"image/jpeg", false, ""},
        {"multipart/related; type=\"application/dicom\"; q=0", false, ""},
    };
    for (const auto& row : rows) {
        auto types = acceptableInstanceTypes(parseAccept(row.header));
        BOOST_TEST(!types.empty() == row.acceptable, row.header);
        if (row.acceptable && !types.empty()) BOOST_TEST(types[0].transferSyntax == row.ts, row.header);
    }
}

BOOST_AUTO_TEST_CASE(json_and_rendered) {
    BOOST_TEST(acceptsDicomJson(parseAccept("application/json")));
    BOOST_TEST(acceptsDicomJson(parseAccept("")));
    BOOST_TEST(acceptsDicomJson(parseAccept("application/*")));
    BOOST_TEST(!acceptsDicomJson(parseAccept("multipart/related; type=\"application/dicom\"")));
    BOOST_TEST(*negotiateRenderedType(parseAccept("image/png")) == "image/png");
    BOOST_TEST(*negotiateRenderedType(parseAccept("image/avif,image/webp,image/apng,image/*,*/*;q=0.8")) == "image/jpeg");
    BOOST_TEST(!negotiateRenderedType(parseAccept("application/dicom+json")).has_value());
}

BOOST_AUTO_TEST_CASE(quoted_commas_do_not_split) {
    auto r = parseAccept("multipart/related; type=\"application/dicom\"; x=\"a,b\", application/json");
    BOOST_REQUIRE_EQUAL(r.size(), 2u);
    BOOST_TEST(r[0].parameter("x") == "a,b");
}

BOOST_AUTO_TEST_CASE(transfer_syntax_media_types) {
    BOOST_TEST(mediaTypeForTransferSyntax("1.2.840.10008.1.2.4.80") == "image/jls");
    BOOST_TEST(mediaTypeForTransferSyntax("1.2.840.10008.1.2.4.50") == "image/jpeg");
    BOOST_TEST(mediaTypeForTransferSyntax("1.2.840.10008.1.2.4.90") == "image/jp2");
    BOOST_TEST(mediaTypeForTransferSyntax("1.2.840.10008.1.2.1").empty());
    BOOST_TEST(isNativeTransferSyntax("1.2.840.10008.1.2"));
    BOOST_TEST(!isNativeTransferSyntax("1.2.840.10008.1.2.5"));
}

BOOST_AUTO_TEST_SUITE_END()
