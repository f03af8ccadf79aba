// Transport behaviour checked with an in-process test double (FakeTciaServer): keep-alive reuse,
// transparent reconnect after the server closed an idle connection, TLS certificate
// verification, MD5 mismatch reporting, refresh-token fallback to the password grant.
#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/TemporaryFile.h>
#include <archive.h>
#include <archive_entry.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "FakeTciaServer.h"
#include "TciaTestHelpers.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/TciaClient.h"

using namespace bridge;
using namespace bridge::tcia;
using namespace bridge::test;

namespace {

void sendJson(Poco::Net::HTTPServerResponse& resp, const std::string& body, int status = 200) {
    resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    resp.setContentType("application/json");
    resp.setContentLength(static_cast<std::streamsize>(body.size()));
    resp.send() << body;
}

std::string dicomFile(const std::string& sopInstanceUid) {
    DcmFileFormat ff;
    ff.getDataset()->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ff.getDataset()->putAndInsertString(DCM_SOPInstanceUID, sopInstanceUid.c_str());
    ff.getDataset()->putAndInsertString(DCM_PatientName, "Fake^Patient");
    Poco::TemporaryFile tmp;
    ff.saveFile(tmp.path().c_str(), EXS_LittleEndianExplicit);
    std::ifstream in(tmp.path(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

la_ssize_t appendToString(archive*, void* out, const void* buf, size_t n) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
}

/// A getImage-like ZIP (data descriptors, DEFLATE): LICENSE, n instances, md5hashes.csv with
/// entry `badEntry` (1-based; 0 = none) given a wrong hash.
std::string seriesZip(int n, int badEntry) {
    std::string out;
    archive* a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_set_options(a, "zip:compression=deflate");
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, &out, nullptr, appendToString, nullptr);
    auto add = [&](const std::string& name, const std::string& bytes) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, name.c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_write_header(a, e);
        archive_write_data(a, bytes.data(), bytes.size());
        archive_entry_free(e);
    };
    add("LICENSE", "license text\n");
    std::string csv = "Filename,MD5Hash\n";
    for (int i = 1; i <= n; ++i) {
        std::string bytes = dicomFile("1.2.3.9." + std::to_string(i));
        std::string name = "1-" + std::to_string(i) + ".dcm";
        Poco::MD5Engine md5;
        md5.update(bytes);
        std::string hex = Poco::DigestEngine::digestToHex(md5.digest());
        if (i == badEntry) hex = std::string(32, '0');
        csv += name + "," + hex + "\n";
        add(name, bytes);
    }
    add("md5hashes.csv", csv);
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(Transport)

BOOST_AUTO_TEST_CASE(keepAliveReusesOneConnection) {
    std::atomic<int> requests{0};
    FakeTciaServer server([&](auto&, auto& resp) {
        ++requests;
        sendJson(resp, R"([{"Collection":"A"},{"Collection":"B"}])");
    });
    TciaClient client(settingsFor(server));
    for (int i = 0; i < 5; ++i) BOOST_TEST(client.collections(RequestContext()).size() == 2u);
    BOOST_TEST(requests.load() == 5);
    BOOST_TEST(server.totalConnections() == 1,
               "5 requests on " << server.totalConnections() << " connections");
}

BOOST_AUTO_TEST_CASE(idleConnectionClosedByTheServerIsReopened) {
    std::atomic<int> requests{0};
    FakeTciaServer server(
        [&](auto&, auto& resp) {
            ++requests;
            sendJson(resp, R"([{"Modality":"CT"}])");
        },
        nullptr, Poco::Timespan(0, 150'000));  // the server drops idle keep-alive connections after 150 ms
    auto settings = settingsFor(server);
    settings.maxRetries = 0;  // the reconnect must not need a retry
    auto capture = LogCapture::install();
    {
        TciaClient client(settings);
        BOOST_TEST(client.modalityValues({}, RequestContext()).size() == 1u);
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        BOOST_TEST(client.modalityValues({}, RequestContext()).size() == 1u);
    }
    capture->uninstall();
    for (const auto& l : capture->lines()) BOOST_TEST_MESSAGE("log: " << l);
    BOOST_TEST(requests.load() == 2);
    BOOST_TEST(server.totalConnections() == 2);
}

BOOST_AUTO_TEST_CASE(md5MismatchFailsTheDownloadWithoutRetry) {
    const std::string good = seriesZip(3, 0);
    const std::string bad = seriesZip(3, 2);
    std::atomic<int> requests{0};
    std::string lastQuery;
    std::mutex m;
    FakeTciaServer server([&](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) {
        ++requests;
        {
            std::lock_guard lock(m);
            lastQuery = req.getURI();
        }
        const std::string& zip = req.getURI().find("SeriesInstanceUID=bad") != std::string::npos ? bad : good;
        resp.setContentType("application/octet-stream");
        resp.setChunkedTransferEncoding(true);  // streamed, no Content-Length, like TCIA
        resp.send().write(zip.data(), static_cast<std::streamsize>(zip.size()));
    });
    TciaClient client(settingsFor(server));
    RequestContext context;
    int delivered = 0;
    BOOST_TEST(client.downloadSeries(
                   "good", {true, 3, {}}, [&](DownloadedInstance&&) { ++delivered; }, context) == 3u);
    BOOST_TEST(lastQuery.find("IncludeMD5=Yes") != std::string::npos, lastQuery);
    BOOST_TEST(lastQuery.find("NewFileNames=Yes") != std::string::npos, lastQuery);
    delivered = 0;
    requests = 0;
    try {
        client.downloadSeries(
            "bad", {true, 3, {}}, [&](DownloadedInstance&&) { ++delivered; }, context);
        BOOST_FAIL("an MD5 mismatch must fail the download");
    } catch (const BridgeError& e) {
        BOOST_TEST((e.code() == ErrorCode::UpstreamBadResponse));
        BOOST_TEST(std::string(e.what()).find("MD5 mismatch") != std::string::npos, e.what());
        BOOST_TEST(std::string(e.what()).find("1-2.dcm") != std::string::npos, e.what());
    }
    BOOST_TEST(delivered == 3, "md5hashes.csv comes last: the instances were already delivered");
    BOOST_TEST(requests.load() == 1);
    // Without verifyMd5 the same archive is accepted.
    BOOST_TEST(client.downloadSeries(
                   "bad", {false, 3, {}}, [](DownloadedInstance&&) {}, context) == 3u);
}

BOOST_AUTO_TEST_CASE(refreshRefusedFallsBackToPasswordGrant) {
    std::mutex m;
    std::vector<std::string> grants;
    std::string currentToken;
    int issued = 0;
    FakeTciaServer server([&](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) {
        std::lock_guard lock(m);
        if (req.getURI() == "/nbia-api/oauth/token") {
            Poco::Net::HTMLForm form(req, req.stream());
            grants.push_back(form.get("grant_type", "") + ":" + form.get("client_secret", "-"));
            if (form.get("grant_type") == "refresh_token") {
                sendJson(resp, R"({"error":"invalid_grant","error_description":"Token is not active"})", 400);
                return;
            }
            if (form.get("username") != "u" || form.get("password") != "p") {
                sendJson(resp, R"({"error":"invalid_grant"})", 401);
                return;
            }
            currentToken = "T" + std::to_string(++issued);
            sendJson(resp, R"({"access_token":")" + currentToken +
                               R"(","expires_in":1,"refresh_token":"R","token_type":"bearer"})");
            return;
        }
        if (req.get("Authorization", "") != "Bearer " + currentToken) {
            sendJson(resp, "Unauthorized", 401);
            return;
        }
        sendJson(resp, R"([{"Collection":"Restricted"}])");
    });
    auto settings = settingsFor(server);
    settings.tokenUrl = server.url("/nbia-api/oauth/token");
    settings.username = "u";
    settings.password = "p";
    settings.clientSecret = "shh";
    TciaClient client(settings);
    BOOST_TEST(client.collections(RequestContext()).size() == 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    BOOST_TEST(client.collections(RequestContext()).size() == 1u);
    std::lock_guard lock(m);
    BOOST_REQUIRE_EQUAL(grants.size(), 3u);
    BOOST_TEST(grants[0] == "password:shh");
    BOOST_TEST(grants[1] == "refresh_token:shh");
    BOOST_TEST(grants[2] == "password:shh");
}

BOOST_AUTO_TEST_CASE(tlsCertificatesAreVerified) {
    TempDir dir;
    const std::string key = dir.path() + "/key.pem", cert = dir.path() + "/cert.pem";
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    BOOST_REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "openssl could not make a test certificate");
    Poco::Net::Context::Ptr serverTls = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key, cert,
                                                               "", Poco::Net::Context::VERIFY_NONE);
    FakeTciaServer server([](auto&, auto& resp) { sendJson(resp, R"([{"Collection":"Secure"}])"); },
                          serverTls);

    auto settings = settingsFor(server);
    BOOST_TEST(settings.baseUrl.rfind("https://", 0) == 0u);
    {
        TciaClient untrusting(settings);  // system store: the self-signed certificate is not trusted
        BOOST_CHECK_EXCEPTION(untrusting.collections(RequestContext()), BridgeError, [](const BridgeError& e) {
            BOOST_TEST_MESSAGE("untrusted: " << e.what());
            return e.code() == ErrorCode::UpstreamUnavailable &&
                   std::string(e.what()).find("TLS") != std::string::npos;
        });
    }
    settings.caFile = cert;
    TciaClient trusting(settings);
    auto collections = trusting.collections(RequestContext());
    BOOST_REQUIRE_EQUAL(collections.size(), 1u);
    BOOST_TEST(collections[0] == "Secure");
}

BOOST_AUTO_TEST_SUITE_END()
