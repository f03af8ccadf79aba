#include "bridge/tcia/TokenProvider.h"

#include <Poco/Logger.h>
#include <json/json.h>

#include <algorithm>
#include <memory>

#include "bridge/common/Error.h"
#include "bridge/tcia/HttpTransport.h"

namespace bridge::tcia {

TokenProvider::TokenProvider(const TciaSettings& settings, HttpTransport& transport)
    : settings_(settings), transport_(transport) {}

std::chrono::milliseconds TokenProvider::refreshMargin(std::chrono::seconds lifetime) {
    auto fifth = std::chrono::duration_cast<std::chrono::milliseconds>(lifetime) / 5;
    return std::min<std::chrono::milliseconds>(fifth, std::chrono::seconds(60));
}

TokenResponse TokenProvider::parseTokenResponse(std::string_view body) {
    Json::CharReaderBuilder builder;
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    if (body.empty() || !reader->parse(body.data(), body.data() + body.size(), &root, &errors) ||
        !root.isObject())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "TCIA token endpoint answered something that is not a token");
    if (root.isMember("error")) {
        std::string detail = root["error"].isString() ? root["error"].asString() : "error";
        if (root["error_description"].isString()) detail += ": " + root["error_description"].asString();
        throw BridgeError(ErrorCode::Unauthorized, "TCIA refused the credentials (" + detail + ")");
    }
    TokenResponse t;
    if (root["access_token"].isString()) t.accessToken = root["access_token"].asString();
    if (t.accessToken.empty())
        throw BridgeError(ErrorCode::UpstreamBadResponse, "TCIA token response has no access_token");
    if (root["refresh_token"].isString()) t.refreshToken = root["refresh_token"].asString();
    auto seconds = [&](const char* key) {
        const Json::Value& v = root[key];
        if (v.isNumeric()) return std::chrono::seconds(v.asInt64());
        if (v.isString()) {
            try {
                return std::chrono::seconds(std::stoll(v.asString()));
            } catch (...) {
            }
        }
        return std::chrono::seconds(0);
    };
    t.expiresIn = seconds("expires_in");
    t.refreshExpiresIn = seconds("refresh_expires_in");
    return t;
}

TokenResponse TokenProvider::requestToken(bool refreshGrant) {
    FormFields form;
    if (refreshGrant) {
        form = {{"grant_type", "refresh_token"},
                {"refresh_token", refreshToken_},
                {"client_id", settings_.clientId}};
    } else {
        form = {{"grant_type", "password"},
                {"username", settings_.username},
                {"password", settings_.password},
                {"client_id", settings_.clientId}};
    }
    if (!settings_.clientSecret.empty()) form.emplace_back("client_secret", settings_.clientSecret);
    // The log line names only the grant, never the form (credentials) nor the URL's query.
    HttpResponse r = transport_.postForm(
        settings_.tokenUrl, form,
        std::string("oauth/token (") + (refreshGrant ? "refresh_token" : "password") + " grant)");
    if (r.status == 400 || r.status == 401 || r.status == 403) {
        // Keycloak / Spring answer invalid_grant with 400 or 401 and an OAuth2 error object.
        try {
            parseTokenResponse(r.body);
        } catch (const BridgeError& e) {
            if (e.code() == ErrorCode::Unauthorized) throw;
        }
        throw BridgeError(ErrorCode::Unauthorized,
                          "TCIA refused the credentials (HTTP " + std::to_string(r.status) + ")");
    }
    if (r.status != 200)
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "TCIA token endpoint answered HTTP " + std::to_string(r.status));
    return parseTokenResponse(r.body);
}

void TokenProvider::store(const TokenResponse& token) {
    auto now = Clock::now();
    accessToken_ = token.accessToken;
    if (!token.refreshToken.empty()) refreshToken_ = token.refreshToken;
    if (token.expiresIn.count() > 0)
        refreshAt_ = now + token.expiresIn - refreshMargin(token.expiresIn);
    else
        refreshAt_.reset();  // no expiry given: keep until a 401
    if (token.refreshExpiresIn.count() > 0)
        refreshTokenUntil_ = now + token.refreshExpiresIn - refreshMargin(token.refreshExpiresIn);
    else if (!token.refreshToken.empty())
        refreshTokenUntil_.reset();  // unknown lifetime: try it, fall back to password grant
}

std::string TokenProvider::accessToken() {
    if (!enabled()) return {};
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    if (!accessToken_.empty() && (!refreshAt_ || now < *refreshAt_)) return accessToken_;
    const bool canRefresh =
        !accessToken_.empty() && !refreshToken_.empty() && (!refreshTokenUntil_ || now < *refreshTokenUntil_);
    if (canRefresh) {
        try {
            store(requestToken(true));
            return accessToken_;
        } catch (const BridgeError& e) {
            // Refresh refused or failed: fall back to the password grant below.
            Poco::Logger::get("bridge.tcia.token").information("token refresh failed (%s); using the password grant",
                                                  std::string(e.what()));
            refreshToken_.clear();
        }
    }
    store(requestToken(false));
    return accessToken_;
}

void TokenProvider::invalidate(const std::string& refusedToken) {
    std::lock_guard lock(mutex_);
    if (accessToken_ == refusedToken) {
        accessToken_.clear();
        refreshToken_.clear();
        refreshAt_.reset();
        refreshTokenUntil_.reset();
    }
}

}  // namespace bridge::tcia
