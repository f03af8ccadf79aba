#pragma once
// OIDC access tokens: verifies a JWT (JWS compact form) against the configured issuer's RSA keys
// and turns its claims into an HttpPrincipal. Only RS256 is accepted (never "none", never HMAC:
// no algorithm confusion with a public key used as an HMAC secret). Checks, in order: three
// parts, alg RS256, key by "kid" (JWKS) or the single PEM key, signature, "iss" equal to the
// issuer, "aud" containing one of the audiences (when configured), "exp" present and not past,
// "nbf" not in the future (both with the configured leeway).
//
// Keys come from files read once at construction (OidcSettings::jwksFile: {"keys":[{"kty":"RSA",
// "kid":...,"n":...,"e":...}]} as an issuer publishes at its jwks_uri; or publicKeyFile: PEM).
// Immutable after construction; validate() is thread-safe.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "bridge/common/Config.h"
#include "bridge/query/AccessPolicy.h"

namespace Poco::Crypto {
class RSAKey;
}

namespace bridge::web {

class JwtValidator {
public:
    /// Loads the keys. Throws BridgeError(InvalidArgument) naming auth.oidc.* when a file is
    /// missing or holds no usable RSA key.
    explicit JwtValidator(OidcSettings settings);
    ~JwtValidator();

    /// The principal of a valid token (name from nameClaim, grants = settings.grants plus the
    /// grantsClaim values). Throws BridgeError(Unauthenticated) with the reason (never the token).
    HttpPrincipal validate(const std::string& jwt, std::chrono::system_clock::time_point now =
                                                       std::chrono::system_clock::now()) const;

    /// True when `token` has the shape of a JWS (three base64url parts); cheap, no verification.
    static bool looksLikeJwt(const std::string& token);

private:
    OidcSettings settings_;
    std::map<std::string, std::shared_ptr<Poco::Crypto::RSAKey>> keys_;  ///< by kid ("" for a PEM key)
};

}  // namespace bridge::web
