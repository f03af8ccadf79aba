#include "web/HttpAuthenticator.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

#include "bridge/common/Error.h"
#include "web/JwtValidator.h"
#include "web/SecretHash.h"

namespace bridge::web {
namespace {

constexpr std::size_t kMaxVerifiedLogins = 1024;
constexpr std::size_t kMaxCredentialLength = 8192;

[[noreturn]] void configError(const std::string& key, const std::string& what) {
    throw BridgeError(ErrorCode::InvalidArgument, "config: " + key + ": " + what);
}

bool startsWithNoCase(const std::string& s, const std::string& prefix) {
    return s.size() >= prefix.size() && Poco::icompare(s, 0, prefix.size(), prefix) == 0;
}

using Poco::trim;

HttpPrincipal principalOf(const AuthPrincipal& a) {
    HttpPrincipal p;
    p.name = a.name;
    p.grants = a.grants;
    p.only = a.only;
    return p;
}

}  // namespace

HttpAuthenticator::HttpAuthenticator(const AuthSettings& auth, const AccessSettings& access,
                                     Environment environment)
    : realm_(auth.realm), publicPaths_(auth.publicPaths) {
    if (!environment)
        environment = [](const std::string& name) -> std::optional<std::string> {
            const char* v = std::getenv(name.c_str());
            return v && *v ? std::optional<std::string>(v) : std::nullopt;
        };
    for (std::size_t i = 0; i < auth.bearerTokens.size(); ++i) {
        const auto& a = auth.bearerTokens[i];
        const std::string key = "auth.bearerTokens[" + std::to_string(i) + "]";
        StaticPrincipal s{principalOf(a), {}, {}, nullptr};
        if (!a.secret.empty()) {
            s.sha256 = sha256Hex(a.secret);
        } else if (!a.secretEnv.empty()) {
            auto v = environment(a.secretEnv);
            if (!v) configError(key + ".tokenEnv", "environment variable " + a.secretEnv + " is not set");
            s.sha256 = sha256Hex(*v);
        } else {
            s.sha256 = Poco::toLower(a.secretHash);
            if (s.sha256.size() != 64 || s.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
                configError(key + ".sha256", "must be 64 hex digits (printf %s TOKEN | sha256sum)");
        }
        tokens_.push_back(std::move(s));
    }
    // access.grantsByToken: each token authenticates too, granted the collections listing it.
    std::map<std::string, std::set<std::string>> legacy;
    for (const auto& [collection, tokens] : access.grantsByToken)
        for (const auto& t : tokens) legacy[t].insert(collection);
    for (const auto& [token, collections] : legacy) {
        StaticPrincipal s{{}, sha256Hex(token), {}, nullptr};
        s.principal.name = "token:" + sha256Hex(token).substr(0, 8);
        s.principal.grants = collections;
        tokens_.push_back(std::move(s));
    }
    for (std::size_t i = 0; i < auth.basicUsers.size(); ++i) {
        const auto& a = auth.basicUsers[i];
        const std::string key = "auth.basicUsers[" + std::to_string(i) + "]";
        StaticPrincipal s{principalOf(a), {}, {}, nullptr};
        if (!a.secret.empty()) {
            s.secret = a.secret;
        } else if (!a.secretEnv.empty()) {
            auto v = environment(a.secretEnv);
            if (!v) configError(key + ".passwordEnv", "environment variable " + a.secretEnv + " is not set");
            s.secret = *v;
        } else {
            auto h = parsePbkdf2(a.secretHash);
            if (!h)
                configError(key + ".pbkdf2",
                            "must be pbkdf2-sha256$ITERATIONS$SALT$HEX (iterations >= 1000)");
            s.pbkdf2 = std::make_shared<Pbkdf2Hash>(*h);
        }
        users_.push_back(std::move(s));
    }
    if (auth.oidc) jwt_ = std::make_unique<JwtValidator>(*auth.oidc);
}

HttpAuthenticator::~HttpAuthenticator() = default;

AuthDecision HttpAuthenticator::authenticate(const std::string& authorization) const {
    const std::string header = trim(authorization);
    AuthDecision d;
    d.credentialsPresent = !header.empty();
    if (header.empty()) {
        d.reason = "authentication required";
        return d;
    }
    if (header.size() > kMaxCredentialLength) {
        d.reason = "credentials too long";
        return d;
    }
    if (startsWithNoCase(header, "bearer ")) return bearer(trim(header.substr(7)));
    if (startsWithNoCase(header, "basic ")) return basic(trim(header.substr(6)));
    d.reason = "unsupported authentication scheme";
    return d;
}

AuthDecision HttpAuthenticator::bearer(const std::string& token) const {
    AuthDecision d;
    d.credentialsPresent = true;
    if (token.empty()) {
        d.reason = "empty bearer token";
        return d;
    }
    if (jwt_ && JwtValidator::looksLikeJwt(token)) {
        try {
            d.principal = jwt_->validate(token);
            d.principal.bearerToken = token;
            d.authenticated = true;
        } catch (const BridgeError& e) {
            d.reason = e.what();
        }
        return d;
    }
    const std::string hash = sha256Hex(token);
    const StaticPrincipal* match = nullptr;
    for (const auto& s : tokens_)  // no early exit: time does not tell which entry matched
        if (constantTimeEquals(s.sha256, hash) && !match) match = &s;
    if (!match) {
        d.reason = "invalid token: unknown";
        return d;
    }
    d.authenticated = true;
    d.principal = match->principal;
    d.principal.bearerToken = token;
    return d;
}

AuthDecision HttpAuthenticator::basic(const std::string& credentials) const {
    AuthDecision d;
    d.credentialsPresent = true;
    std::string decoded;
    try {
        std::istringstream in(credentials);
        Poco::Base64Decoder decoder(in);
        decoded.assign(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
    } catch (const std::exception&) {
        d.reason = "malformed Basic credentials";
        return d;
    }
    const auto colon = decoded.find(':');
    if (colon == std::string::npos) {
        d.reason = "malformed Basic credentials";
        return d;
    }
    const std::string user = decoded.substr(0, colon), password = decoded.substr(colon + 1);
    const StaticPrincipal* entry = nullptr;
    for (const auto& s : users_)
        if (s.principal.name == user) entry = &s;
    bool ok = false;
    if (entry) {
        const std::string remembered = sha256Hex(user + '\0' + password);
        if (!entry->pbkdf2) {
            ok = constantTimeEquals(entry->secret, password);
        } else {
            {
                std::lock_guard<std::mutex> lock(verifiedMutex_);
                ok = verifiedBasic_.count(remembered) > 0;
            }
            if (!ok && verifyPbkdf2(*entry->pbkdf2, password)) {
                ok = true;
                std::lock_guard<std::mutex> lock(verifiedMutex_);
                if (verifiedBasic_.size() >= kMaxVerifiedLogins) verifiedBasic_.clear();
                verifiedBasic_.insert(remembered);
            }
        }
    }
    if (!ok) {
        d.reason = "invalid user name or password";
        return d;
    }
    d.authenticated = true;
    d.principal = entry->principal;
    return d;
}

std::vector<std::string> HttpAuthenticator::challenges(const AuthDecision& decision) const {
    std::string bearer = "Bearer realm=\"" + realm_ + "\"";
    // RFC 6750 3.1: invalid_token when a token was presented and refused.
    if (decision.credentialsPresent) bearer += ", error=\"invalid_token\"";
    std::vector<std::string> out{bearer};
    if (!users_.empty()) out.push_back("Basic realm=\"" + realm_ + "\", charset=\"UTF-8\"");
    return out;
}

}  // namespace bridge::web
