// HTTP authentication decisions (web/HttpAuthenticator, web/JwtValidator, web/SecretHash), table
// style, no sockets: static tokens (hashed, env), Basic users (PBKDF2, env), access.grantsByToken
// tokens, OIDC JWTs (valid, expired, wrong issuer/audience, bad signature, alg confusion, kid).
#include <Poco/Base64Encoder.h>

#include <boost/test/unit_test.hpp>

#include "bridge/common/Error.h"
#include "tests/support/JwtFactory.h"
#include "tests/support/TestSupport.h"
#include "web/HttpAuthenticator.h"
#include "web/JwtValidator.h"
#include "web/SecretHash.h"

using namespace bridge;
using namespace bridge::web;

namespace {

std::string basicHeader(const std::string& user, const std::string& password) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << user << ':' << password;
    encoder.close();
    return "Basic " + out.str();
}

AuthPrincipal token(const std::string& name, const std::string& sha256, std::set<std::string> grants = {}) {
    AuthPrincipal p;
    p.name = name;
    p.secretHash = sha256;
    p.grants = std::move(grants);
    return p;
}

HttpAuthenticator::Environment fakeEnv(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(SecretHashTests)

BOOST_AUTO_TEST_CASE(sha256_matches_the_standard_vector) {
    BOOST_TEST(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(pbkdf2_matches_rfc7914_vector_and_parses) {
    // RFC 7914 11: PBKDF2-HMAC-SHA256("passwd", "salt", 1) is the 64-byte vector; here the
    // 4096-iteration SHA-256 vector widely published for ("password", "salt").
    const std::string encoded = makePbkdf2("password", "salt", 4096);
    BOOST_TEST(encoded ==
               "pbkdf2-sha256$4096$salt$c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
    auto parsed = parsePbkdf2(encoded);
    BOOST_REQUIRE(parsed);
    BOOST_TEST(verifyPbkdf2(*parsed, "password"));
    BOOST_TEST(!verifyPbkdf2(*parsed, "Password"));
    // openssl kdf prints colon-separated upper-case hex: accepted too.
    BOOST_TEST(
        parsePbkdf2("pbkdf2-sha256$4096$salt$C5:E4:78:D5:92:88:C8:41:AA:53:0D:B6:84:5C:4C:8D").has_value());
}

BOOST_AUTO_TEST_CASE(malformed_pbkdf2_values_are_refused) {
    for (const char* bad :
         {"", "sha256$1$a$00", "pbkdf2-sha256$10$salt$c5e478d59288c841aa530db6845c4c8d",
          "pbkdf2-sha256$4096$$c5e478d59288c841aa530db6845c4c8d", "pbkdf2-sha256$4096$salt$zz",
          "pbkdf2-sha256$x$salt$c5e478d59288c841aa530db6845c4c8d", "pbkdf2-sha256$4096$salt$c5",
          "pbkdf2-sha256$4096$salt$c5e478d59288c841aa530db6845c4c8d9",  // odd number of digits
          "pbkdf2-sha256$4096$salt$:::", "pbkdf2-sha256$4096$salt$c5e478d59288c841aa530db6845c4c8g"})
        BOOST_TEST(!parsePbkdf2(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(HttpAuthenticatorTests)

BOOST_AUTO_TEST_CASE(static_tokens_from_hash_env_flag_and_grants_by_token) {
    AuthSettings auth;
    auth.enabled = true;
    auth.bearerTokens.push_back(token("ohif", sha256Hex("hashed-secret"), {"Restricted-Demo"}));
    AuthPrincipal fromEnv;
    fromEnv.name = "ci";
    fromEnv.secretEnv = "CI_TOKEN";
    auth.bearerTokens.push_back(fromEnv);
    AuthPrincipal fromFlag;
    fromFlag.name = "token-3";
    fromFlag.secret = "flag-secret";
    auth.bearerTokens.push_back(fromFlag);
    AccessSettings access;
    access.grantsByToken["Secret-Trial"] = {"legacy-token"};
    HttpAuthenticator authenticator(auth, access, fakeEnv({{"CI_TOKEN", "env-secret"}}));

    struct Row {
        std::string header;
        bool ok;
        std::string name;
    };
    const std::vector<Row> rows{
        {"Bearer hashed-secret", true, "ohif"},
        {"bearer   hashed-secret  ", true, "ohif"},
        {"BEARER hashed-secret", true, "ohif"},          // the scheme is case-insensitive (RFC 9110 11.1)
        {" \tBearer hashed-secret\t", true, "ohif"},      // blanks around the header value
        {"Bearer\thashed-secret", false, ""},             // the scheme ends with a space, not a tab
        {"Bearer env-secret", true, "ci"},
        {"Bearer flag-secret", true, "token-3"},
        {"Bearer legacy-token", true, "token:" + sha256Hex("legacy-token").substr(0, 8)},
        {"Bearer " + sha256Hex("hashed-secret"), false, ""},  // the hash itself is not the token
        {"Bearer wrong", false, ""},
        {"Bearer ", false, ""},
        {"", false, ""},
        {"Digest username=x", false, ""},
        {"Bearer " + std::string(9000, 'a'), false, ""},
    };
    for (const auto& row : rows) {
        const auto d = authenticator.authenticate(row.header);
        BOOST_TEST(d.authenticated == row.ok, row.header.substr(0, 40));
        if (row.ok) {
            BOOST_TEST(d.principal.name == row.name);
        } else {
            BOOST_TEST(!d.reason.empty());
        }
    }
    const auto ohif = authenticator.authenticate("Bearer hashed-secret");
    BOOST_TEST(ohif.principal.grants.count("Restricted-Demo") == 1u);
    const auto legacy = authenticator.authenticate("Bearer legacy-token");
    BOOST_TEST(legacy.principal.grants.count("Secret-Trial") == 1u);
    BOOST_TEST(*legacy.principal.bearerToken == "legacy-token");
}

BOOST_AUTO_TEST_CASE(basic_users_pbkdf2_and_env) {
    AuthSettings auth;
    AuthPrincipal alice;
    alice.name = "alice";
    alice.secretHash = makePbkdf2("wonderland", "NaCl", 2000);
    alice.only = std::set<std::string>{"TCGA-DEMO-CT"};
    AuthPrincipal bob;
    bob.name = "bob";
    bob.secretEnv = "BOB_PASSWORD";
    auth.basicUsers = {alice, bob};
    HttpAuthenticator authenticator(auth, {}, fakeEnv({{"BOB_PASSWORD", "builder:with:colons"}}));

    BOOST_TEST(authenticator.authenticate(basicHeader("alice", "wonderland")).authenticated);
    BOOST_TEST(authenticator.authenticate(basicHeader("alice", "wonderland")).authenticated);  // remembered
    BOOST_TEST(!authenticator.authenticate(basicHeader("alice", "Wonderland")).authenticated);
    BOOST_TEST(!authenticator.authenticate(basicHeader("mallory", "wonderland")).authenticated);
    BOOST_TEST(authenticator.authenticate(basicHeader("bob", "builder:with:colons")).authenticated);
    BOOST_TEST(!authenticator.authenticate(basicHeader("bob", "builder")).authenticated);
    BOOST_TEST(!authenticator.authenticate("Basic !!!not-base64").authenticated);
    const auto d = authenticator.authenticate(basicHeader("alice", "wonderland"));
    BOOST_TEST(d.principal.only.has_value());
    // Basic users configured: both challenges; a refused credential says invalid_token.
    const auto refused = authenticator.authenticate("Bearer nope");
    const auto challenges = authenticator.challenges(refused);
    BOOST_REQUIRE(challenges.size() == 2u);
    BOOST_TEST(challenges[0] == "Bearer realm=\"tcia-bridge\", error=\"invalid_token\"");
    BOOST_TEST(challenges[1] == "Basic realm=\"tcia-bridge\", charset=\"UTF-8\"");
    BOOST_TEST(authenticator.challenges(authenticator.authenticate(""))[0] == "Bearer realm=\"tcia-bridge\"");
}

BOOST_AUTO_TEST_CASE(configuration_errors_name_the_key) {
    auto messageOf = [](AuthSettings auth) -> std::string {
        try {
            HttpAuthenticator a(auth, {}, fakeEnv({}));
        } catch (const BridgeError& e) {
            BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(ErrorCode::InvalidArgument));
            return e.what();
        }
        return "no error";
    };
    AuthSettings badHash;
    badHash.bearerTokens.push_back(token("x", "not-hex"));
    BOOST_TEST(messageOf(badHash).find("auth.bearerTokens[0].sha256") != std::string::npos);
    AuthSettings missingEnv;
    AuthPrincipal p;
    p.name = "y";
    p.secretEnv = "NOT_SET_ANYWHERE";
    missingEnv.basicUsers.push_back(p);
    BOOST_TEST(messageOf(missingEnv).find("auth.basicUsers[0].passwordEnv") != std::string::npos);
    AuthSettings badPbkdf2;
    AuthPrincipal q;
    q.name = "z";
    q.secretHash = "md5$abc";
    badPbkdf2.basicUsers.push_back(q);
    BOOST_TEST(messageOf(badPbkdf2).find("auth.basicUsers[0].pbkdf2") != std::string::npos);
    AuthSettings missingJwks;
    missingJwks.oidc = OidcSettings{};
    missingJwks.oidc->issuer = "https://idp";
    missingJwks.oidc->jwksFile = "/nonexistent/jwks.json";
    BOOST_TEST(messageOf(missingJwks).find("auth.oidc.jwksFile") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(JwtValidatorTests)

struct JwtFixture {
    test::JwtFactory issuerKey;
    test::TempDir dir;
    OidcSettings settings;
    JwtFixture() {
        settings.issuer = "https://idp.example.org/realms/hospital";
        settings.audiences = {"tcia-bridge"};
        settings.grantsClaim = "tcia_collections";
        settings.jwksFile = dir.path() + "/jwks.json";
        issuerKey.writeJwks(settings.jwksFile);
    }
    std::string reasonOf(const JwtValidator& v, const std::string& jwt) {
        try {
            v.validate(jwt);
            return "accepted";
        } catch (const BridgeError& e) {
            BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(ErrorCode::Unauthenticated));
            return e.what();
        }
    }
};

BOOST_FIXTURE_TEST_CASE(valid_token_from_jwks_gives_name_and_grants, JwtFixture) {
    JwtValidator validator(settings);
    const auto p =
        validator.validate(issuerKey.sign(settings.issuer, "tcia-bridge", 300, "alice", {"Restricted-Demo"}));
    BOOST_TEST(p.name == "alice");
    BOOST_TEST(p.grants.count("Restricted-Demo") == 1u);
}

BOOST_FIXTURE_TEST_CASE(refusals_by_reason, JwtFixture) {
    JwtValidator validator(settings);
    test::JwtFactory otherKey;  // same kid, different key: a forged signature
    const std::string good = issuerKey.sign(settings.issuer, "tcia-bridge", 300);
    struct Row {
        std::string jwt;
        std::string reason;
    };
    const std::vector<Row> rows{
        {issuerKey.sign(settings.issuer, "tcia-bridge", -3600), "expired"},
        {issuerKey.sign("https://evil.example.org", "tcia-bridge", 300), "wrong issuer"},
        {issuerKey.sign(settings.issuer, "another-app", 300), "wrong audience"},
        {otherKey.sign(settings.issuer, "tcia-bridge", 300), "bad signature"},
        {issuerKey.sign(settings.issuer, "tcia-bridge", 300, "x", {}, Poco::JWT::Signer::ALGO_HS256),
         "RS256"},
        {good.substr(0, good.rfind('.') + 1), "signature"},
        {"a.b", "not a JWT"},
        {"eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.", "RS256"},  // alg none
    };
    for (const auto& row : rows)
        BOOST_TEST(reasonOf(validator, row.jwt).find(row.reason) != std::string::npos, row.reason);
    // Leeway: 30 s past exp is still inside the default 60 s.
    BOOST_TEST(reasonOf(validator, issuerKey.sign(settings.issuer, "tcia-bridge", -30)) == "accepted");
}

BOOST_FIXTURE_TEST_CASE(pem_public_key_works_too, JwtFixture) {
    settings.jwksFile.clear();
    settings.publicKeyFile = dir.path() + "/issuer.pem";
    issuerKey.writePublicPem(settings.publicKeyFile);
    JwtValidator validator(settings);
    BOOST_TEST(validator.validate(issuerKey.sign(settings.issuer, "tcia-bridge", 60)).name == "alice");
}

BOOST_FIXTURE_TEST_CASE(authenticator_routes_jwts_to_the_validator, JwtFixture) {
    AuthSettings auth;
    auth.oidc = settings;
    HttpAuthenticator authenticator(auth, {}, fakeEnv({}));
    const auto ok =
        authenticator.authenticate("Bearer " + issuerKey.sign(settings.issuer, "tcia-bridge", 60));
    BOOST_TEST(ok.authenticated);
    const auto expired =
        authenticator.authenticate("Bearer " + issuerKey.sign(settings.issuer, "tcia-bridge", -600));
    BOOST_TEST(!expired.authenticated);
    BOOST_TEST(expired.reason.find("expired") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
