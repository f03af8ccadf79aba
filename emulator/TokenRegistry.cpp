#include "emulator/TokenRegistry.h"

#include <Poco/UUIDGenerator.h>

namespace emulator {

TokenRegistry::TokenRegistry(std::string user, std::string password, int lifetimeSeconds)
    : user_(std::move(user)), password_(std::move(password)), lifetime_(lifetimeSeconds) {}

TokenRegistry::Issued TokenRegistry::issue(bool granted) {
    auto& gen = Poco::UUIDGenerator::defaultGenerator();
    const std::string access = gen.createRandom().toString();
    const std::string refresh = gen.createRandom().toString();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        access_[access] = Grant{granted, std::chrono::steady_clock::now() + std::chrono::seconds(lifetime_)};
        refresh_[refresh] = granted;
    }
    // Field order of the Spring-era sample (samples/auth.oauth-token.spring-era.wiki-sample.json)
    // plus Keycloak's refresh_expires_in and scope.
    Issued out;
    out.json = "{\"access_token\":\"" + access + "\",\"token_type\":\"bearer\",\"refresh_token\":\"" + refresh +
               "\",\"expires_in\":" + std::to_string(lifetime_) +
               ",\"refresh_expires_in\":" + std::to_string(lifetime_ * 10) + ",\"scope\":\"openid\"}";
    return out;
}

std::optional<TokenRegistry::Issued> TokenRegistry::passwordGrant(const std::string& user, const std::string& password) {
    if (user == user_ && password == password_) return issue(true);
    if (user == "nbia_guest" && (password.empty() || password == "ItsBetweenUAndMe")) return issue(false);
    return std::nullopt;
}

std::optional<TokenRegistry::Issued> TokenRegistry::refreshGrant(const std::string& refreshToken) {
    bool granted = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = refresh_.find(refreshToken);
        if (it == refresh_.end()) return std::nullopt;
        granted = it->second;
        refresh_.erase(it);  // refresh tokens are single-use (rotated)
    }
    return issue(granted);
}

TokenRegistry::Access TokenRegistry::check(const std::string& accessToken) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = access_.find(accessToken);
    if (it == access_.end() || std::chrono::steady_clock::now() >= it->second.expires) return Access::Invalid;
    return it->second.granted ? Access::Granted : Access::Guest;
}

}  // namespace emulator
