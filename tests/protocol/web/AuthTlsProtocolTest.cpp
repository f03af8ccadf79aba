// Protocol ring: HTTP authentication and HTTPS of the real DicomWebServer (production
// constructor over makeBridgeServices + the TCIA emulator) on real loopback sockets.
//  * auth decisions: no credentials, static bearer token, Basic user (PBKDF2), OIDC JWT (valid,
//    expired, wrong issuer, bad signature), a token's collection grant; 401 carries
//    WWW-Authenticate, CORS and a JSON body; preflight and public paths stay open.
//  * HTTPS with client certificates required (--tls-ca): certificates made by the openssl CLI.
#include "WebFixture.h"

#include "tests/support/JwtFactory.h"
#include "web/HttpAuthenticator.h"
#include "web/SecretHash.h"

#include <Poco/Base64Encoder.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>

#include <boost/test/unit_test.hpp>

#include <cstdlib>

using namespace bridge;
using namespace bridge::test;

namespace {

const std::string kRestrictedStudy = "1.2.826.0.1.3680043.10.1234.1.9";
const std::string kIssuer = "https://idp.example.org/realms/hospital";

std::string basicHeader(const std::string& user, const std::string& password) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << user << ':' << password;
    encoder.close();
    return "Basic " + out.str();
}

/// The bridge with auth on (and an HTTPS listener requiring client certificates).
struct AuthFixture {
    EmulatorProcess emulator{{"--quiet"}};
    TempDir dir;
    JwtFactory issuerKey;
    Config config;
    std::unique_ptr<BridgeServices> services;
    std::unique_ptr<web::DicomWebServer> server;

    AuthFixture() {
        // Throw-away CA, server and client certificates (openssl CLI, as an operator would).
        const std::string d = dir.path();
        const std::string script =
            "cd '" + d + "' && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca && "
            "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
            "printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext && "
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile server.ext && "
            "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=client && "
            "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1";
        BOOST_REQUIRE(std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0);

        config.tcia.baseUrl = emulator.baseUrl("v4");
        config.tcia.tokenUrl = "http://127.0.0.1:" + std::to_string(emulator.port()) + "/nbia-api/oauth/token";
        config.tcia.username = "emulator-user";
        config.tcia.password = "emulator-password";
        config.tcia.maxRetries = 0;
        config.cache.directory = d + "/cache";
        config.access.restrictedCollections = {"Restricted-Demo"};
        config.dimse.enabled = false;
        config.web.port = 0;
        config.web.httpsPort = 0;
        config.tls = {d + "/server.pem", d + "/server.key", d + "/ca.pem"};
        config.auth.enabled = true;
        AuthPrincipal viewer;
        viewer.name = "viewer";
        viewer.secretHash = web::sha256Hex("viewer-token");
        config.auth.bearerTokens.push_back(viewer);
        AuthPrincipal researcher;
        researcher.name = "researcher";
        researcher.secretHash = web::sha256Hex("researcher-token");
        researcher.grants = {"Restricted-Demo"};
        config.auth.bearerTokens.push_back(researcher);
        AuthPrincipal alice;
        alice.name = "alice";
        alice.secretHash = web::makePbkdf2("wonderland", "salt-of-alice", 1000);
        config.auth.basicUsers.push_back(alice);
        OidcSettings oidc;
        oidc.issuer = kIssuer;
        oidc.audiences = {"tcia-bridge"};
        oidc.jwksFile = d + "/jwks.json";
        oidc.grantsClaim = "tcia_collections";
        issuerKey.writeJwks(oidc.jwksFile);
        config.auth.oidc = oidc;
        services = makeBridgeServices(config);
        server = std::make_unique<web::DicomWebServer>(*services);
        server->start();
    }
    static AuthFixture& shared() {
        static AuthFixture fixture;
        return fixture;
    }
    HttpResult get(const std::string& uri, const std::map<std::string, std::string>& headers = {}) {
        return httpRequest(server->port(), "GET", uri, headers);
    }
    std::string jwt(long expInSeconds, const std::string& issuer = kIssuer, const std::vector<std::string>& grants = {}) {
        return issuerKey.sign(issuer, "tcia-bridge", expInSeconds, "dr-jones", grants);
    }
};

const std::string kStudies = "/dicom-web/studies?PatientID=TCGA-DM-0001";

}  // namespace

BOOST_AUTO_TEST_SUITE(HttpAuthOverSocket)

BOOST_AUTO_TEST_CASE(no_credentials_get_401_with_challenge_cors_and_json) {
    auto& f = AuthFixture::shared();
    const auto r = f.get(kStudies, {{"Origin", "http://viewer.example"}});
    BOOST_TEST(r.status == 401);
    BOOST_TEST(r.header("WWW-Authenticate").find("Bearer realm=\"tcia-bridge\"") == 0u);
    BOOST_TEST(r.header("Access-Control-Allow-Origin") == "*");
    BOOST_TEST(r.header("Access-Control-Expose-Headers").find("WWW-Authenticate") != std::string::npos);
    BOOST_TEST(r.header("Content-Type") == "application/json");
    BOOST_TEST(r.body.find("\"error\":\"unauthenticated\"") != std::string::npos);
    BOOST_TEST(r.body.find("\"status\":401") != std::string::npos);
    // Both challenges: Basic users are configured.
    std::vector<std::string> challenges;
    for (auto it = r.response.find("WWW-Authenticate"); it != r.response.end() && it->first == "WWW-Authenticate"; ++it)
        challenges.push_back(it->second);
    BOOST_TEST(challenges.size() == 2u);
}

BOOST_AUTO_TEST_CASE(preflight_and_public_paths_stay_open) {
    auto& f = AuthFixture::shared();
    const auto preflight = httpRequest(f.server->port(), "OPTIONS", kStudies,
                                       {{"Origin", "http://viewer.example"},
                                        {"Access-Control-Request-Method", "GET"},
                                        {"Access-Control-Request-Headers", "authorization"}});
    BOOST_TEST(preflight.status == 204);
    BOOST_TEST(preflight.header("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);
    BOOST_TEST(f.get("/health").status == 200);
    BOOST_TEST(f.get("/").status == 200);
    BOOST_TEST(f.get("/collections").status == 401);
    BOOST_TEST(f.get("/wado?requestType=WADO&studyUID=1&seriesUID=2&objectUID=3").status == 401);
}

// /status without credentials is a liveness answer only (monitoring needs no token), the details
// (collections, harvest, DIMSE address, cache) need credentials; the landing page likewise.
BOOST_AUTO_TEST_CASE(status_without_credentials_is_liveness_only) {
    auto& f = AuthFixture::shared();
    for (const std::string authorization : {"", "Bearer guessed"}) {
        std::map<std::string, std::string> headers;
        if (!authorization.empty()) headers["Authorization"] = authorization;
        const auto r = f.get("/status", headers);
        BOOST_TEST(r.status == 200, "'" << authorization << "': " << r.status);
        BOOST_TEST(r.body == "{\"status\":\"ok\"}", "'" << authorization << "': " << r.body.substr(0, 200));
        BOOST_TEST(r.header("Content-Type") == "application/json");
        const auto landing = f.get("/", headers);
        BOOST_TEST(landing.status == 200);
        BOOST_TEST(landing.body.find("<h2>Connect</h2>") == std::string::npos, "anonymous landing page shows the DIMSE address");
        BOOST_TEST(landing.body.find("<h2>Collections</h2>") != std::string::npos);
    }
    const std::map<std::string, std::string> viewer{{"Authorization", "Bearer viewer-token"}};
    const auto full = f.get("/status", viewer);
    BOOST_TEST(full.status == 200);
    BOOST_TEST(full.body.find("\"collections\"") != std::string::npos, full.body.substr(0, 200));
    BOOST_TEST(full.body.find("\"dimse\"") != std::string::npos);
    BOOST_TEST(f.get("/", viewer).body.find("<h2>Connect</h2>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(decisions_by_credential) {
    auto& f = AuthFixture::shared();
    struct Row {
        std::string what;
        std::string authorization;
        int status;
    };
    const std::vector<Row> rows{
        {"static token", "Bearer viewer-token", 200},
        {"unknown token", "Bearer guessed", 401},
        {"token hash instead of token", "Bearer " + web::sha256Hex("viewer-token"), 401},
        {"Basic user", basicHeader("alice", "wonderland"), 200},
        {"Basic wrong password", basicHeader("alice", "wonderlan"), 401},
        {"Basic unknown user", basicHeader("mallory", "wonderland"), 401},
        {"JWT valid", "Bearer " + f.jwt(300), 200},
        {"JWT expired", "Bearer " + f.jwt(-3600), 401},
        {"JWT wrong issuer", "Bearer " + f.jwt(300, "https://evil.example.org"), 401},
        {"JWT bad signature", "Bearer " + JwtFactory().sign(kIssuer, "tcia-bridge", 300), 401},
        {"unsupported scheme", "Negotiate abc", 401},
    };
    for (const auto& row : rows) {
        const auto r = f.get(kStudies, {{"Authorization", row.authorization}});
        BOOST_TEST(r.status == row.status, row.what << ": " << r.status << " " << r.body.substr(0, 120));
        if (row.status == 401) {
            BOOST_TEST(r.header("WWW-Authenticate").find("error=\"invalid_token\"") != std::string::npos, row.what);
            BOOST_TEST(r.header("Access-Control-Allow-Origin") == "*", row.what);
        } else {
            BOOST_TEST(r.body.find("1.2.826.0.1.3680043.10.1234.1.1") != std::string::npos, row.what);
        }
    }
}

BOOST_AUTO_TEST_CASE(each_principal_sees_its_collection_scope) {
    auto& f = AuthFixture::shared();
    const std::string uri = "/dicom-web/studies?StudyInstanceUID=" + kRestrictedStudy;
    auto count = [&](const std::string& authorization) {
        const auto r = f.get(uri, {{"Authorization", authorization}});
        BOOST_TEST(r.status == 200, authorization.substr(0, 30));
        std::size_t n = 0;
        for (auto pos = r.body.find(kRestrictedStudy); pos != std::string::npos; pos = r.body.find(kRestrictedStudy, pos + 1)) ++n;
        return n > 0;
    };
    BOOST_TEST(!count("Bearer viewer-token"));
    BOOST_TEST(count("Bearer researcher-token"));
    BOOST_TEST(!count("Bearer " + f.jwt(300)));
    BOOST_TEST(count("Bearer " + f.jwt(300, kIssuer, {"Restricted-Demo"})));
    // A public path with an invalid token is served anonymously, never with a widened scope.
    BOOST_TEST(f.get("/", {{"Authorization", "Bearer guessed"}}).status == 200);
}

BOOST_AUTO_TEST_CASE(https_requires_a_client_certificate_signed_by_the_ca) {
    auto& f = AuthFixture::shared();
    BOOST_REQUIRE(f.server->httpsPort() != 0);
    const std::string d = f.dir.path();
    auto fetch = [&](bool withCertificate) {
        Poco::Net::Context::Params params;
        if (withCertificate) {
            params.privateKeyFile = d + "/client.key";
            params.certificateFile = d + "/client.pem";
        }
        params.verificationMode = Poco::Net::Context::VERIFY_NONE;  // server verification: curl in tls.sh
        Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
        Poco::Net::HTTPSClientSession session("127.0.0.1", f.server->httpsPort(), context);
        session.setTimeout(Poco::Timespan(30, 0));
        Poco::Net::HTTPRequest request("GET", kStudies, Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Authorization", "Bearer viewer-token");
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::string body;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
        BOOST_TEST(body.find("https://127.0.0.1:" + std::to_string(f.server->httpsPort()) + "/dicom-web/studies/") !=
                   std::string::npos);
        return static_cast<int>(response.getStatus());
    };
    BOOST_TEST(fetch(true) == 200);
    BOOST_CHECK_THROW(fetch(false), Poco::Exception);
}

BOOST_AUTO_TEST_SUITE_END()
