// Issue 9: credentials over http:// (finding 10b) and the credential identity that keys cached
// TCIA answers (finding 1). Pure helpers of TciaClient, table-tested.
#include <boost/test/unit_test.hpp>

#include "bridge/common/Error.h"
#include "bridge/tcia/TciaClient.h"

using namespace bridge;
using namespace bridge::tcia;

namespace {

TciaSettings with(const std::string& baseUrl, const std::string& tokenUrl, bool allowInsecure = false) {
    TciaSettings s;
    s.baseUrl = baseUrl;
    s.tokenUrl = tokenUrl;
    s.username = "user";
    s.password = "secret";
    s.allowInsecureCredentials = allowInsecure;
    return s;
}

enum class Outcome { Silent, Warn, Refuse };

}  // namespace

BOOST_AUTO_TEST_SUITE(CredentialTransport)

BOOST_AUTO_TEST_CASE(plain_http_credentials_are_refused_off_loopback_and_warned_on_it) {
    struct Row {
        std::string base, token;
        bool allow;
        Outcome expected;
    };
    const std::string https = "https://services.cancerimagingarchive.net/nbia-api/services/v4";
    const std::string httpsToken = "https://services.cancerimagingarchive.net/nbia-api/oauth/token";
    const std::vector<Row> rows{
        {https, "", false, Outcome::Silent},                                   // anonymous: nothing to protect
        {"http://tcia.example.org/v4", "", false, Outcome::Silent},            // anonymous over http
        {https, httpsToken, false, Outcome::Silent},                           // the normal case
        {https, "http://tcia.example.org/oauth/token", false, Outcome::Refuse},  // password in clear
        {"http://tcia.example.org/v4", httpsToken, false, Outcome::Refuse},    // bearer token in clear
        {"http://tcia.example.org/v4", httpsToken, true, Outcome::Warn},       // operator accepted the risk
        {"http://127.0.0.1:8/v4", "http://127.0.0.1:8/oauth/token", false, Outcome::Warn},  // emulator
        {"http://localhost:8/v4", "http://[::1]:8/oauth/token", false, Outcome::Warn},
        {"http://127.0.0.1:8/v4", "http://10.0.0.1/oauth/token", false, Outcome::Refuse},
    };
    for (const auto& r : rows) {
        const TciaSettings s = with(r.base, r.token, r.allow);
        BOOST_TEST_CONTEXT(r.base << " + " << r.token) {
            switch (r.expected) {
                case Outcome::Silent:
                    BOOST_TEST(!TciaClient::checkCredentialTransport(s).has_value());
                    break;
                case Outcome::Warn: {
                    const auto w = TciaClient::checkCredentialTransport(s);
                    BOOST_TEST(w.has_value());
                    if (w) BOOST_TEST(w->find("INSECURE") != std::string::npos);
                    break;
                }
                case Outcome::Refuse:
                    BOOST_CHECK_EXCEPTION(TciaClient::checkCredentialTransport(s), BridgeError, [](const BridgeError& e) {
                        return e.code() == ErrorCode::InvalidArgument &&
                               std::string(e.what()).find("allowInsecureCredentials") != std::string::npos;
                    });
                    BOOST_CHECK_THROW(TciaClient client(s), BridgeError);  // refused at start
                    break;
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(credential_identity_separates_anonymous_and_each_account_without_secrets) {
    const std::string https = "https://h/v4", token = "https://h/oauth/token";
    TciaSettings anonymous = with(https, "");
    BOOST_TEST(TciaClient::credentialIdentity(anonymous) == "anonymous");
    const std::string a = TciaClient::credentialIdentity(with(https, token));
    TciaSettings other = with(https, token);
    other.username = "someone-else";
    TciaSettings newPassword = with(https, token);
    newPassword.password = "rotated";
    BOOST_TEST(a.rfind("token:", 0) == 0u);
    BOOST_TEST(a != TciaClient::credentialIdentity(other));
    BOOST_TEST(a == TciaClient::credentialIdentity(newPassword));  // same account, same cache
    BOOST_TEST(a.find("secret") == std::string::npos);
    BOOST_TEST(a.find("user") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
