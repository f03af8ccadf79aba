// Config keys of TLS (tls block, dimse.tlsPort / plainEnabled, web.httpsPort / plainEnabled) and
// HTTP authentication (auth block): parsed values, errors naming the key, impossible combinations.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "bridge/common/Config.h"
#include "bridge/common/Error.h"

using namespace bridge;

namespace {

std::string errorOf(const std::string& json) {
    try {
        parseConfig(json);
    } catch (const BridgeError& e) {
        return e.what();
    }
    return "no error";
}
std::string checkError(const Config& c) {
    try {
        checkTlsSettings(c);
    } catch (const BridgeError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(TlsAuthConfig)

BOOST_AUTO_TEST_CASE(defaults_are_plain_only_and_auth_off) {
    const Config c = parseConfig("{}");
    BOOST_TEST(c.dimse.plainEnabled);
    BOOST_TEST(!c.dimse.tlsPort.has_value());
    BOOST_TEST(c.web.plainEnabled);
    BOOST_TEST(!c.web.httpsPort.has_value());
    BOOST_TEST(!c.auth.enabled);
    BOOST_TEST(c.auth.publicPaths.count("/health") == 1u);
    BOOST_TEST(checkError(c) == "no error");
}

BOOST_AUTO_TEST_CASE(the_example_configuration_parses) {
    std::ifstream in(std::string(BRIDGE_SOURCE_DIR) + "/conf/tcia-bridge.example.json");
    std::stringstream text;
    text << in.rdbuf();
    const Config c = parseConfig(text.str());
    BOOST_TEST(!c.auth.enabled);
    BOOST_TEST(!c.web.httpsPort.has_value());
}

BOOST_AUTO_TEST_CASE(tls_and_auth_blocks_parse) {
    const Config c = parseConfig(R"({
      "dimse": {"tlsPort": 2762, "plainEnabled": false},
      "web": {"httpsPort": 0, "plainEnabled": true},
      "tls": {"certFile": "s.pem", "keyFile": "s.key", "caFile": "ca.pem"},
      "auth": {"enabled": true, "realm": "hospital",
               "bearerTokens": [{"name": "ohif", "sha256": "ab", "collections": ["Restricted-Demo"]},
                                {"name": "ci", "tokenEnv": "CI_TOKEN", "onlyCollections": ["LIDC-IDRI"]}],
               "basicUsers": [{"name": "alice", "pbkdf2": "pbkdf2-sha256$1000$s$00"}],
               "oidc": {"issuer": "https://idp", "audiences": ["tcia-bridge"], "jwksFile": "j.json",
                        "grantsClaim": "tcia_collections", "leewaySeconds": 5},
               "publicPaths": ["/health"]}
    })");
    BOOST_TEST(*c.dimse.tlsPort == 2762);
    BOOST_TEST(!c.dimse.plainEnabled);
    BOOST_TEST(*c.web.httpsPort == 0);
    BOOST_TEST(c.tls.caFile == "ca.pem");
    BOOST_TEST(c.auth.realm == "hospital");
    BOOST_REQUIRE(c.auth.bearerTokens.size() == 2u);
    BOOST_TEST(c.auth.bearerTokens[0].grants.count("Restricted-Demo") == 1u);
    BOOST_TEST(c.auth.bearerTokens[1].secretEnv == "CI_TOKEN");
    BOOST_TEST(c.auth.bearerTokens[1].only->count("LIDC-IDRI") == 1u);
    BOOST_TEST(c.auth.basicUsers[0].secretHash == "pbkdf2-sha256$1000$s$00");
    BOOST_REQUIRE(c.auth.oidc.has_value());
    BOOST_TEST(c.auth.oidc->leeway.count() == 5);
    BOOST_TEST(c.auth.publicPaths.size() == 1u);
    BOOST_TEST(checkError(c) == "no error");
}

BOOST_AUTO_TEST_CASE(errors_name_the_key) {
    struct Row {
        std::string json, key;
    };
    const std::vector<Row> rows{
        {R"({"tls": {"cert": "x"}})", "config.tls.cert"},
        {R"({"web": {"httpsPort": "443"}})", "config.web.httpsPort"},
        {R"({"dimse": {"tlsPort": 70000}})", "config.dimse.tlsPort"},
        {R"({"auth": {"bearerTokens": [{"sha256": "ab"}]}})", "config.auth.bearerTokens[0].name"},
        {R"({"auth": {"bearerTokens": [{"name": "x"}]}})", "config.auth.bearerTokens[0]"},
        {R"({"auth": {"bearerTokens": [{"name": "x", "token": "in-clear"}]}})",
         "config.auth.bearerTokens[0].token"},
        {R"({"auth": {"basicUsers": [{"name": "a:b", "passwordEnv": "P"}]}})",
         "config.auth.basicUsers[0].name"},
        {R"({"auth": {"basicUsers": [{"name": "a", "password": "clear"}]}})",
         "config.auth.basicUsers[0].password"},
        {R"({"auth": {"oidc": {"jwksFile": "j"}}})", "config.auth.oidc.issuer"},
        {R"({"auth": {"oidc": {"issuer": "i"}}})", "config.auth.oidc"},
        {R"({"auth": {"realm": "a\"b"}})", "config.auth.realm"},
    };
    for (const auto& row : rows)
        BOOST_TEST(errorOf(row.json).find(row.key) != std::string::npos,
                   row.json << " -> " << errorOf(row.json));
}

BOOST_AUTO_TEST_CASE(impossible_tls_combinations) {
    Config c;
    c.web.httpsPort = 8443;
    BOOST_TEST(checkError(c).find("tls.certFile") != std::string::npos);
    c.tls.certFile = "s.pem";
    BOOST_TEST(checkError(c).find("tls.keyFile") != std::string::npos);
    c.tls.keyFile = "s.key";
    BOOST_TEST(checkError(c) == "no error");
    c.dimse.plainEnabled = false;
    BOOST_TEST(checkError(c).find("dimse.plainEnabled") != std::string::npos);
    c.dimse.enabled = false;
    BOOST_TEST(checkError(c) == "no error");
    c.web.plainEnabled = false;
    c.web.httpsPort.reset();
    BOOST_TEST(checkError(c).find("web.plainEnabled") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
