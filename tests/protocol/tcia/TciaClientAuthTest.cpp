// OAuth2 against the emulator's token endpoint (/nbia-api/oauth/token): the restricted
// collection appears only with a token, tokens are refreshed before they expire, a 401 triggers
// one re-authentication, bad credentials are Unauthorized, and nothing secret is logged.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "TciaTestHelpers.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/TciaClient.h"

using namespace bridge;
using namespace bridge::tcia;
using namespace bridge::test;

namespace {

const char* kUser = "emulator-user";
const char* kPassword = "s3cret-Pa55word";

TciaSettings authSettings(const EmulatorProcess& emulator, const std::string& version = "v4") {
    auto s = fastSettings(emulator, version);
    s.tokenUrl = "http://127.0.0.1:" + std::to_string(emulator.port()) + "/nbia-api/oauth/token";
    s.username = kUser;
    s.password = kPassword;
    return s;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

int countLines(const std::vector<std::string>& lines, const std::string& needle) {
    return static_cast<int>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
        return l.find(needle) != std::string::npos;
    }));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(Auth)

BOOST_AUTO_TEST_CASE(restrictedCollectionOnlyWithToken) {
    EmulatorProcess emulator({"--quiet", "--token-user", kUser, "--token-password", kPassword});
    for (const char* version : {"v4", "v1"}) {
        BOOST_TEST_CONTEXT(version) {
            TciaClient anonymous(fastSettings(emulator, version));
            TciaClient authenticated(authSettings(emulator, version));
            BOOST_TEST(!contains(anonymous.collections(RequestContext()), "Restricted-Demo"));
            BOOST_TEST(contains(authenticated.collections(RequestContext()), "Restricted-Demo"));

            auto restricted = authenticated.series({"Restricted-Demo", "", "", "", "", "", "", ""}, RequestContext());
            BOOST_REQUIRE(!restricted.empty());
            BOOST_TEST(anonymous.series({"Restricted-Demo", "", "", "", "", "", "", ""}, RequestContext()).empty());
            RequestContext context;
            const auto& s = restricted.front();
            std::size_t n = authenticated.downloadSeries(
                s.seriesInstanceUid, {false, s.imageCount, {}}, [](DownloadedInstance&&) {}, context);
            BOOST_TEST(static_cast<std::int64_t>(n) == s.imageCount.value_or(-1));
            BOOST_CHECK_EXCEPTION(anonymous.downloadSeries(
                                      s.seriesInstanceUid, {}, [](DownloadedInstance&&) {}, context),
                                  BridgeError,
                                  [](const BridgeError& e) { return e.code() == ErrorCode::NotFound; });
        }
    }
}

BOOST_AUTO_TEST_CASE(tokenRefreshedBeforeExpiry) {
    EmulatorProcess emulator(
        {"--quiet", "--token-user", kUser, "--token-password", kPassword, "--token-lifetime", "1"});
    auto capture = LogCapture::install();
    {
        TciaClient client(authSettings(emulator));
        BOOST_TEST(contains(client.collections(RequestContext()), "Restricted-Demo"));
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past expiry
        BOOST_TEST(contains(client.collections(RequestContext()), "Restricted-Demo"));
        std::this_thread::sleep_for(std::chrono::milliseconds(900));  // past the refresh margin (200 ms)
        BOOST_TEST(contains(client.collections(RequestContext()), "Restricted-Demo"));
    }
    capture->uninstall();
    auto lines = capture->lines();
    BOOST_TEST(countLines(lines, "(password grant) -> 200") == 1);
    BOOST_TEST(countLines(lines, "(refresh_token grant) -> 200") == 2);
    BOOST_TEST(countLines(lines, "-> 401") == 0, "no request went out with an expired token");
}

BOOST_AUTO_TEST_CASE(unauthorizedTriggersOneReauthentication) {
    EmulatorProcess emulator({"--quiet", "--token-user", kUser, "--token-password", kPassword, "--fault",
                              "getCollectionValues:401:1"});
    auto capture = LogCapture::install();
    {
        TciaClient client(authSettings(emulator));
        BOOST_TEST(contains(client.collections(RequestContext()), "Restricted-Demo"));
    }
    capture->uninstall();
    auto lines = capture->lines();
    BOOST_TEST(countLines(lines, "getCollectionValues -> 401") == 1);
    BOOST_TEST(countLines(lines, "getCollectionValues -> 200") == 1);
    BOOST_TEST(countLines(lines, "(password grant) -> 200") == 2);
    BOOST_TEST(endpointCount(emulator, "getCollectionValues") == 2);
}

BOOST_AUTO_TEST_CASE(persistentUnauthorizedGivesUp) {
    EmulatorProcess emulator(
        {"--quiet", "--token-user", kUser, "--token-password", kPassword, "--fault", "getSeries:401:10"});
    TciaClient client(authSettings(emulator));
    BOOST_CHECK_EXCEPTION(client.series({"TCGA-DEMO-CT", "", "", "", "", "", "", ""}, RequestContext()), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::Unauthorized; });
    BOOST_TEST(endpointCount(emulator, "getSeries") == 2);
}

BOOST_AUTO_TEST_CASE(badCredentialsAreUnauthorizedAndNeverLogged) {
    EmulatorProcess emulator({"--quiet", "--token-user", kUser, "--token-password", kPassword});
    auto capture = LogCapture::install();
    auto settings = authSettings(emulator);
    settings.password = "wrong-Pa55word";
    {
        TciaClient client(settings);
        BOOST_CHECK_EXCEPTION(client.collections(RequestContext()), BridgeError,
                              [](const BridgeError& e) { return e.code() == ErrorCode::Unauthorized; });
        TciaClient good(authSettings(emulator));
        good.collections(RequestContext());
    }
    capture->uninstall();
    for (const auto& l : capture->lines()) {
        BOOST_TEST(l.find("Pa55word") == std::string::npos, l);
        BOOST_TEST(l.find("Bearer") == std::string::npos, l);
        BOOST_TEST(l.find("access_token") == std::string::npos, l);
    }
    BOOST_TEST(endpointCount(emulator, "getCollectionValues") == 1, "no API call without a token");
}

BOOST_AUTO_TEST_SUITE_END()
