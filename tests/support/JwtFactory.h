#pragma once
// Test helper: an RSA key pair that signs JWTs the way an OIDC issuer would (RS256), and writes
// its public key as PEM or as a JWKS document for JwtValidator / HttpAuthenticator tests.

#include <Poco/Base64Encoder.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/Timestamp.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace bridge::test {

struct JwtFactory {
    Poco::SharedPtr<Poco::Crypto::RSAKey> key{
        new Poco::Crypto::RSAKey(Poco::Crypto::RSAKey::KL_2048, Poco::Crypto::RSAKey::EXP_LARGE)};
    std::string kid = "test-key-1";

    /// A signed token; `exp` in seconds from now (negative: already expired).
    std::string sign(const std::string& issuer, const std::string& audience, long expInSeconds,
                     const std::string& subject = "alice", const std::vector<std::string>& collections = {},
                     const std::string& algorithm = Poco::JWT::Signer::ALGO_RS256) const {
        Poco::JWT::Token token;
        token.setType("JWT");
        token.setIssuer(issuer);
        token.setSubject(subject);
        if (!audience.empty()) token.setAudience(audience);
        token.setIssuedAt(Poco::Timestamp());
        token.setExpiration(Poco::Timestamp() +
                            static_cast<Poco::Timestamp::TimeDiff>(expInSeconds) * 1000000);
        if (!collections.empty()) {
            Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
            for (const auto& c : collections) array->add(c);
            token.payload().set("tcia_collections", array);
        }
        token.header().set("kid", kid);
        Poco::JWT::Signer signer(key);
        signer.setHMACKey("not-the-key");
        return signer.sign(token, algorithm);
    }

    void writePublicPem(const std::string& path) const {
        std::ofstream out(path);
        key->save(&out);
    }

    static std::string base64Url(const std::vector<unsigned char>& bytes) {
        std::ostringstream out;
        Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
        encoder.rdbuf()->setLineLength(0);
        encoder.write(reinterpret_cast<const char*>(bytes.data()),
                      static_cast<std::streamsize>(bytes.size()));
        encoder.close();
        return out.str();
    }

    void writeJwks(const std::string& path) const {
        std::ofstream out(path);
        out << R"({"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":")" << kid << R"(","n":")"
            << base64Url(key->modulus()) << R"(","e":")" << base64Url(key->encryptionExponent()) << "\"}]}";
    }
};

}  // namespace bridge::test
