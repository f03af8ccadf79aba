#pragma once
// Optional OAuth2 bearer tokens for TCIA (API.md section 7): active only when
// TciaSettings::tokenUrl is set. Password grant (username, password, client_id, client_secret
// when set, grant_type=password) POSTed as a form; the token is cached and refreshed
// `refreshMargin()` before expires_in runs out, with the refresh_token grant when TCIA gave a
// refresh token, falling back to a fresh password grant. After a 401 the caller invalidates the
// refused token and asks again (one retry). Credentials and tokens are never logged.
// Thread-safe: concurrent callers share one token; one of them fetches while the others wait.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "bridge/common/Config.h"

namespace bridge::tcia {

class HttpTransport;

/// The fields of an OAuth2 token response TCIA uses (Spring and Keycloak eras alike).
struct TokenResponse {
    std::string accessToken;
    std::string refreshToken;
    std::chrono::seconds expiresIn{0};         ///< 0 = not given
    std::chrono::seconds refreshExpiresIn{0};  ///< 0 = not given (Spring era)
};

class TokenProvider {
public:
    /// `transport` must outlive the provider.
    TokenProvider(const TciaSettings& settings, HttpTransport& transport);

    bool enabled() const { return !settings_.tokenUrl.empty(); }

    /// A valid access token, fetching or refreshing first when needed. Blocks on the network
    /// then. Returns "" when authentication is not configured. Throws BridgeError(Unauthorized)
    /// when TCIA refuses the credentials, UpstreamUnavailable/UpstreamTimeout when unreachable.
    std::string accessToken();

    /// Drops `refusedToken` (a 401 answered it) so the next accessToken() authenticates anew
    /// with the password grant. A newer token fetched meanwhile by another thread is kept.
    void invalidate(const std::string& refusedToken);

    /// Parses a token endpoint response body. Throws BridgeError(Unauthorized) for an OAuth2
    /// error object ({"error":"invalid_grant",...}) and UpstreamBadResponse for anything without
    /// an access_token. Pure.
    static TokenResponse parseTokenResponse(std::string_view body);

    /// How long before expiry a token is refreshed: a fifth of its lifetime, at most 60 s.
    static std::chrono::milliseconds refreshMargin(std::chrono::seconds lifetime);

private:
    using Clock = std::chrono::steady_clock;
    TokenResponse requestToken(bool refreshGrant);
    void store(const TokenResponse& token);

    TciaSettings settings_;
    HttpTransport& transport_;
    std::mutex mutex_;
    std::string accessToken_;
    std::string refreshToken_;
    std::optional<Clock::time_point> refreshAt_;          ///< refresh the access token from here on
    std::optional<Clock::time_point> refreshTokenUntil_;  ///< refresh token usable until
};

}  // namespace bridge::tcia
