#pragma once
// OAuth2 tokens of the emulated /nbia-api/oauth/token endpoint (API.md 7.1): password grant and
// refresh_token grant, opaque UUID tokens with a configurable lifetime. The configured user
// sees restricted collections; the guest user `nbia_guest` (empty password) gets a valid token
// that sees public data only. Thread-safe.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace emulator {

class TokenRegistry {
public:
    /// What a bearer token is worth.
    enum class Access { Invalid, Guest, Granted };

    /// A token answer as JSON, or nullopt for bad credentials / unknown refresh token.
    struct Issued {
        std::string json;
    };

    TokenRegistry(std::string user, std::string password, int lifetimeSeconds);

    std::optional<Issued> passwordGrant(const std::string& user, const std::string& password);
    std::optional<Issued> refreshGrant(const std::string& refreshToken);
    /// Validity of an access token now (expired => Invalid).
    Access check(const std::string& accessToken) const;

    int lifetimeSeconds() const { return lifetime_; }

private:
    struct Grant {
        bool granted = false;
        std::chrono::steady_clock::time_point expires;
    };
    Issued issue(bool granted);

    std::string user_;
    std::string password_;
    int lifetime_;
    mutable std::mutex mutex_;
    std::map<std::string, Grant> access_;
    std::map<std::string, bool> refresh_;
};

}  // namespace emulator
