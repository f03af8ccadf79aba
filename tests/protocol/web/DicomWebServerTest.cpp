// Protocol ring: the real DicomWebServer on an ephemeral loopback port, over the real query
// core and the TCIA emulator, exercised with Poco's HTTP client.
#include "WebFixture.h"

#include "web/MetadataCache.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/MediaType.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>

#include <boost/test/unit_test.hpp>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>

#include <atomic>
#include <condition_variable>
#include <sstream>
#include <thread>

using namespace bridge;
using namespace bridge::test;

namespace {

const std::string kStudy = "1.2.826.0.1.3680043.10.1234.1.1";          // TCGA-DM-0001
const std::string kSeriesNative = "1.2.826.0.1.3680043.10.1234.2.1";   // 10 CT, explicit LE
const std::string kSeriesJpeg = "1.2.826.0.1.3680043.10.1234.2.2";     // 8 CT, JPEG lossless
const std::string kStudyMr = "1.2.826.0.1.3680043.10.1234.1.4";
const std::string kSeriesJls = "1.2.826.0.1.3680043.10.1234.2.7";      // 6 MR, JPEG-LS lossless
const std::string kStudyMultiframe = "1.2.826.0.1.3680043.10.1234.1.3";
const std::string kSeriesMultiframe = "1.2.826.0.1.3680043.10.1234.2.6";  // 1 OT, 8 frames
const std::string kRestrictedStudy = "1.2.826.0.1.3680043.10.1234.1.9";
const std::string kRestrictedSeries = "1.2.826.0.1.3680043.10.1234.2.13";

Poco::JSON::Array::Ptr jsonArray(const std::string& body) {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Array::Ptr>();
}
Poco::JSON::Object::Ptr jsonObject(const std::string& body) {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}
std::string firstString(Poco::JSON::Object::Ptr item, const std::string& tag) {
    return item->getObject(tag)->getArray("Value")->getElement<std::string>(0);
}

struct Part {
    std::string contentType;
    std::string body;
};
std::vector<Part> multipartParts(const HttpResult& r) {
    Poco::Net::MediaType type(r.header("Content-Type"));
    BOOST_REQUIRE_EQUAL(type.getType(), "multipart");
    BOOST_REQUIRE(type.hasParameter("boundary"));
    BOOST_TEST(type.getParameter("boundary").size() <= 70u);
    std::istringstream in(r.body);
    Poco::Net::MultipartReader reader(in, type.getParameter("boundary"));
    std::vector<Part> parts;
    while (reader.hasNextPart()) {
        Poco::Net::MessageHeader h;
        reader.nextPart(h);
        Part p;
        p.contentType = h.get("Content-Type", "");
        Poco::StreamCopier::copyToString(reader.stream(), p.body);
        parts.push_back(p);
    }
    return parts;
}

std::string sopOf(const std::string& part10) {
    DcmInputBufferStream in;
    in.setBuffer(part10.data(), part10.size());
    in.setEos();
    DcmFileFormat ff;
    ff.transferInit();
    BOOST_REQUIRE(ff.read(in).good());
    ff.transferEnd();
    OFString v;
    ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, v);
    return v.c_str();
}

void checkJsonError(const HttpResult& r, int status, const std::string& name) {
    BOOST_TEST(r.status == status);
    BOOST_TEST(r.header("Access-Control-Allow-Origin") == "*");  // CORS on errors too
    BOOST_TEST(r.header("Content-Type").find("application/json") == 0u);
    auto obj = jsonObject(r.body);
    BOOST_TEST(obj->getValue<std::string>("error") == name);
    BOOST_TEST(obj->getValue<int>("status") == status);
    BOOST_TEST(!obj->getValue<std::string>("message").empty());
}

// SOP Instance UIDs of a series through QIDO (sorted), so tests need no knowledge of the data.
std::string instanceSop(const std::string& study, const std::string& series, int index = 0) {
    auto r = WebFixture::shared().get("/dicom-web/studies/" + study + "/series/" + series + "/instances");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto arr = jsonArray(r.body);
    std::vector<std::string> sops;
    for (std::size_t i = 0; i < arr->size(); ++i) sops.push_back(firstString(arr->getObject(i), "00080018"));
    std::sort(sops.begin(), sops.end());
    return sops.at(index);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DicomWebServerTest)

BOOST_AUTO_TEST_CASE(qido_studies_by_patient_id_as_ohif_asks) {
    auto& f = WebFixture::shared();
    auto r = f.get("/dicom-web/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030,00080060,00080090,00100030&00100020=TCGA-DM-0001",
                   {{"Accept", "application/dicom+json"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Type") == "application/dicom+json");
    BOOST_TEST(r.header("Access-Control-Allow-Origin") == "*");
    BOOST_TEST(r.header("Cross-Origin-Resource-Policy") == "cross-origin");
    auto arr = jsonArray(r.body);
    BOOST_REQUIRE_EQUAL(arr->size(), 2u);  // TCGA-DM-0001 has two studies
    auto study = arr->getObject(0);
    BOOST_TEST(firstString(study, "00100020") == "TCGA-DM-0001");
    BOOST_TEST(study->getObject("00100010")->getArray("Value")->getObject(0)->has("Alphabetic"));
    const std::string uid = firstString(study, "0020000D");
    BOOST_TEST(firstString(study, "00081190") == "http://127.0.0.1:" + std::to_string(f.server->port()) + "/dicom-web/studies/" + uid);
    BOOST_TEST(study->getObject("00081190")->getValue<std::string>("vr") == "UR");
    BOOST_TEST(study->has("00081030"));  // includefield StudyDescription
    BOOST_TEST(!study->has("00080052"));  // no QueryRetrieveLevel in QIDO JSON
}

BOOST_AUTO_TEST_CASE(qido_nested_series_and_instances) {
    auto& f = WebFixture::shared();
    auto r = f.get("/dicom-web/studies/" + kStudy + "/series?includefield=00080021,00080031,0008103E,00200011");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto series = jsonArray(r.body);
    BOOST_REQUIRE_EQUAL(series->size(), 2u);
    for (std::size_t i = 0; i < series->size(); ++i) {
        auto s = series->getObject(i);
        BOOST_TEST(firstString(s, "0020000D") == kStudy);
        BOOST_TEST(s->getObject("00201209")->getArray("Value")->get(0).isInteger());  // NumberOfSeriesRelatedInstances: a number
        BOOST_TEST(s->getObject("00200011")->getValue<std::string>("vr") == "IS");
    }
    r = f.get("/dicom-web/studies/" + kStudy + "/series/" + kSeriesNative + "/instances");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto instances = jsonArray(r.body);
    BOOST_TEST(instances->size() == 10u);
    auto url = firstString(instances->getObject(0), "00081190");
    BOOST_TEST(url.find("/series/" + kSeriesNative + "/instances/") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(qido_fuzzymatching_and_limit) {
    auto& f = WebFixture::shared();
    // fuzzymatching=true: PN word-prefix, case-insensitive (Query::fuzzyMatching, Matcher.h).
    auto exact = f.get("/dicom-web/studies?PatientID=TCGA-DM-0001&PatientName=tcga");
    BOOST_REQUIRE_EQUAL(exact.status, 200);
    BOOST_TEST(jsonArray(exact.body)->size() == 0u);
    auto fuzzy = f.get("/dicom-web/studies?PatientID=TCGA-DM-0001&PatientName=tcga&fuzzymatching=true");
    BOOST_REQUIRE_EQUAL(fuzzy.status, 200);
    BOOST_TEST(jsonArray(fuzzy.body)->size() == 2u);
    // limit below the match count: one result and a Warning (PS3.18 8.3.4.4).
    auto limited = f.get("/dicom-web/studies?PatientID=TCGA-DM-0001&limit=1");
    BOOST_REQUIRE_EQUAL(limited.status, 200);
    BOOST_TEST(jsonArray(limited.body)->size() == 1u);
    BOOST_TEST(limited.header("Warning").find("299") == 0u);
    auto second = f.get("/dicom-web/studies?PatientID=TCGA-DM-0001&limit=1&offset=1");
    BOOST_TEST(jsonArray(second.body)->size() == 1u);
    BOOST_TEST(firstString(jsonArray(second.body)->getObject(0), "0020000D") !=
               firstString(jsonArray(limited.body)->getObject(0), "0020000D"));
}

BOOST_AUTO_TEST_CASE(qido_empty_result_is_200_empty_array) {
    auto r = WebFixture::shared().get("/dicom-web/studies?PatientID=NO-SUCH-PATIENT");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body == "[]");
}

BOOST_AUTO_TEST_CASE(qido_errors_are_json_with_cors) {
    auto& f = WebFixture::shared();
    checkJsonError(f.get("/dicom-web/studies?PatientNmae=x"), 400, "invalid-argument");
    checkJsonError(f.get("/dicom-web/studies?limit=abc&PatientID=x"), 400, "invalid-argument");
    checkJsonError(f.get("/dicom-web/studies?PatientID=x", {{"Accept", "image/png"}}), 406, "not-acceptable");
    checkJsonError(f.get("/dicom-web/nothing-here"), 404, "not-found");
    checkJsonError(f.get("/dicom-web/studies/not-a-uid/series"), 400, "invalid-argument");
    checkJsonError(f.get("/dicom-web/studies?PatientID=%zz"), 400, "invalid-argument");  // undecodable URI
    // Weasis's leading empty parameter is harmless.
    BOOST_TEST(f.get("/dicom-web/studies?&includefield=&PatientID=TCGA-DM-0002").status == 200);
}

BOOST_AUTO_TEST_CASE(options_preflight_and_stow_refused) {
    auto& f = WebFixture::shared();
    auto r = httpRequest(f.server->port(), "OPTIONS", "/dicom-web/studies",
                         {{"Origin", "http://viewer.example"}, {"Access-Control-Request-Method", "GET"},
                          {"Access-Control-Request-Headers", "accept, authorization"}});
    BOOST_TEST(r.status == 204);
    BOOST_TEST(r.header("Access-Control-Allow-Origin") == "*");
    BOOST_TEST(r.header("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);
    BOOST_TEST(r.header("Access-Control-Allow-Headers").find("Accept") != std::string::npos);
    auto post = httpRequest(f.server->port(), "POST", "/dicom-web/studies",
                            {{"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=x"}}, "--x--\r\n");
    checkJsonError(post, 405, "unsupported");
    BOOST_TEST(post.body.find("read-only") != std::string::npos);
    checkJsonError(httpRequest(f.server->port(), "DELETE", "/dicom-web/studies/1.2"), 405, "unsupported");
}

BOOST_AUTO_TEST_CASE(wado_rs_series_is_streamed_multipart_dicom) {
    auto& f = WebFixture::shared();
    auto r = f.get("/dicom-web/studies/" + kStudy + "/series/" + kSeriesNative,
                   {{"Accept", "multipart/related; type=\"application/dicom\"; transfer-syntax=*"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.response.getChunkedTransferEncoding());  // streamed as instances arrive
    auto parts = multipartParts(r);
    BOOST_REQUIRE_EQUAL(parts.size(), 10u);
    for (const auto& p : parts) {
        BOOST_TEST(p.contentType.find("application/dicom") == 0u);
        BOOST_TEST(sopOf(p.body).rfind("1.2.826.0.1.3680043.10.1234", 0) == 0u);
    }
}

BOOST_AUTO_TEST_CASE(wado_rs_transcodes_jpeg_to_explicit_little_endian) {
    auto& f = WebFixture::shared();
    const std::string sop = instanceSop(kStudy, kSeriesJpeg);
    auto r = f.get("/dicom-web/studies/" + kStudy + "/series/" + kSeriesJpeg + "/instances/" + sop,
                   {{"Accept", "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.1"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto parts = multipartParts(r);
    BOOST_REQUIRE_EQUAL(parts.size(), 1u);
    BOOST_TEST(parts[0].contentType == "application/dicom; transfer-syntax=1.2.840.10008.1.2.1");
    BOOST_TEST(sopOf(parts[0].body) == sop);
    // A compressed syntax the instance is not in cannot be produced.
    checkJsonError(f.get("/dicom-web/studies/" + kStudy + "/series/" + kSeriesJpeg + "/instances/" + sop,
                         {{"Accept", "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.80"}}),
                   406, "not-acceptable");
}

BOOST_AUTO_TEST_CASE(wado_rs_unknown_study_is_404) {
    checkJsonError(WebFixture::shared().get("/dicom-web/studies/1.2.3.999"), 404, "not-found");
}

BOOST_AUTO_TEST_CASE(series_metadata_full_attributes_bulkdata_and_cache) {
    auto& f = WebFixture::shared();
    const std::string uri = "/dicom-web/studies/" + kStudy + "/series/" + kSeriesJpeg + "/metadata";
    // OHIF's combined Accept header must be answered with DICOM JSON (ORT-DW 1.21).
    auto r = f.get(uri, {{"Accept", "application/dicom+json, multipart/related; type=application/octet-stream; transfer-syntax=*"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Type") == "application/dicom+json");
    auto arr = jsonArray(r.body);
    BOOST_REQUIRE_EQUAL(arr->size(), 8u);
    auto first = arr->getObject(0);
    for (const char* tag : {"00080016", "00200013", "00280010", "00280011", "00280100", "00280101", "00280102", "00280103",
                            "00280002", "00280004", "00280030", "00200032", "00200037", "00281052", "00281053"})
        BOOST_TEST(first->has(tag), "metadata lacks " << tag);
    BOOST_TEST(first->getObject("00280010")->getArray("Value")->get(0).isInteger());
    const std::string bulk = first->getObject("7FE00010")->getValue<std::string>("BulkDataURI");
    BOOST_TEST(bulk.find("http://127.0.0.1:" + std::to_string(f.server->port()) + "/dicom-web/studies/" + kStudy) == 0u);
    BOOST_TEST(bulk.find("/bulkdata/7FE00010") != std::string::npos);

    // Second time: from the gzip cache, and gzip on the wire when asked.
    auto hitsBefore = f.server->context().metadataCache.hits();
    auto gz = f.get(uri, {{"Accept", "application/dicom+json"}, {"Accept-Encoding", "gzip, deflate"}});
    BOOST_REQUIRE_EQUAL(gz.status, 200);
    BOOST_TEST(gz.header("Content-Encoding") == "gzip");
    BOOST_TEST(f.server->context().metadataCache.hits() == hitsBefore + 1);
    BOOST_TEST(web::MetadataCache::gunzip(gz.body) == r.body);

    // The bulk data URI works.
    auto pixels = f.get(bulk.substr(bulk.find("/dicom-web")), {{"Accept", "application/octet-stream"}});
    BOOST_REQUIRE_EQUAL(pixels.status, 200);
    const int rows = first->getObject("00280010")->getArray("Value")->getElement<int>(0);
    const int cols = first->getObject("00280011")->getArray("Value")->getElement<int>(0);
    BOOST_TEST(pixels.body.size() == static_cast<std::size_t>(rows * cols * 2));
}

BOOST_AUTO_TEST_CASE(qido_gzip_when_asked) {
    auto r = WebFixture::shared().get("/dicom-web/studies/" + kStudy + "/series/" + kSeriesNative + "/instances",
                                      {{"Accept-Encoding", "gzip"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Encoding") == "gzip");
    BOOST_TEST(jsonArray(web::MetadataCache::gunzip(r.body))->size() == 10u);
}

BOOST_AUTO_TEST_CASE(frames_octet_stream_and_compressed_passthrough) {
    auto& f = WebFixture::shared();
    const std::string sop = instanceSop(kStudyMr, kSeriesJls);
    const std::string base = "/dicom-web/studies/" + kStudyMr + "/series/" + kSeriesJls + "/instances/" + sop + "/frames/1";
    // OHIF's default: octet-stream, any syntax -> native little endian.
    auto r = f.get(base, {{"Accept", "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto parts = multipartParts(r);
    BOOST_REQUIRE_EQUAL(parts.size(), 1u);
    BOOST_TEST(parts[0].contentType == "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1");
    BOOST_TEST(parts[0].body.size() == 64u * 64u * 2u);
    // JPEG-LS as stored.
    r = f.get(base, {{"Accept", "multipart/related; type=\"image/jls\"; transfer-syntax=1.2.840.10008.1.2.4.80"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    parts = multipartParts(r);
    BOOST_REQUIRE_EQUAL(parts.size(), 1u);
    BOOST_TEST(parts[0].contentType == "image/jls; transfer-syntax=1.2.840.10008.1.2.4.80");
    BOOST_TEST(static_cast<unsigned char>(parts[0].body[0]) == 0xFF);
    BOOST_TEST(static_cast<unsigned char>(parts[0].body[1]) == 0xD8);
    BOOST_TEST(parts[0].body.size() < 64u * 64u * 2u);
    // Frames the instance does not have / a type it cannot give.
    checkJsonError(f.get(base.substr(0, base.size() - 1) + "2", {{"Accept", "multipart/related; type=application/octet-stream"}}), 404,
                   "not-found");
    checkJsonError(f.get(base, {{"Accept", "multipart/related; type=\"image/jp2\"; transfer-syntax=1.2.840.10008.1.2.4.90"}}), 406,
                   "not-acceptable");
}

BOOST_AUTO_TEST_CASE(multiframe_frame_list) {
    auto& f = WebFixture::shared();
    const std::string sop = instanceSop(kStudyMultiframe, kSeriesMultiframe);
    auto r = f.get("/dicom-web/studies/" + kStudyMultiframe + "/series/" + kSeriesMultiframe + "/instances/" + sop + "/frames/1,3,8",
                   {{"Accept", "multipart/related; type=application/octet-stream"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto parts = multipartParts(r);
    BOOST_REQUIRE_EQUAL(parts.size(), 3u);
    BOOST_TEST(parts[0].body.size() == parts[2].body.size());
    BOOST_TEST(parts[0].body != parts[2].body);
}

BOOST_AUTO_TEST_CASE(rendered_and_thumbnail) {
    auto& f = WebFixture::shared();
    const std::string series = "/dicom-web/studies/" + kStudy + "/series/" + kSeriesJpeg;
    auto r = f.get(series + "/thumbnail", {{"Accept", "image/jpeg"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Type") == "image/jpeg");
    BOOST_TEST(static_cast<unsigned char>(r.body[0]) == 0xFF);
    const std::string sop = instanceSop(kStudy, kSeriesJpeg);
    r = f.get(series + "/instances/" + sop + "/rendered?viewport=32,32&window=40,400", {{"Accept", "image/png"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.body.substr(1, 3) == "PNG");
    r = f.get(series + "/instances/" + sop + "/frames/1/rendered", {{"Accept", "image/*"}});
    BOOST_TEST(r.status == 200);
    r = f.get("/dicom-web/studies/" + kStudy + "/rendered", {{"Accept", "text/html,image/avif,*/*;q=0.8"}});
    BOOST_TEST(r.status == 200);
    checkJsonError(f.get(series + "/rendered", {{"Accept", "application/dicom+json"}}), 406, "not-acceptable");
    // An SR has no image: 406, and its metadata is still served (no PixelData).
    const std::string sr = "/dicom-web/studies/1.2.826.0.1.3680043.10.1234.1.2/series/1.2.826.0.1.3680043.10.1234.2.4";
    checkJsonError(f.get(sr + "/rendered", {{"Accept", "image/jpeg"}}), 406, "not-acceptable");
    auto srMeta = f.get(sr + "/metadata");
    BOOST_REQUIRE_EQUAL(srMeta.status, 200);
    BOOST_TEST(!jsonArray(srMeta.body)->getObject(0)->has("7FE00010"));
    BOOST_TEST(jsonArray(srMeta.body)->getObject(0)->has("0040A730"));  // ContentSequence as nested JSON
    checkJsonError(f.get(series + "/rendered?viewport=abc", {{"Accept", "image/jpeg"}}), 400, "invalid-argument");
}

BOOST_AUTO_TEST_CASE(wado_uri) {
    auto& f = WebFixture::shared();
    const std::string sop = instanceSop(kStudy, kSeriesNative, 2);
    const std::string q = "/wado?requestType=WADO&studyUID=" + kStudy + "&seriesUID=" + kSeriesNative + "&objectUID=" + sop;
    auto r = f.get(q + "&contentType=application/dicom");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Type") == "application/dicom");
    BOOST_TEST(sopOf(r.body) == sop);
    r = f.get(q);
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Type") == "image/jpeg");
    checkJsonError(f.get("/wado?requestType=WADO&studyUID=" + kStudy), 400, "invalid-argument");
}

BOOST_AUTO_TEST_CASE(restricted_collection_needs_a_granted_token) {
    auto& f = WebFixture::shared();
    const std::string uri = "/dicom-web/studies/" + kRestrictedStudy + "/series/" + kRestrictedSeries + "/metadata";
    checkJsonError(f.get(uri), 404, "not-found");
    checkJsonError(f.get(uri, {{"Authorization", "Bearer wrong"}}), 404, "not-found");
    auto ok = f.get(uri, {{"Authorization", "Bearer let-me-in"}});
    BOOST_TEST(ok.status == 200);
}

BOOST_AUTO_TEST_CASE(forwarded_headers_shape_urls) {
    auto& f = WebFixture::shared();
    auto r = f.get("/dicom-web/studies?PatientID=TCGA-DM-0002",
                   {{"X-Forwarded-Host", "pacs.example.org"}, {"X-Forwarded-Proto", "https"}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto url = firstString(jsonArray(r.body)->getObject(0), "00081190");
    BOOST_TEST(url.rfind("https://pacs.example.org/dicom-web/studies/", 0) == 0u);
    // BulkDataURIs too, even when the same series' metadata is cached for another host (OHIF #1602).
    const std::string meta = "/dicom-web/studies/" + kStudy + "/series/" + kSeriesNative + "/metadata";
    BOOST_REQUIRE_EQUAL(f.get(meta).status, 200);
    auto proxied = f.get(meta, {{"Forwarded", "for=10.0.0.9;host=viewer.example.net;proto=https"}});
    BOOST_REQUIRE_EQUAL(proxied.status, 200);
    auto bulk = jsonArray(proxied.body)->getObject(0)->getObject("7FE00010")->getValue<std::string>("BulkDataURI");
    BOOST_TEST(bulk.rfind("https://viewer.example.net/dicom-web/studies/" + kStudy, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(landing_page_health_and_collections) {
    auto& f = WebFixture::shared();
    auto page = f.get("/");
    BOOST_REQUIRE_EQUAL(page.status, 200);
    BOOST_TEST(page.header("Content-Type").find("text/html") == 0u);
    BOOST_TEST(page.body.find("TCGA-DEMO-CT") != std::string::npos);
    BOOST_TEST(page.body.find("https://doi.org/10.7937/TCIA.DEMO.CT01") != std::string::npos);
    BOOST_TEST(page.body.find("Creative Commons Attribution 3.0 Unported License") != std::string::npos);
    BOOST_TEST(page.body.find("data-usage-policies-and-restrictions") != std::string::npos);
    BOOST_TEST(page.body.find("Restricted-Demo") == std::string::npos);
    auto json = f.get("/collections");
    BOOST_REQUIRE_EQUAL(json.status, 200);
    auto obj = jsonObject(json.body);
    auto list = obj->getArray("collections");
    bool found = false;
    for (std::size_t i = 0; i < list->size(); ++i) {
        auto c = list->getObject(i);
        BOOST_TEST(c->getValue<std::string>("name") != "Restricted-Demo");
        if (c->getValue<std::string>("name") == "RIDER-Demo-MR") {
            found = true;
            BOOST_TEST(c->getValue<std::string>("licenseURI") == "https://creativecommons.org/licenses/by/4.0/");
        }
    }
    BOOST_TEST(found);
    // The granted caller sees the restricted collection on both pages.
    auto granted = f.get("/collections", {{"Authorization", "Bearer let-me-in"}});
    BOOST_TEST(granted.body.find("\"Restricted-Demo\"") != std::string::npos);
    BOOST_TEST(f.get("/", {{"Authorization", "Bearer let-me-in"}}).body.find("Restricted-Demo") != std::string::npos);
    auto health = f.get("/health");
    BOOST_TEST(health.status == 200);
    BOOST_TEST(jsonObject(health.body)->getValue<std::string>("status") == "ok");
}

BOOST_AUTO_TEST_CASE(head_requests_have_headers_only) {
    auto& f = WebFixture::shared();
    auto r = httpRequest(f.server->port(), "HEAD", "/dicom-web/studies/" + kStudy + "/series/" + kSeriesNative + "/metadata");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.header("Content-Type") == "application/dicom+json");
    BOOST_TEST(r.body.empty());
    BOOST_TEST(std::stoul(r.header("Content-Length")) > 1000u);
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests_on_one_connection) {
    auto& f = WebFixture::shared();
    Poco::Net::HTTPClientSession session("127.0.0.1", f.server->port());
    session.setKeepAlive(true);
    for (int i = 0; i < 3; ++i) {
        Poco::Net::HTTPRequest request("GET", "/health", Poco::Net::HTTPMessage::HTTP_1_1);
        request.setKeepAlive(true);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        auto& in = session.receiveResponse(response);
        std::string body;
        Poco::StreamCopier::copyToString(in, body);
        BOOST_TEST(response.getStatus() == 200);
        BOOST_TEST(response.getKeepAlive());
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// Overload: a query service that blocks until released, behind a server with one worker slot
// and no waiting room: the second concurrent request gets 503 JSON at once.
namespace {

class BlockingQueryService : public QueryService {
public:
    std::mutex mutex;
    std::condition_variable cv;
    bool released = false;
    std::atomic<int> entered{0};
    std::unique_ptr<FindCursor> find(const Query&, const RequestContext&) override {
        ++entered;
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return released; });
        struct Empty : FindCursor {
            std::optional<DicomRecord> next() override { return std::nullopt; }
            bool truncated() const override { return false; }
        };
        return std::make_unique<Empty>();
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(overload_answers_503_json) {
    BlockingQueryService query;
    auto& shared = WebFixture::shared();
    WebSettings settings;
    settings.port = 0;
    settings.maxThreads = 1;
    settings.maxQueued = 0;
    web::DicomWebServer server(query, *shared.services->retrieve, shared.services->access.get(), nullptr, settings);
    server.start();
    HttpResult first;
    std::thread t([&] { first = httpRequest(server.port(), "GET", "/dicom-web/studies?PatientID=x"); });
    for (int i = 0; i < 200 && query.entered == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    BOOST_REQUIRE(query.entered == 1);
    auto second = httpRequest(server.port(), "GET", "/dicom-web/studies?PatientID=y");
    checkJsonError(second, 503, "overloaded");
    {
        std::lock_guard<std::mutex> lock(query.mutex);
        query.released = true;
    }
    query.cv.notify_all();
    t.join();
    BOOST_TEST(first.status == 200);
    BOOST_TEST(server.context().gate.refused() == 1u);
    server.stop();
}
