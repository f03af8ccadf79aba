// Pure helpers of TciaClient and HttpTransport: URL building, encoding, version selection.
#include <boost/test/unit_test.hpp>

#include "bridge/common/Error.h"
#include "bridge/tcia/HttpTransport.h"
#include "bridge/tcia/TciaClient.h"
#include "bridge/tcia/TokenProvider.h"

using namespace bridge;
using namespace bridge::tcia;

BOOST_AUTO_TEST_SUITE(ClientHelpers)

BOOST_AUTO_TEST_CASE(urlsEncodeValuesAndDropEmptyOnes) {
    BOOST_TEST(
        TciaClient::buildUrl("http://h/nbia-api/services/v4/", "getSeries",
                             {{"Collection", "RIDER Lung CT"}, {"PatientID", ""}, {"Modality", "CT"}}) ==
        "http://h/nbia-api/services/v4/getSeries?Collection=RIDER%20Lung%20CT&Modality=CT");
    BOOST_TEST(TciaClient::buildUrl("http://h/v1", "getCollectionValues", {}) ==
               "http://h/v1/getCollectionValues");
    BOOST_TEST(HttpTransport::encodeQueryValue("a&b=c/d?e#f+g%h") == "a%26b%3Dc%2Fd%3Fe%23f%2Bg%25h");
    BOOST_TEST(HttpTransport::encodeQueryValue("1.2.840-x_y~z") == "1.2.840-x_y~z");
    BOOST_TEST(HttpTransport::encodeQueryValue("CHEST (THORAX) ") == "CHEST%20%28THORAX%29%20");
    BOOST_TEST(HttpTransport::encodeQueryValue("\xc3\xa9") == "%C3%A9");
    BOOST_TEST(HttpTransport::pathForLog("http://h:8/a/b?c=d") == "/a/b");
}

BOOST_AUTO_TEST_CASE(versionSelection) {
    BOOST_TEST((TciaClient::parseVersion("v4", "http://x/services/v1") == ApiVersion::V4));
    BOOST_TEST((TciaClient::parseVersion("V1", "") == ApiVersion::V1));
    BOOST_TEST((TciaClient::parseVersion("v2", "") == ApiVersion::V1));
    BOOST_TEST((TciaClient::parseVersion("", "http://x/nbia-api/services/v1") == ApiVersion::V1));
    BOOST_TEST((TciaClient::parseVersion("", "http://x/nbia-api/services/v4") == ApiVersion::V4));
    BOOST_CHECK_THROW(TciaClient::parseVersion("v3", ""), BridgeError);
}

BOOST_AUTO_TEST_CASE(getSeriesWithoutFilterIsRefusedBeforeAnyNetwork) {
    TciaSettings s;
    s.baseUrl = "http://127.0.0.1:1/nbia-api/services/v4";  // nothing listens: no request may be made
    TciaClient client(s);
    BOOST_CHECK_EXCEPTION(client.series({}, RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::QueryTooBroad; });
    BOOST_CHECK_EXCEPTION(client.sopInstanceUids("", RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::InvalidArgument; });
    BOOST_CHECK_EXCEPTION(client.newPatientsInCollection("C", "not a date", RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::InvalidArgument; });
}

BOOST_AUTO_TEST_CASE(tokenResponses) {
    auto t = TokenProvider::parseTokenResponse(
        R"({"access_token":"f7889076","token_type":"bearer","refresh_token":"671bb72b","expires_in":7199})");
    BOOST_TEST(t.accessToken == "f7889076");
    BOOST_TEST(t.refreshToken == "671bb72b");
    BOOST_TEST(t.expiresIn.count() == 7199);
    BOOST_TEST(t.refreshExpiresIn.count() == 0);
    auto k = TokenProvider::parseTokenResponse(
        R"({"access_token":"eyJ","expires_in":"300","refresh_expires_in":1800,"refresh_token":"r","token_type":"Bearer","scope":"openid"})");
    BOOST_TEST(k.expiresIn.count() == 300);
    BOOST_TEST(k.refreshExpiresIn.count() == 1800);
    BOOST_CHECK_EXCEPTION(TokenProvider::parseTokenResponse(
                              R"({"error":"invalid_grant","error_description":"Invalid user credentials"})"),
                          BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::Unauthorized; });
    BOOST_CHECK_EXCEPTION(TokenProvider::parseTokenResponse("<html>"), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::UpstreamBadResponse; });
    BOOST_CHECK_EXCEPTION(TokenProvider::parseTokenResponse(R"({"token_type":"bearer"})"), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::UpstreamBadResponse; });
    BOOST_TEST(TokenProvider::refreshMargin(std::chrono::seconds(7199)).count() == 60000);
    BOOST_TEST(TokenProvider::refreshMargin(std::chrono::seconds(2)).count() == 400);
}

BOOST_AUTO_TEST_SUITE_END()
