// parseConfig's validation of the log/audit blocks and of impossible combinations: one clear
// error naming the key.
#include <boost/test/unit_test.hpp>

#include "bridge/common/Config.h"
#include "bridge/common/Error.h"

using namespace bridge;

namespace {

/// The message parseConfig throws for `json`, or "" when it accepts it.
std::string errorOf(const std::string& json) {
    try {
        parseConfig(json);
    } catch (const BridgeError& e) {
        BOOST_TEST((e.code() == ErrorCode::InvalidArgument));
        return e.what();
    }
    return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(ConfigValidation)

BOOST_AUTO_TEST_CASE(log_and_audit_blocks) {
    Config c =
        parseConfig(R"({"log": {"level": "debug", "sink": "file", "file": "/tmp/b.log", "format": "json",
                                       "levels": {"dcmtk": "warn", "bridge.tcia": "trace"}},
                               "audit": {"file": "/tmp/audit.jsonl"}})");
    BOOST_TEST(c.logLevel == "debug");
    BOOST_TEST(c.log.sink == "file");
    BOOST_TEST(c.log.file == "/tmp/b.log");
    BOOST_TEST(c.log.format == "json");
    BOOST_TEST(c.log.levels.at("bridge.tcia") == "trace");
    BOOST_TEST(c.audit.file == "/tmp/audit.jsonl");
    BOOST_TEST(parseConfig("{}").log.sink == "console");
}

BOOST_AUTO_TEST_CASE(each_error_names_its_key) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({"log": {"colour": true}})", "config.log.colour: unknown key"},
        {R"({"log": {"format": "xml"}})", "config.log.format: must be"},
        {R"({"log": {"sink": "syslog"}})", "config.log.sink: must be"},
        {R"({"log": {"levels": {"dcmtk": "loud"}}})", "config.log.levels.dcmtk: must be one of"},
        {R"({"log": {"levels": ["dcmtk"]}})", "config.log.levels: must be an object"},
        {R"({"log": {"sink": "file"}})", "config.log.file: required"},
        {R"({"log": {"file": "/tmp/x.log"}})", "config.log.file: given, but log.sink is \"console\""},
        {R"({"audit": {"file": 3}})", "config.audit.file: must be a string"},
        {R"({"audit": {"path": "x"}})", "config.audit.path: unknown key"},
        {R"({"web": {"port": "8080"}})", "config.web.port: must be an integer"},
        {R"({"tcia": {"retryBaseDelayMs": 5000, "retryMaxDelayMs": 100}})",
         "config.tcia.retryBaseDelayMs: must not exceed"},
        {R"({"dimse": {"port": 9000}, "web": {"port": 9000}})", "config.web.port: same address and port"},
        {R"({"dimse": {"checkCallerHost": true}})", "config.dimse.checkCallerHost: needs"},
        {R"({"dimse": {"checkCallerHost": true, "allowedCallingAets": ["PACS"]}})",
         "config.dimse.allowedCallingAets: 'PACS' has no dimse.peers entry"},
        {R"({"dimse": {"aeTitle": "TCIA", "collectionAets": {"TCIA": ["X"]}}})",
         "config.dimse.collectionAets.TCIA: is the bridge's own"},
    };
    for (const auto& [json, expected] : cases) {
        const std::string got = errorOf(json);
        BOOST_TEST(contains(got, expected), json << " -> '" << got << "' (expected '" << expected << "')");
    }
}

BOOST_AUTO_TEST_CASE(possible_combinations_pass) {
    BOOST_TEST(
        errorOf(
            R"({"dimse": {"port": 9000, "bindAddress": "127.0.0.1"}, "web": {"port": 9000, "bindAddress": "127.0.0.2"}})")
            .empty());
    BOOST_TEST(errorOf(R"({"dimse": {"port": 9000, "enabled": false}, "web": {"port": 9000}})").empty());
    BOOST_TEST(errorOf(R"({"dimse": {"port": 0}, "web": {"port": 0}})").empty());
    BOOST_TEST(errorOf(R"({"dimse": {"checkCallerHost": true, "allowedCallingAets": ["PACS"],
                                      "peers": {"PACS": "10.0.0.1:104"}}})")
                   .empty());
}

BOOST_AUTO_TEST_SUITE_END()
