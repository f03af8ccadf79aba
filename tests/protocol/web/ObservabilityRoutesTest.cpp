// /metrics, /health, /ready and the audit trail of the DICOMweb server over the real core and
// the TCIA emulator (WebFixture), plus the teardown of a server scraped while overloaded.
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <fstream>
#include <thread>

#include "bridge/common/AuditLog.h"
#include "bridge/common/Error.h"
#include "bridge/common/MetricsRegistry.h"
#include "tests/protocol/web/WebFixture.h"
#include "web/Readiness.h"

using namespace bridge;
using namespace bridge::test;

namespace {

const std::string kStudy = "1.2.826.0.1.3680043.10.1234.1.1";         // TCGA-DM-0001
const std::string kSeriesNative = "1.2.826.0.1.3680043.10.1234.2.1";  // 10 CT, explicit LE

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

class GatedQueryService : public QueryService {
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
    void release() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            released = true;
        }
        cv.notify_all();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ObservabilityRoutes)

BOOST_AUTO_TEST_CASE(metrics_is_prometheus_text_counting_requests_tcia_calls_and_cache) {
    auto& f = WebFixture::shared();
    auto search = f.get("/dicom-web/studies?PatientID=TCGA-DM-0001", {{"Accept", "application/dicom+json"}});
    BOOST_REQUIRE_EQUAL(search.status, 200);
    BOOST_TEST(!search.header("X-Request-Id").empty());
    auto r = f.get("/metrics");
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
    BOOST_TEST(r.header("Access-Control-Allow-Origin") == "*");
    BOOST_TEST(contains(
        r.body, "tcia_bridge_http_requests_total{route=\"qido-studies\",method=\"GET\",status=\"200\"} "));
    BOOST_TEST(contains(
        r.body, "tcia_bridge_http_request_duration_seconds_bucket{route=\"qido-studies\",le=\"+Inf\"} "));
    BOOST_TEST(contains(r.body, "tcia_bridge_tcia_requests_total{endpoint=\""));
    BOOST_TEST(contains(r.body, "tcia_bridge_tcia_request_duration_seconds_count{endpoint=\""));
    BOOST_TEST(contains(r.body, "# TYPE tcia_bridge_cache_hits_total counter"));
    BOOST_TEST(contains(r.body, "# TYPE tcia_bridge_cache_evicted_series_total counter"));
    BOOST_TEST(contains(
        r.body, "# TYPE tcia_bridge_http_connections_active gauge\ntcia_bridge_http_connections_active "));
    BOOST_TEST(contains(r.body, "# TYPE tcia_bridge_harvest_collections_done gauge"));
    // Every sample line is "name{labels} value" or "name value".
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        BOOST_TEST(line.rfind("tcia_bridge_", 0) == 0u, line);
        BOOST_TEST(line.find(' ') != std::string::npos, line);
    }
}

BOOST_AUTO_TEST_CASE(health_and_ready_answer_when_tcia_answers) {
    auto& f = WebFixture::shared();
    auto health = f.get("/health");
    BOOST_TEST(health.status == 200);
    BOOST_TEST(contains(health.body, "\"status\":\"ok\""));
    auto ready = f.get("/ready");
    BOOST_TEST(ready.status == 200);
    BOOST_TEST(contains(ready.body, "\"status\":\"ready\""));
}

BOOST_AUTO_TEST_CASE(ready_is_503_json_when_tcia_does_not_answer) {
    auto& shared = WebFixture::shared();
    WebSettings settings;
    settings.port = 0;
    web::DicomWebServer server(*shared.services->query, *shared.services->retrieve,
                               shared.services->access.get(), nullptr, settings);
    // fresh = 0 s: every check probes; the probe fails like an unreachable TCIA.
    web::ReadinessProbe probe([] { return std::string(); },
                              [] { throw BridgeError(ErrorCode::UpstreamUnavailable, "connection refused"); },
                              std::chrono::seconds(0));
    server.context().readiness = [&probe] { return probe.check(); };
    server.start();
    auto r = httpRequest(server.port(), "GET", "/ready");
    BOOST_TEST(r.status == 503);
    BOOST_TEST(contains(r.body, "\"error\":\"not-ready\""));
    BOOST_TEST(contains(r.body, "connection refused"));
    BOOST_TEST(r.header("Access-Control-Allow-Origin") == "*");
    BOOST_TEST(httpRequest(server.port(), "GET", "/health").status == 200);  // alive all the same
    web::ReadinessProbe noCatalog([] { return std::string("no catalog"); }, [] {}, std::chrono::seconds(0));
    BOOST_TEST(noCatalog.check() == "no catalog");
}

BOOST_AUTO_TEST_CASE(qido_and_wado_are_audited_without_tokens_or_names) {
    auto& shared = WebFixture::shared();
    TempDir dir;
    const std::string path = dir.path() + "/audit.jsonl";
    FileAuditLog audit(path);
    WebSettings settings;
    settings.port = 0;
    web::DicomWebServer server(*shared.services->query, *shared.services->retrieve,
                               shared.services->access.get(), shared.services->metadata.get(), settings);
    server.context().audit = &audit;
    server.start();
    auto q = httpRequest(server.port(), "GET", "/dicom-web/studies?PatientName=DEMO*&PatientID=TCGA-DM-0001",
                         {{"Accept", "application/dicom+json"}, {"Authorization", "Bearer let-me-in"}});
    BOOST_REQUIRE_EQUAL(q.status, 200);
    auto w = httpRequest(server.port(), "GET", "/dicom-web/studies/" + kStudy + "/series/" + kSeriesNative,
                         {{"Accept", "multipart/related; type=\"application/dicom\""}});
    BOOST_REQUIRE_EQUAL(w.status, 200);
    auto missing = httpRequest(server.port(), "GET", "/dicom-web/studies/1.2.3.4.5/series/1.2.3.4.6",
                               {{"Accept", "multipart/related; type=\"application/dicom\""}});
    BOOST_TEST(missing.status == 404);
    httpRequest(server.port(), "GET", "/health");  // not audited
    server.stop();

    auto audited = lines(path);
    BOOST_REQUIRE_EQUAL(audited.size(), 3u);
    BOOST_TEST(contains(audited[0], "\"event\":\"Query\""));
    BOOST_TEST(contains(audited[0], "\"interface\":\"dicomweb\""));
    BOOST_TEST(contains(audited[0], "\"principal\":\"token:"));
    BOOST_TEST(!contains(audited[0], "let-me-in"));
    BOOST_TEST(!contains(audited[0], "DEMO"));
    BOOST_TEST(contains(audited[0], "\"patientId\":\"TCGA-DM-0001\""));
    BOOST_TEST(contains(audited[0], "\"peer\":\"127.0.0.1\""));
    BOOST_TEST(contains(audited[1], "\"event\":\"DICOM Instances Transferred\""));
    BOOST_TEST(contains(audited[1], "\"target\":\"wado-series\""));
    BOOST_TEST(contains(audited[1], "\"seriesUids\":[\"" + kSeriesNative + "\"]"));
    BOOST_TEST(contains(audited[1], "\"instances\":10"));
    BOOST_TEST(contains(audited[1], "\"outcome\":0"));
    const auto bytesAt = audited[1].find("\"bytes\":");
    BOOST_REQUIRE(bytesAt != std::string::npos);
    BOOST_TEST(std::stoull(audited[1].substr(bytesAt + 8)) == w.body.size());
    BOOST_TEST(contains(audited[2], "\"status\":\"404\""));
    BOOST_TEST(contains(audited[2], "\"outcome\":4"));
}

// The reverted /metrics attempt made overload_answers_503_json die at teardown with
// std::system_error "Invalid argument": that test is the only one calling stop() before the
// destructor calls it again, and a second join of a std::thread throws exactly that. stop()
// must stay idempotent with everything /metrics uses; probes and scrapes bypass admission.
BOOST_AUTO_TEST_CASE(overloaded_server_is_scraped_then_stopped_twice) {
    GatedQueryService query;
    auto& shared = WebFixture::shared();
    WebSettings settings;
    settings.port = 0;
    settings.maxThreads = 1;
    settings.maxQueued = 0;
    {
        web::DicomWebServer server(query, *shared.services->retrieve, shared.services->access.get(), nullptr,
                                   settings);
        server.start();
        HttpResult first;
        std::thread t([&] { first = httpRequest(server.port(), "GET", "/dicom-web/studies?PatientID=x"); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (query.entered == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        BOOST_REQUIRE(query.entered == 1);
        auto refused = httpRequest(server.port(), "GET", "/dicom-web/studies?PatientID=y");
        BOOST_TEST(refused.status == 503);
        auto scrape = httpRequest(server.port(), "GET", "/metrics");  // not refused: exempt from the gate
        BOOST_TEST(scrape.status == 200);
        BOOST_TEST(contains(scrape.body, "tcia_bridge_http_requests_refused_total 1\n"));
        BOOST_TEST(contains(scrape.body, "tcia_bridge_http_requests_active 1\n"));
        BOOST_TEST(httpRequest(server.port(), "GET", "/health").status == 200);
        query.release();
        t.join();
        BOOST_TEST(first.status == 200);
        server.stop();
        server.stop();
        BOOST_TEST(server.currentConnections() == 0);
    }  // destructor: stop() a third time
    BOOST_TEST(metrics().value("tcia_bridge_http_requests_total", {"qido-studies", "GET", "503"}) >= 1);
}

BOOST_AUTO_TEST_SUITE_END()
