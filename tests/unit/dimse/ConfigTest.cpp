// parseConfig / applyEnvironment / parseDestination (bridge/common/Config.h), and the two
// shipped configuration files.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bridge/common/Config.h"
#include "bridge/common/Error.h"

using namespace bridge;
using namespace std::chrono_literals;

namespace {

std::string readFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string errorOf(const std::string& json) {
    try {
        parseConfig(json);
    } catch (const BridgeError& e) {
        BOOST_TEST((e.code() == ErrorCode::InvalidArgument));
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ConfigParsing)

BOOST_AUTO_TEST_CASE(empty_object_gives_defaults) {
    Config c = parseConfig("{}");
    BOOST_TEST(c.dimse.aeTitle == "TCIA");
    BOOST_TEST(c.dimse.port == 11112);
    BOOST_TEST(c.dimse.bindAddress == "127.0.0.1");
    BOOST_TEST(c.web.port == 8080);
    BOOST_TEST(c.tcia.apiVersion == "v4");
}

BOOST_AUTO_TEST_CASE(every_section_with_comments) {
    Config c = parseConfig(R"({
      // comment
      "tcia": {"baseUrl": "http://127.0.0.1:8899/nbia-api/services/v1", "connectTimeoutMs": 1500, "maxRetries": 2},
      "dimse": {"aeTitle": "BRIDGE", "port": 0, "maxAssociations": 3, "pendingIntervalSeconds": 2,
                "peers": {"ORTHANC": {"host": "127.0.0.1", "port": 4242}, "WS": "10.0.0.5:104"},
                "allowedCallingAets": ["ORTHANC"], "checkCallerHost": true,
                "collectionAets": {"TCIA-LIDC": ["LIDC-IDRI", "LIDC-2"]}},
      "web": {"port": 8042, "maxQueued": 5},
      "cache": {"directory": "/var/cache/bridge", "maxBytes": 1073741824},
      "catalog": {"connector": "postgresql", "connection": "dbname=x", "ttlSeconds": 60},
      "query": {"maxResults": 50, "caseSensitivePersonNames": true},
      "access": {"grantsByAet": {"Restricted-Demo": ["ORTHANC"]}, "restrictedCollections": ["X"]},
      "logLevel": "debug"
    })");
    BOOST_TEST(c.tcia.apiVersion == "v1");  // guessed from the URL
    BOOST_TEST((c.tcia.connectTimeout == 1500ms));
    BOOST_TEST(c.tcia.maxRetries == 2);
    BOOST_TEST(c.dimse.aeTitle == "BRIDGE");
    BOOST_TEST(c.dimse.port == 0);
    BOOST_TEST(c.dimse.maxAssociations == 3);
    BOOST_TEST((c.dimse.pendingInterval == 2s));
    BOOST_TEST(c.dimse.peers.at("ORTHANC").port == 4242);
    BOOST_TEST(c.dimse.peers.at("WS").host == "10.0.0.5");
    BOOST_TEST(c.dimse.peers.at("WS").port == 104);
    BOOST_TEST(c.dimse.peers.at("WS").aeTitle == "WS");
    BOOST_TEST(c.dimse.checkCallerHost);
    BOOST_TEST(c.dimse.collectionAets.at("TCIA-LIDC").size() == 2u);
    BOOST_TEST(c.web.port == 8042);
    BOOST_TEST(c.cache.maxBytes == 1073741824ull);
    BOOST_TEST(c.catalog.connector == "postgresql");
    BOOST_TEST((c.catalog.ttl == 60s));
    BOOST_TEST(c.query.maxResults == 50u);
    BOOST_TEST(c.query.caseSensitivePersonNames);
    BOOST_TEST(c.access.grantsByAet.at("Restricted-Demo").count("ORTHANC") == 1u);
    BOOST_TEST(c.logLevel == "debug");
}

BOOST_AUTO_TEST_CASE(errors_name_the_key) {
    BOOST_TEST(errorOf(R"({"dimse": {"aetitle": "X"}})").find("config.dimse.aetitle") != std::string::npos);
    BOOST_TEST(errorOf(R"({"bogus": 1})").find("config.bogus") != std::string::npos);
    BOOST_TEST(errorOf(R"({"dimse": {"port": 70000}})").find("config.dimse.port") != std::string::npos);
    BOOST_TEST(errorOf(R"({"dimse": {"port": "11112"}})").find("integer") != std::string::npos);
    BOOST_TEST(errorOf(R"({"dimse": {"peers": {"X": "nohost"}}})").find("config.dimse.peers.X") !=
               std::string::npos);
    BOOST_TEST(errorOf(R"({"dimse": {"peers": {"X": {"port": 1}}}})").find("host missing") !=
               std::string::npos);
    BOOST_TEST(errorOf(R"({"dimse": {"aeTitle": "THIS-AE-TITLE-IS-TOO-LONG"}})").find("aeTitle") !=
               std::string::npos);
    BOOST_TEST(errorOf(R"({"catalog": {"connector": "mysql"}})").find("connector") != std::string::npos);
    BOOST_TEST(errorOf(R"({"logLevel": "loud"})").find("logLevel") != std::string::npos);
    BOOST_TEST(errorOf("{ not json").find("not valid JSON") != std::string::npos);
    BOOST_TEST(errorOf("[]").find("must be an object") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(catalog_refresh_interval) {
    BOOST_TEST((parseConfig("{}").catalog.refreshInterval == 3600s));  // default: hourly
    BOOST_TEST((parseConfig(R"({"catalog": {"refreshIntervalSeconds": 600}})").catalog.refreshInterval == 600s));
    BOOST_TEST((parseConfig(R"({"catalog": {"refreshIntervalSeconds": 0}})").catalog.refreshInterval == 0s));  // off
    BOOST_TEST(errorOf(R"({"catalog": {"refreshIntervalSeconds": -1}})").find("config.catalog.refreshIntervalSeconds") !=
               std::string::npos);
    BOOST_TEST(errorOf(R"({"catalog": {"refreshIntervalSeconds": "1h"}})").find("integer") != std::string::npos);
    BOOST_TEST(errorOf(R"({"catalog": {"refreshInterval": 60}})").find("config.catalog.refreshInterval") !=
               std::string::npos);  // unknown key
}

BOOST_AUTO_TEST_CASE(destination_flag) {
    DicomPeer p = parseDestination("STORESCP=127.0.0.1:11113");
    BOOST_TEST(p.aeTitle == "STORESCP");
    BOOST_TEST(p.host == "127.0.0.1");
    BOOST_TEST(p.port == 11113);
    for (const char* bad : {"STORESCP", "=h:1", "A=h", "A=h:", "A=h:0", "A=h:99999", "A=h:12x"}) {
        BOOST_CHECK_THROW(parseDestination(bad), BridgeError);
    }
}

BOOST_AUTO_TEST_CASE(api_version_guess) {
    BOOST_TEST(guessApiVersion("https://x/nbia-api/services/v1") == "v1");
    BOOST_TEST(guessApiVersion("https://x/nbia-api/services/v1/") == "v1");
    BOOST_TEST(guessApiVersion("https://x/nbia-api/services/v4") == "v4");
    BOOST_TEST(guessApiVersion("https://x/") == "v4");
}

BOOST_AUTO_TEST_CASE(environment_credentials) {
    setenv("TCIA_USERNAME", "alice", 1);
    setenv("TCIA_PASSWORD", "secret", 1);
    unsetenv("TCIA_TOKEN_URL");
    Config c;
    c.tcia.tokenUrl = "https://from-file";
    applyEnvironment(c);
    BOOST_TEST(c.tcia.username == "alice");
    BOOST_TEST(c.tcia.password == "secret");
    BOOST_TEST(c.tcia.tokenUrl == "https://from-file");
    unsetenv("TCIA_USERNAME");
    unsetenv("TCIA_PASSWORD");
}

BOOST_AUTO_TEST_CASE(shipped_files_parse) {
    std::string root =
        std::getenv("BRIDGE_SOURCE_DIR") ? std::getenv("BRIDGE_SOURCE_DIR") : BRIDGE_SOURCE_DIR;
    Config example = parseConfig(readFile(root + "/conf/tcia-bridge.example.json"));
    BOOST_TEST(example.dimse.peers.count("ORTHANC") == 1u);
    BOOST_TEST((example.catalog.refreshInterval == 3600s));
    Config emulator = parseConfig(readFile(root + "/conf/emulator.json"));
    BOOST_TEST(emulator.tcia.baseUrl == "http://127.0.0.1:8899/nbia-api/services/v4");
    BOOST_TEST(emulator.dimse.port == 11112);
    BOOST_TEST(emulator.web.port == 8080);
    BOOST_TEST(emulator.cache.directory == "./cache-emulator");
}

BOOST_AUTO_TEST_SUITE_END()
