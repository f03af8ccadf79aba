#pragma once
// HTTP authentication of the DICOMweb adapter (config block `auth`, off by default). Decides one
// request from its Authorization header:
//   Bearer <JWT>    -> JwtValidator (auth.oidc), when configured and the token has JWT shape
//   Bearer <token>  -> a static token: auth.bearerTokens (SHA-256 in config or env), the
//                      --bearer-token flags, and every token of access.grantsByToken (so a config
//                      written for "tokens widen access" keeps working with auth on)
//   Basic <b64>     -> auth.basicUsers (PBKDF2-SHA256 in config, or password from env); a
//                      successful check is remembered (hash of user+password, at most 1024
//                      entries) so OHIF's hundreds of requests do not each pay for PBKDF2
// The result is an HttpPrincipal for AccessPolicy::forPrincipal, or a refusal whose reason goes
// into the 401 body (never the secret). Thread-safe after construction.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bridge/common/Config.h"
#include "bridge/query/AccessPolicy.h"

namespace bridge::web {

class JwtValidator;
struct Pbkdf2Hash;

struct AuthDecision {
    bool authenticated = false;
    HttpPrincipal principal;          ///< when authenticated
    std::string reason;               ///< when not: e.g. "no credentials", "invalid token: expired"
    bool credentialsPresent = false;  ///< an Authorization header was sent (RFC 6750 error="invalid_token")
};

class HttpAuthenticator {
public:
    using Environment = std::function<std::optional<std::string>(const std::string& name)>;
    /// Resolves tokenEnv/passwordEnv through `environment` (default: getenv), parses the hashes,
    /// loads the OIDC keys. Throws BridgeError(InvalidArgument) naming the auth.* key at fault.
    HttpAuthenticator(const AuthSettings& auth, const AccessSettings& access, Environment environment = {});
    ~HttpAuthenticator();

    /// The decision for one request; `authorization` is the header value ("" when absent).
    AuthDecision authenticate(const std::string& authorization) const;
    /// True for a path that needs no credentials (auth.publicPaths, exact match).
    bool isPublic(const std::string& path) const { return publicPaths_.count(path) > 0; }
    /// WWW-Authenticate values for a 401 (RFC 6750 3 for Bearer, RFC 7617 2 for Basic).
    std::vector<std::string> challenges(const AuthDecision& decision) const;

private:
    struct StaticPrincipal {
        HttpPrincipal principal;             ///< without bearerToken
        std::string sha256;                  ///< token: hex SHA-256 of the token
        std::string secret;                  ///< Basic from env: the password in clear
        std::shared_ptr<Pbkdf2Hash> pbkdf2;  ///< Basic from config
    };
    AuthDecision bearer(const std::string& token) const;
    AuthDecision basic(const std::string& credentials) const;

    std::string realm_;
    std::set<std::string> publicPaths_;
    std::vector<StaticPrincipal> tokens_;
    std::vector<StaticPrincipal> users_;
    std::unique_ptr<JwtValidator> jwt_;
    mutable std::mutex verifiedMutex_;
    mutable std::set<std::string> verifiedBasic_;  ///< sha256(user \0 password) of checked logins
};

}  // namespace bridge::web
