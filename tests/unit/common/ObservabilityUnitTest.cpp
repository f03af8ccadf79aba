// Pure parts of observability: the Prometheus text of MetricsRegistry, log line formatting and
// context scopes, the one log sink for Poco and OFLog, audit JSON and outcome mapping.
#include <Poco/Logger.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/oflog.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <thread>

#include "bridge/common/AuditLog.h"
#include "bridge/common/Error.h"
#include "bridge/common/Logging.h"
#include "bridge/common/MetricsRegistry.h"
#include "tests/support/TestSupport.h"

using namespace bridge;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

MetricsRegistry testRegistry() {
    using T = MetricsRegistry::Type;
    return MetricsRegistry({{"t_requests_total", T::Counter, "Requests", {"route", "status"}, {}},
                            {"t_active", T::Gauge, "Active", {}, {}},
                            {"t_seconds", T::Histogram, "Latency", {"op"}, {0.1, 1}},
                            {"tcia_bridge_metrics_errors_total", T::Counter, "Errors", {}, {}}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(Metrics)

BOOST_AUTO_TEST_CASE(counters_gauges_and_histograms_render_in_text_format) {
    MetricsRegistry r = testRegistry();
    r.add("t_requests_total", {"qido", "200"});
    r.add("t_requests_total", {"qido", "200"}, 2);
    r.add("t_requests_total", {"say \"hi\"\\", "500"});
    r.set("t_active", {}, 3);
    r.add("t_active", {}, -1);
    r.observe("t_seconds", {"find"}, 0.05);
    r.observe("t_seconds", {"find"}, 0.5);
    r.observe("t_seconds", {"find"}, 5);
    const std::string text = r.render();
    BOOST_TEST(contains(text, "# HELP t_requests_total Requests\n# TYPE t_requests_total counter\n"));
    BOOST_TEST(contains(text, "t_requests_total{route=\"qido\",status=\"200\"} 3\n"));
    BOOST_TEST(contains(text, "t_requests_total{route=\"say \\\"hi\\\"\\\\\",status=\"500\"} 1\n"));
    BOOST_TEST(contains(text, "# TYPE t_active gauge\nt_active 2\n"));
    BOOST_TEST(contains(text, "t_seconds_bucket{op=\"find\",le=\"0.1\"} 1\n"));
    BOOST_TEST(contains(text, "t_seconds_bucket{op=\"find\",le=\"1\"} 2\n"));
    BOOST_TEST(contains(text, "t_seconds_bucket{op=\"find\",le=\"+Inf\"} 3\n"));
    BOOST_TEST(contains(text, "t_seconds_sum{op=\"find\"} 5.55\n"));
    BOOST_TEST(contains(text, "t_seconds_count{op=\"find\"} 3\n"));
    BOOST_TEST(r.value("t_seconds", {"find"}) == 3);
    BOOST_TEST(contains(text, "tcia_bridge_metrics_errors_total 0\n"));
}

BOOST_AUTO_TEST_CASE(misuse_is_counted_not_thrown) {
    MetricsRegistry r = testRegistry();
    r.add("nope_total", {});                    // undeclared
    r.add("t_requests_total", {"only-one"});    // wrong label count
    r.add("t_requests_total", {"a", "b"}, -1);  // counters never go down
    r.observe("t_active", {}, 1);               // not a histogram
    BOOST_TEST(contains(r.render(), "tcia_bridge_metrics_errors_total 4\n"));
    BOOST_TEST(r.value("t_requests_total", {"a", "b"}) == 0);
}

BOOST_AUTO_TEST_CASE(bridge_families_are_declared_once_with_help_and_type) {
    const std::string text = metrics().render();
    for (const char* name :
         {"tcia_bridge_http_requests_total", "tcia_bridge_dimse_operations_total",
          "tcia_bridge_tcia_requests_total", "tcia_bridge_tcia_request_duration_seconds",
          "tcia_bridge_harvest_collections_done", "tcia_bridge_dimse_associations_active"}) {
        BOOST_TEST(contains(text, std::string("# TYPE ") + name + " "), name);
    }
    metrics().set("tcia_bridge_harvest_collections_done", {}, 7);  // the gauge the harvest feeds
    BOOST_TEST(contains(metrics().render(), "tcia_bridge_harvest_collections_done 7\n"));
}

BOOST_AUTO_TEST_CASE(number_formatting) {
    BOOST_TEST(MetricsRegistry::formatNumber(3) == "3");
    BOOST_TEST(MetricsRegistry::formatNumber(0.25) == "0.25");
    BOOST_TEST(MetricsRegistry::formatNumber(1.0 / 0.0) == "+Inf");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(Logging)

BOOST_AUTO_TEST_CASE(text_and_json_lines) {
    BOOST_TEST(
        formatLogLine("text", "2026-12-06T18:40:01.123Z", "info", "bridge.web", "h-7", "GET /x\nmore") ==
        "2026-12-06T18:40:01.123Z INFO  bridge.web [h-7] GET /x more");
    BOOST_TEST(formatLogLine("text", "T", "warn", "dcmtk", "", "m") == "T WARN  dcmtk [-] m");
    BOOST_TEST(formatLogLine("json", "T", "debug", "bridge.tcia.http", "a-3", "say \"x\"\n") ==
               "{\"time\":\"T\",\"level\":\"debug\",\"logger\":\"bridge.tcia.http\",\"context\":\"a-3\","
               "\"message\":\"say \\\"x\\\"\\n\"}");
}

BOOST_AUTO_TEST_CASE(scopes_nest_per_thread) {
    BOOST_TEST(currentLogContext().empty());
    {
        LogScope outer("h-1");
        BOOST_TEST(currentLogContext() == "h-1");
        {
            LogScope inner("a-2");
            BOOST_TEST(currentLogContext() == "a-2");
            std::string other = "unset";
            std::thread([&] { other = currentLogContext(); }).join();
            BOOST_TEST(other.empty());
        }
        BOOST_TEST(currentLogContext() == "h-1");
    }
    BOOST_TEST(currentLogContext().empty());
    const std::string a = nextLogContextId('q'), b = nextLogContextId('q');
    BOOST_TEST(a != b);
    BOOST_TEST(a.rfind("q-", 0) == 0);
}

BOOST_AUTO_TEST_CASE(poco_and_oflog_lines_reach_one_file_with_their_context) {
    test::TempDir dir;
    LogSettings settings;
    settings.sink = "file";
    settings.file = dir.path() + "/bridge.log";
    settings.format = "json";
    settings.levels["bridge.quiet"] = "error";
    configureLogging(settings, "debug");
    {
        LogScope scope("h-42");
        Poco::Logger::get("bridge.tcia.http").debug("GET /nbia-api/services/v4/getSeries -> 200");
        OFLOG_INFO(OFLog::getLogger("bridge.dimse.server"), "association from PACS");
        Poco::Logger::get("bridge.quiet.child").warning("must not appear");
    }
    LogSettings console;
    configureLogging(console, "info");  // back to stderr for the other tests
    const std::string text = slurp(settings.file);
    BOOST_TEST(
        contains(text, "\"logger\":\"bridge.tcia.http\",\"context\":\"h-42\",\"message\":\"GET /nbia-api"));
    BOOST_TEST(contains(
        text,
        "\"logger\":\"bridge.dimse.server\",\"context\":\"h-42\",\"message\":\"association from PACS\""));
    BOOST_TEST(!contains(text, "must not appear"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(Audit)

BOOST_AUTO_TEST_CASE(outcome_indicators) {
    BOOST_TEST(auditOutcomeForDimse(0x0000) == 0);
    BOOST_TEST(auditOutcomeForDimse(0xB000) == 4);
    BOOST_TEST(auditOutcomeForDimse(0xFE00) == 4);
    BOOST_TEST(auditOutcomeForDimse(0xA700) == 8);
    BOOST_TEST(auditOutcomeForDimse(0xA801) == 8);
    BOOST_TEST(auditOutcomeForDimse(0xC000) == 8);
    BOOST_TEST(auditOutcomeForDimse(0x0211) == 12);
    BOOST_TEST(auditOutcomeForHttp(200) == 0);
    BOOST_TEST(auditOutcomeForHttp(404) == 4);
    BOOST_TEST(auditOutcomeForHttp(503) == 8);
}

BOOST_AUTO_TEST_CASE(json_line_names_the_a5_event) {
    AuditEvent e;
    e.type = AuditEvent::Type::InstancesTransferred;
    e.interface = "dicomweb";
    e.principal = "token:abc";
    e.peer = "127.0.0.1";
    e.target = "wado-series";
    e.level = "SERIES";
    e.studyUids = {"1.2"};
    e.seriesUids = {"1.2.3"};
    e.status = "200";
    e.instances = 4;
    e.bytes = 1024;
    e.detail = "quote \" here";
    BOOST_TEST(
        auditJson(e, "T") ==
        "{\"time\":\"T\",\"event\":\"DICOM Instances Transferred\",\"eventId\":\"110104\",\"action\":\"R\","
        "\"outcome\":0,\"interface\":\"dicomweb\",\"principal\":\"token:abc\",\"peer\":\"127.0.0.1\","
        "\"target\":\"wado-series\",\"level\":\"SERIES\",\"studyUids\":[\"1.2\"],\"seriesUids\":[\"1.2.3\"],"
        "\"status\":\"200\",\"instances\":4,\"bytes\":1024,\"detail\":\"quote \\\" here\"}");
    BOOST_TEST(std::string(auditEventName(AuditEvent::Type::Query)) == "Query");
    BOOST_TEST(std::string(auditEventId(AuditEvent::Type::BeginTransferring)) == "110102");
}

BOOST_AUTO_TEST_CASE(file_audit_log_appends_whole_lines_from_many_threads) {
    test::TempDir dir;
    const std::string path = dir.path() + "/audit.jsonl";
    {
        FileAuditLog log(path);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&log] {
                for (int i = 0; i < 50; ++i) {
                    AuditEvent e;
                    e.status = "0000";
                    log.record(e);
                }
            });
        for (auto& t : threads) t.join();
    }
    std::ifstream in(path);
    int n = 0;
    for (std::string line; std::getline(in, line); ++n) {
        BOOST_TEST(line.front() == '{');
        BOOST_TEST(line.back() == '}');
    }
    BOOST_TEST(n == 200);
    BOOST_CHECK_THROW(FileAuditLog("/nonexistent-dir/audit.jsonl"), BridgeError);
}

BOOST_AUTO_TEST_SUITE_END()
