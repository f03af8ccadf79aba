#include "web/JwtValidator.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JSON/Array.h>
#include <Poco/JWT/JWTException.h>
#include <Poco/JWT/Signer.h>
#include <Poco/JWT/Token.h>
#include <Poco/SharedPtr.h>
#include <json/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <fstream>
#include <sstream>

#include "bridge/common/Error.h"

namespace bridge::web {
namespace {

[[noreturn]] void configError(const std::string& key, const std::string& what) {
    throw BridgeError(ErrorCode::InvalidArgument, "config: auth.oidc." + key + ": " + what);
}
[[noreturn]] void reject(const std::string& why) {
    throw BridgeError(ErrorCode::Unauthenticated, "invalid token: " + why);
}

std::string base64UrlDecode(const std::string& text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    std::string out((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
    return out;
}

/// An RSA public key from the JWK modulus and exponent (OpenSSL 3 EVP_PKEY_fromdata).
std::shared_ptr<Poco::Crypto::RSAKey> rsaFromJwk(const std::string& n, const std::string& e) {
    const std::string nb = base64UrlDecode(n), eb = base64UrlDecode(e);
    if (nb.size() < 128 || eb.empty()) return nullptr;  // < 1024-bit modulus: refuse
    BIGNUM* bn =
        BN_bin2bn(reinterpret_cast<const unsigned char*>(nb.data()), static_cast<int>(nb.size()), nullptr);
    BIGNUM* be =
        BN_bin2bn(reinterpret_cast<const unsigned char*>(eb.data()), static_cast<int>(eb.size()), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM* params = nullptr;
    EVP_PKEY_CTX* ctx = nullptr;
    EVP_PKEY* pkey = nullptr;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) && (params = OSSL_PARAM_BLD_to_param(bld)) &&
        (ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr)) && EVP_PKEY_fromdata_init(ctx) > 0)
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
    std::shared_ptr<Poco::Crypto::RSAKey> key;
    if (pkey) key = std::make_shared<Poco::Crypto::RSAKey>(Poco::Crypto::EVPPKey(pkey));  // EVPPKey copies
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return key;
}

std::string readFile(const std::string& path, const std::string& key) {
    std::ifstream in(path, std::ios::binary);
    if (!in) configError(key, "cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

double numericClaim(const Poco::JSON::Object& payload, const std::string& name, bool& present) {
    present = payload.has(name);
    if (!present) return 0;
    try {
        return payload.get(name).convert<double>();
    } catch (const Poco::Exception&) {
        reject("claim " + name + " is not a number");
    }
}

std::vector<std::string> stringOrList(const Poco::Dynamic::Var& v) {
    std::vector<std::string> out;
    if (v.isEmpty()) return out;
    if (v.isString()) {
        std::istringstream words(v.convert<std::string>());
        for (std::string w; words >> w;) out.push_back(w);
        return out;
    }
    if (v.type() == typeid(Poco::JSON::Array::Ptr)) {
        auto array = v.extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < array->size(); ++i)
            if (array->get(i).isString()) out.push_back(array->get(i).convert<std::string>());
    }
    return out;
}

}  // namespace

JwtValidator::JwtValidator(OidcSettings settings) : settings_(std::move(settings)) {
    if (!settings_.publicKeyFile.empty()) {
        const std::string pem = readFile(settings_.publicKeyFile, "publicKeyFile");
        try {
            std::istringstream in(pem);
            keys_[""] = std::make_shared<Poco::Crypto::RSAKey>(&in);
        } catch (const Poco::Exception& e) {
            configError("publicKeyFile",
                        "no RSA public key in " + settings_.publicKeyFile + ": " + e.displayText());
        }
        return;
    }
    const std::string text = readFile(settings_.jwksFile, "jwksFile");
    Json::Value root;
    Json::CharReaderBuilder builder;
    std::string errors;
    std::istringstream in(text);
    if (!Json::parseFromStream(builder, in, &root, &errors) || !root.isObject() || !root["keys"].isArray())
        configError("jwksFile", settings_.jwksFile + " is not a JWKS document {\"keys\": [...]}");
    for (const auto& k : root["keys"]) {
        if (!k.isObject() || k["kty"].asString() != "RSA" || !k["n"].isString() || !k["e"].isString())
            continue;
        if (k.isMember("use") && k["use"].asString() != "sig") continue;
        if (auto key = rsaFromJwk(k["n"].asString(), k["e"].asString())) keys_[k["kid"].asString()] = key;
    }
    if (keys_.empty()) configError("jwksFile", "no RSA signing key in " + settings_.jwksFile);
}

JwtValidator::~JwtValidator() = default;

bool JwtValidator::looksLikeJwt(const std::string& token) {
    const auto first = token.find('.');
    if (first == std::string::npos) return false;
    const auto second = token.find('.', first + 1);
    return second != std::string::npos && token.find('.', second + 1) == std::string::npos;
}

HttpPrincipal JwtValidator::validate(const std::string& jwt,
                                     std::chrono::system_clock::time_point now) const {
    if (!looksLikeJwt(jwt)) reject("not a JWT");
    Poco::JWT::Token unverified;
    try {
        unverified = Poco::JWT::Token(jwt);
    } catch (const Poco::Exception&) {
        reject("malformed JWT");
    }
    if (unverified.getAlgorithm() != Poco::JWT::Signer::ALGO_RS256) reject("algorithm must be RS256");
    std::shared_ptr<Poco::Crypto::RSAKey> key;
    const std::string kid = unverified.header().optValue<std::string>("kid", "");
    if (auto it = keys_.find(kid); it != keys_.end())
        key = it->second;
    else if (keys_.size() == 1 && (kid.empty() || keys_.begin()->first.empty()))
        key = keys_.begin()->second;
    if (!key) reject("unknown key id");

    Poco::JWT::Token token;
    try {
        Poco::JWT::Signer signer(Poco::SharedPtr<Poco::Crypto::RSAKey>(new Poco::Crypto::RSAKey(*key)));
        signer.setAlgorithms({Poco::JWT::Signer::ALGO_RS256});
        token = signer.verify(jwt);
    } catch (const Poco::JWT::SignatureVerificationException&) {
        reject("bad signature");
    } catch (const Poco::Exception&) {
        reject("signature cannot be verified");
    }
    const auto& payload = token.payload();
    if (token.getIssuer() != settings_.issuer) reject("wrong issuer");
    if (!settings_.audiences.empty()) {
        bool ok = false;
        for (const auto& a : stringOrList(payload.get("aud")))
            if (settings_.audiences.count(a)) ok = true;
        if (!ok) reject("wrong audience");
    }
    const double t = std::chrono::duration<double>(now.time_since_epoch()).count();
    const double leeway = static_cast<double>(settings_.leeway.count());
    bool present = false;
    const double exp = numericClaim(payload, "exp", present);
    if (!present) reject("no expiry (exp)");
    if (t > exp + leeway) reject("expired");
    const double nbf = numericClaim(payload, "nbf", present);
    if (present && t + leeway < nbf) reject("not yet valid (nbf)");

    HttpPrincipal principal;
    principal.name = payload.optValue<std::string>(settings_.nameClaim, "");
    if (principal.name.empty()) principal.name = token.getSubject();
    if (principal.name.empty()) principal.name = "oidc";
    principal.grants = settings_.grants;
    if (!settings_.grantsClaim.empty())
        for (const auto& c : stringOrList(payload.get(settings_.grantsClaim))) principal.grants.insert(c);
    return principal;
}

}  // namespace bridge::web
