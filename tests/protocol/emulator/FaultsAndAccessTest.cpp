// Fault injection, tokens, the admin endpoints and the synthetic catalog of the real
// `tcia-emulator serve`, driven over loopback HTTP.
#include "tests/protocol/emulator/HttpProbe.h"
#include "tests/support/TestSupport.h"
#include "tests/unit/emulator/ZipInspection.h"

#include <Poco/Net/NetException.h>
#include <Poco/Pipe.h>
#include <Poco/Process.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

using namespace emulator::test;
using bridge::test::EmulatorProcess;

namespace {

const std::string kRoot = "1.2.826.0.1.3680043.10.1234";
const std::string kCtSeries = kRoot + ".2.1";

std::string adminUrl(const EmulatorProcess& p, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(p.port()) + path;
}

std::string tokenUrl(const EmulatorProcess& p) { return adminUrl(p, "/nbia-api/oauth/token"); }

std::string field(const std::string& json, const std::string& key) {
    auto obj = parseOrdered(json).extract<Poco::JSON::Object::Ptr>();
    return obj->getValue<std::string>(key);
}

double seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(EmulatorFaultsAndAccess)

BOOST_AUTO_TEST_CASE(status_faults_count_down_per_endpoint) {
    EmulatorProcess emu({"--quiet", "--fault", "getSeries:500:1", "--fault", "getPatientStudy:429:2:retry-after=7",
                         "--fault", "getSeries:503:1"});
    const std::string series = emu.baseUrl("v4") + "/getSeries?PatientID=TCGA-DM-0001";
    auto a = http(series);
    BOOST_TEST(a.status == 500);
    a = http(series);
    BOOST_TEST(a.status == 503);
    BOOST_TEST(a.headers["Retry-After"] == "1");
    BOOST_TEST(http(series).status == 200);
    const std::string study = emu.baseUrl("v1") + "/getPatientStudy?PatientID=TCGA-DM-0001";
    for (int i = 0; i < 2; ++i) {
        a = http(study);
        BOOST_TEST(a.status == 429);
        BOOST_TEST(a.headers["Retry-After"] == "7");
    }
    BOOST_TEST(http(study).status == 200);
    // Other endpoints were never affected.
    BOOST_TEST(http(emu.baseUrl("v4") + "/getCollectionValues").status == 200);
}

BOOST_AUTO_TEST_CASE(drop_closes_the_connection_without_an_answer) {
    EmulatorProcess emu({"--quiet", "--fault", "getSeries:drop:1"});
    const std::string series = emu.baseUrl("v4") + "/getSeries?PatientID=TCGA-DM-0001";
    BOOST_CHECK_THROW(http(series), Poco::Exception);
    BOOST_TEST(http(series).status == 200);
}

BOOST_AUTO_TEST_CASE(truncate_cuts_the_zip_mid_stream) {
    EmulatorProcess emu({"--quiet", "--fault", "getImage:truncate:2", "--fault", "getImage:truncate:1:mode=reset"});
    const std::string image = emu.baseUrl("v4") + "/getImage?SeriesInstanceUID=" + kCtSeries;
    for (int i = 0; i < 2; ++i) {
        // Like NBIA: 200, the chunked body ends normally, but the ZIP lacks entries and its directory.
        const auto a = http(image);
        BOOST_TEST(a.status == 200);
        BOOST_TEST(a.body.size() > 1000u);
        BOOST_CHECK_THROW(centralDirectory(a.body), std::runtime_error);
        BOOST_CHECK_THROW(readZip(a.body), std::runtime_error);
    }
    // mode=reset: the connection is reset inside the chunked body (curl: exit 56). Poco's
    // chunked reader may report that as a plain end of stream, so accept either outcome.
    try {
        const auto a = http(image);
        BOOST_CHECK_THROW(centralDirectory(a.body), std::runtime_error);
    } catch (const Poco::Exception&) {
    }
    const auto ok = http(image);
    BOOST_TEST(readZip(ok.body).size() == 11u);
}

BOOST_AUTO_TEST_CASE(slow_delays_answers_and_paces_the_zip) {
    EmulatorProcess emu({"--quiet"});
    // Runtime control through the admin endpoint.
    auto r = http(adminUrl(emu, "/emulator/faults?spec=getSeries:slow:1:delay-ms=600"), "POST");
    BOOST_TEST(r.status == 200);
    r = http(adminUrl(emu, "/emulator/faults?spec=getImage:slow:1:delay-ms=1100"), "POST");
    BOOST_TEST(r.status == 200);
    BOOST_TEST(http(adminUrl(emu, "/emulator/faults?spec=getImage:explode:1"), "POST").status == 400);
    auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(http(emu.baseUrl("v4") + "/getSeries?PatientID=TCGA-DM-0001").status == 200);
    BOOST_TEST(seconds(t0) >= 0.55);
    t0 = std::chrono::steady_clock::now();
    const auto image = http(emu.baseUrl("v4") + "/getImage?SeriesInstanceUID=" + kCtSeries);
    BOOST_TEST(seconds(t0) >= 1.0);
    BOOST_TEST(readZip(image.body).size() == 11u);  // slow, but complete
    t0 = std::chrono::steady_clock::now();
    http(emu.baseUrl("v4") + "/getImage?SeriesInstanceUID=" + kCtSeries);
    BOOST_TEST(seconds(t0) < 1.0);  // the fault was used up
    BOOST_TEST(http(adminUrl(emu, "/emulator/faults")).body == "[]");
}

BOOST_AUTO_TEST_CASE(slow_zip_entries_reach_the_client_before_the_end) {
    EmulatorProcess emu({"--quiet", "--fault", "getImage:slow:1:delay-ms=1100"});
    const Poco::URI uri(emu.baseUrl("v4") + "/getImage?SeriesInstanceUID=" + kCtSeries);
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    Poco::Net::HTTPRequest request("GET", uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
    const auto t0 = std::chrono::steady_clock::now();
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    char first[4];
    in.read(first, 4);
    const double firstBytes = seconds(t0);
    std::string rest((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const double total = seconds(t0);
    BOOST_TEST(std::string(first, 4) == std::string("PK\x03\x04", 4));
    BOOST_TEST(firstBytes < 0.5 * total);
}

BOOST_AUTO_TEST_CASE(restricted_collection_needs_a_valid_token) {
    EmulatorProcess emu({"--quiet", "--token-user", "alice", "--token-password", "s3cret", "--token-lifetime", "1"});
    const std::string collections = emu.baseUrl("v4") + "/getCollectionValues";
    const std::string restrictedSeries = emu.baseUrl("v4") + "/getSeries?Collection=Restricted-Demo";
    BOOST_TEST(http(collections).body.find("Restricted-Demo") == std::string::npos);
    BOOST_TEST(http(restrictedSeries).body.empty());

    auto bad = http(tokenUrl(emu), "POST", {}, "grant_type=password&username=alice&password=wrong&client_id=NBIA");
    BOOST_TEST(bad.status == 401);
    auto tok = http(tokenUrl(emu), "POST", {}, "grant_type=password&username=alice&password=s3cret&client_id=NBIA");
    BOOST_REQUIRE(tok.status == 200);
    BOOST_TEST(tok.contentType == "application/json");
    const auto obj = parseOrdered(tok.body).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(obj->getValue<int>("expires_in") == 1);
    BOOST_TEST(obj->getValue<std::string>("token_type") == "bearer");
    const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + field(tok.body, "access_token")}};
    BOOST_TEST(http(collections, "GET", auth).body.find("Restricted-Demo") != std::string::npos);
    const auto series = http(restrictedSeries, "GET", auth);
    BOOST_TEST(series.body.find("RESTR-0001") != std::string::npos);
    BOOST_TEST(series.body.find("\"Authorized\":1") != std::string::npos);
    const auto zip = http(emu.baseUrl("v4") + "/getImage?SeriesInstanceUID=" + kRoot + ".2.13", "GET", auth);
    BOOST_TEST(zip.status == 200);
    BOOST_TEST(readZip(zip.body).size() == 6u);

    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    BOOST_TEST(http(collections, "GET", auth).status == 401);  // expired
    auto renewed = http(tokenUrl(emu), "POST", {},
                        "grant_type=refresh_token&client_id=NBIA&refresh_token=" + field(tok.body, "refresh_token"));
    BOOST_REQUIRE(renewed.status == 200);
    const std::map<std::string, std::string> auth2{{"Authorization", "Bearer " + field(renewed.body, "access_token")}};
    BOOST_TEST(http(collections, "GET", auth2).body.find("Restricted-Demo") != std::string::npos);

    // Guest token and "Bearer undefined": public data only, no error.
    auto guest = http(tokenUrl(emu), "POST", {}, "grant_type=password&username=nbia_guest&password=&client_id=NBIA");
    BOOST_REQUIRE(guest.status == 200);
    const std::map<std::string, std::string> guestAuth{{"Authorization", "Bearer " + field(guest.body, "access_token")}};
    auto g = http(collections, "GET", guestAuth);
    BOOST_TEST(g.status == 200);
    BOOST_TEST(g.body.find("Restricted-Demo") == std::string::npos);
    g = http(collections, "GET", {{"Authorization", "Bearer undefined"}});
    BOOST_TEST(g.status == 200);
    BOOST_TEST(http(collections, "GET", {{"Authorization", "Bearer not-a-token"}}).status == 401);
}

BOOST_AUTO_TEST_CASE(stats_count_requests_per_endpoint) {
    EmulatorProcess emu({"--quiet"});
    BOOST_TEST(http(adminUrl(emu, "/emulator/stats/reset"), "POST").status == 200);
    http(emu.baseUrl("v4") + "/getSeries");  // unfiltered: the call a bridge must never make
    http(emu.baseUrl("v4") + "/getSeries?PatientID=TCGA-DM-0001");
    http(emu.baseUrl("v1") + "/getImage?SeriesInstanceUID=" + kCtSeries);
    http(emu.baseUrl("v4") + "/getImage?SeriesInstanceUID=" + kCtSeries);
    const auto stats = parseOrdered(http(adminUrl(emu, "/emulator/stats")).body).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(stats->getValue<int>("total") == 4);
    BOOST_TEST(stats->getObject("endpoints")->getValue<int>("getSeries") == 2);
    BOOST_TEST(stats->getObject("endpoints")->getValue<int>("getImage") == 2);
    BOOST_TEST(stats->getObject("getImageBySeries")->getValue<int>(kCtSeries) == 2);
    BOOST_TEST(stats->getValue<int>("unfilteredGetSeries") == 1);
}

BOOST_AUTO_TEST_CASE(a_busy_port_is_an_error_not_a_shared_listener) {
    EmulatorProcess first({"--quiet"});
    Poco::Pipe err;
    Poco::ProcessHandle second = Poco::Process::launch(
        bridge::test::binaryDir() + "/emulator/tcia-emulator",
        {"serve", "--data", bridge::test::sampleDataDir(), "--port", std::to_string(first.port()), "--quiet"}, nullptr,
        nullptr, &err);
    BOOST_TEST(second.wait() == 1);
}

BOOST_AUTO_TEST_CASE(synthetic_catalog_serves_searches_without_files) {
    bridge::test::TempDir dir;
    Poco::ProcessHandle gen = Poco::Process::launch(
        bridge::test::binaryDir() + "/emulator/tcia-emulator",
        {"generate", "--out", dir.path(), "--synthetic-studies", "2000", "--series-per-study", "5"});
    BOOST_REQUIRE(gen.wait() == 0);
    EmulatorProcess emu({"--quiet"}, dir.path());
    const auto collections = parseOrdered(http(emu.baseUrl("v4") + "/getCollectionValues").body)
                                 .extract<Poco::JSON::Array::Ptr>();
    BOOST_TEST(collections->size() == 10u);
    // 2000 studies / 4 per patient = 500 patients, 50 per collection, x 4 studies x 5 series.
    const auto series = http(emu.baseUrl("v4") + "/getSeries?Collection=Synthetic-01");
    BOOST_TEST(parseOrdered(series.body).extract<Poco::JSON::Array::Ptr>()->size() == 1000u);
    const auto first = parseOrdered(series.body).extract<Poco::JSON::Array::Ptr>()->getObject(0);
    const std::string uid = first->getValue<std::string>("SeriesInstanceUID");
    const auto one = http(emu.baseUrl("v1") + "/getSeries?SeriesInstanceUID=" + uid);
    BOOST_TEST(parseOrdered(one.body).extract<Poco::JSON::Array::Ptr>()->size() == 1u);
    const auto studies = http(emu.baseUrl("v1") + "/getPatientStudy?PatientID=" + first->getValue<std::string>("PatientID"));
    BOOST_TEST(parseOrdered(studies.body).extract<Poco::JSON::Array::Ptr>()->size() == 4u);
    const auto sops = http(emu.baseUrl("v4") + "/getSOPInstanceUIDs?SeriesInstanceUID=" + uid);
    BOOST_TEST(parseOrdered(sops.body).extract<Poco::JSON::Array::Ptr>()->size() ==
               first->getValue<std::size_t>("ImageCount"));
    const auto image = http(emu.baseUrl("v1") + "/getImage?SeriesInstanceUID=" + uid);
    BOOST_TEST(image.status == 400);
    BOOST_TEST(image.body.find("is not in public domain") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
