#include "bridge/common/Config.h"

#include <json/json.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <sstream>

#include "bridge/common/Error.h"

// The JSON layout mirrors the structs of Config.h one to one (section = struct, key = field,
// camelCase). Durations carry their unit in the key: "...Ms" milliseconds, "...Seconds" seconds.
// See conf/tcia-bridge.example.json for every key with its default.

namespace bridge {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw BridgeError(ErrorCode::InvalidArgument, "config: " + path + ": " + what);
}

/// Visits the keys of one JSON object, each by a handler; an unknown key is an error naming it.
class Section {
public:
    Section(const Json::Value& value, std::string path) : value_(value), path_(std::move(path)) {
        if (!value_.isObject()) fail(path_, "must be an object");
    }
    void on(const std::string& key, std::function<void(const Json::Value&, const std::string&)> handler) {
        handlers_[key] = std::move(handler);
    }
    void run() {
        for (const auto& key : value_.getMemberNames()) {
            auto it = handlers_.find(key);
            if (it == handlers_.end()) fail(path_ + "." + key, "unknown key");
            it->second(value_[key], path_ + "." + key);
        }
    }

private:
    const Json::Value& value_;
    std::string path_;
    std::map<std::string, std::function<void(const Json::Value&, const std::string&)>> handlers_;
};

std::string asString(const Json::Value& v, const std::string& path) {
    if (!v.isString()) fail(path, "must be a string");
    return v.asString();
}
bool asBool(const Json::Value& v, const std::string& path) {
    if (!v.isBool()) fail(path, "must be true or false");
    return v.asBool();
}
long long asInt(const Json::Value& v, const std::string& path, long long min, long long max) {
    if (!v.isIntegral()) fail(path, "must be an integer");
    long long n = v.asInt64();
    if (n < min || n > max)
        fail(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return n;
}
std::uint64_t asUnsigned(const Json::Value& v, const std::string& path) {
    if (!v.isIntegral() || (v.isInt64() && v.asInt64() < 0)) fail(path, "must be a non-negative integer");
    return v.asUInt64();
}
std::set<std::string> asStringSet(const Json::Value& v, const std::string& path) {
    if (!v.isArray()) fail(path, "must be an array of strings");
    std::set<std::string> out;
    for (Json::ArrayIndex i = 0; i < v.size(); ++i)
        out.insert(asString(v[i], path + "[" + std::to_string(i) + "]"));
    return out;
}
std::map<std::string, std::set<std::string>> asSetMap(const Json::Value& v, const std::string& path) {
    if (!v.isObject()) fail(path, "must be an object of string arrays");
    std::map<std::string, std::set<std::string>> out;
    for (const auto& key : v.getMemberNames()) out[key] = asStringSet(v[key], path + "." + key);
    return out;
}
std::uint16_t asPort(const Json::Value& v, const std::string& path) {
    return static_cast<std::uint16_t>(asInt(v, path, 0, 65535));
}

/// "HOST:PORT" (for --destination and the short peer form).
DicomPeer parseHostPort(const std::string& aet, const std::string& text, const std::string& path) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) fail(path, "must be HOST:PORT");
    DicomPeer peer;
    peer.aeTitle = aet;
    peer.host = text.substr(0, colon);
    try {
        std::size_t used = 0;
        int port = std::stoi(text.substr(colon + 1), &used);
        if (used != text.size() - colon - 1 || port < 1 || port > 65535) throw std::out_of_range("port");
        peer.port = static_cast<std::uint16_t>(port);
    } catch (const std::exception&) {
        fail(path, "bad port in '" + text + "'");
    }
    return peer;
}

DicomPeer parsePeer(const std::string& aet, const Json::Value& v, const std::string& path) {
    if (aet.empty() || aet.size() > 16) fail(path, "AE title must have 1 to 16 characters");
    if (v.isString()) return parseHostPort(aet, v.asString(), path);
    DicomPeer peer;
    peer.aeTitle = aet;
    Section s(v, path);
    bool hasHost = false;
    s.on("host", [&](auto& x, auto& p) {
        peer.host = asString(x, p);
        hasHost = true;
    });
    s.on("port", [&](auto& x, auto& p) { peer.port = static_cast<std::uint16_t>(asInt(x, p, 1, 65535)); });
    s.on("aeTitle", [&](auto& x, auto& p) { peer.aeTitle = asString(x, p); });
    s.run();
    if (!hasHost) fail(path, "host missing");
    return peer;
}

std::string checkedAet(const std::string& aet, const std::string& path) {
    if (aet.empty() || aet.size() > 16 || aet.find('\\') != std::string::npos)
        fail(path, "AE title must have 1 to 16 characters, no backslash");
    return aet;
}

void parseTcia(TciaSettings& t, const Json::Value& v, const std::string& path, bool& apiVersionGiven) {
    Section s(v, path);
    s.on("baseUrl", [&](auto& x, auto& p) { t.baseUrl = asString(x, p); });
    s.on("apiVersion", [&](auto& x, auto& p) {
        t.apiVersion = asString(x, p);
        if (t.apiVersion != "v1" && t.apiVersion != "v4") fail(p, "must be \"v1\" or \"v4\"");
        apiVersionGiven = true;
    });
    s.on("tokenUrl", [&](auto& x, auto& p) { t.tokenUrl = asString(x, p); });
    s.on("username", [&](auto& x, auto& p) { t.username = asString(x, p); });
    s.on("password", [&](auto& x, auto& p) { t.password = asString(x, p); });
    s.on("clientId", [&](auto& x, auto& p) { t.clientId = asString(x, p); });
    s.on("clientSecret", [&](auto& x, auto& p) { t.clientSecret = asString(x, p); });
    s.on("connectTimeoutMs",
         [&](auto& x, auto& p) { t.connectTimeout = std::chrono::milliseconds(asInt(x, p, 1, 3'600'000)); });
    s.on("readTimeoutMs",
         [&](auto& x, auto& p) { t.readTimeout = std::chrono::milliseconds(asInt(x, p, 1, 3'600'000)); });
    s.on("maxRetries", [&](auto& x, auto& p) { t.maxRetries = static_cast<int>(asInt(x, p, 0, 100)); });
    s.on("retryBaseDelayMs",
         [&](auto& x, auto& p) { t.retryBaseDelay = std::chrono::milliseconds(asInt(x, p, 0, 3'600'000)); });
    s.on("retryMaxDelayMs",
         [&](auto& x, auto& p) { t.retryMaxDelay = std::chrono::milliseconds(asInt(x, p, 0, 3'600'000)); });
    s.on("maxConcurrentRequests",
         [&](auto& x, auto& p) { t.maxConcurrentRequests = static_cast<int>(asInt(x, p, 1, 1000)); });
    s.on("caFile", [&](auto& x, auto& p) { t.caFile = asString(x, p); });
    s.on("verifyMd5", [&](auto& x, auto& p) { t.verifyMd5 = asBool(x, p); });
    s.on("maxZipEntryBytes", [&](auto& x, auto& p) {
        t.maxZipEntryBytes = static_cast<std::uint64_t>(asInt(x, p, 1 << 20, 64LL << 30));
    });
    s.on("allowInsecureCredentials", [&](auto& x, auto& p) { t.allowInsecureCredentials = asBool(x, p); });
    s.run();
}

void parseDimse(DimseSettings& d, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("enabled", [&](auto& x, auto& p) { d.enabled = asBool(x, p); });
    s.on("aeTitle", [&](auto& x, auto& p) { d.aeTitle = checkedAet(asString(x, p), p); });
    s.on("port", [&](auto& x, auto& p) { d.port = asPort(x, p); });
    s.on("bindAddress", [&](auto& x, auto& p) { d.bindAddress = asString(x, p); });
    s.on("maxAssociations",
         [&](auto& x, auto& p) { d.maxAssociations = static_cast<int>(asInt(x, p, 1, 1000)); });
    s.on("maxPdu",
         [&](auto& x, auto& p) { d.maxPdu = static_cast<std::uint32_t>(asInt(x, p, 4096, 131072)); });
    s.on("acseTimeoutSeconds",
         [&](auto& x, auto& p) { d.acseTimeout = std::chrono::seconds(asInt(x, p, 1, 3600)); });
    s.on("dimseTimeoutSeconds",
         [&](auto& x, auto& p) { d.dimseTimeout = std::chrono::seconds(asInt(x, p, 1, 3600)); });
    s.on("networkTimeoutSeconds",
         [&](auto& x, auto& p) { d.networkTimeout = std::chrono::seconds(asInt(x, p, 1, 86400)); });
    s.on("pendingIntervalSeconds",
         [&](auto& x, auto& p) { d.pendingInterval = std::chrono::seconds(asInt(x, p, 1, 600)); });
    s.on("peers", [&](auto& x, auto& p) {
        if (!x.isObject())
            fail(p, "must be an object {\"AET\": {\"host\":..., \"port\":...} or \"HOST:PORT\"}");
        d.peers.clear();
        for (const auto& aet : x.getMemberNames()) d.peers[aet] = parsePeer(aet, x[aet], p + "." + aet);
    });
    s.on("allowedCallingAets", [&](auto& x, auto& p) { d.allowedCallingAets = asStringSet(x, p); });
    s.on("checkCallerHost", [&](auto& x, auto& p) { d.checkCallerHost = asBool(x, p); });
    s.on("collectionAets", [&](auto& x, auto& p) {
        d.collectionAets = asSetMap(x, p);
        for (const auto& [aet, _] : d.collectionAets) checkedAet(aet, p + "." + aet);
    });
    s.run();
}

void parseWeb(WebSettings& w, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("enabled", [&](auto& x, auto& p) { w.enabled = asBool(x, p); });
    s.on("port", [&](auto& x, auto& p) { w.port = asPort(x, p); });
    s.on("bindAddress", [&](auto& x, auto& p) { w.bindAddress = asString(x, p); });
    s.on("publicBaseUrl", [&](auto& x, auto& p) { w.publicBaseUrl = asString(x, p); });
    s.on("maxThreads", [&](auto& x, auto& p) { w.maxThreads = static_cast<int>(asInt(x, p, 1, 1024)); });
    s.on("maxQueued", [&](auto& x, auto& p) { w.maxQueued = static_cast<int>(asInt(x, p, 0, 100000)); });
    s.on("allowedOrigin", [&](auto& x, auto& p) { w.allowedOrigin = asString(x, p); });
    s.run();
}

void parseCache(CacheSettings& c, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("directory", [&](auto& x, auto& p) { c.directory = asString(x, p); });
    s.on("maxBytes", [&](auto& x, auto& p) { c.maxBytes = asUnsigned(x, p); });
    s.run();
}

void parseCatalog(CatalogSettings& c, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("connector", [&](auto& x, auto& p) {
        c.connector = asString(x, p);
        if (c.connector != "sqlite" && c.connector != "postgresql")
            fail(p, "must be \"sqlite\" or \"postgresql\"");
    });
    s.on("connection", [&](auto& x, auto& p) { c.connection = asString(x, p); });
    s.on("ttlSeconds",
         [&](auto& x, auto& p) { c.ttl = std::chrono::seconds(asInt(x, p, 0, 365LL * 86400)); });
    s.on("refreshIntervalSeconds",
         [&](auto& x, auto& p) { c.refreshInterval = std::chrono::seconds(asInt(x, p, 0, 365LL * 86400)); });
    s.on("maxCachedCalls",
         [&](auto& x, auto& p) { c.maxCachedCalls = static_cast<std::size_t>(asInt(x, p, 1, 100'000'000)); });
    s.run();
}

void parseQuery(QuerySettings& q, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("maxResults",
         [&](auto& x, auto& p) { q.maxResults = static_cast<std::size_t>(asInt(x, p, 1, 100'000'000)); });
    s.on("caseSensitivePersonNames", [&](auto& x, auto& p) { q.caseSensitivePersonNames = asBool(x, p); });
    s.run();
}

void parseAccess(AccessSettings& a, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("grantsByAet", [&](auto& x, auto& p) { a.grantsByAet = asSetMap(x, p); });
    s.on("grantsByToken", [&](auto& x, auto& p) { a.grantsByToken = asSetMap(x, p); });
    s.on("restrictedCollections", [&](auto& x, auto& p) { a.restrictedCollections = asStringSet(x, p); });
    s.run();
}

}  // namespace

Config parseConfig(const std::string& jsonText) {
    Json::CharReaderBuilder builder;
    builder["allowComments"] = true;
    builder["collectComments"] = false;
    builder["rejectDupKeys"] = true;
    builder["failIfExtra"] = true;
    Json::Value root;
    std::string errors;
    std::istringstream in(jsonText);
    if (!Json::parseFromStream(builder, in, &root, &errors))
        throw BridgeError(ErrorCode::InvalidArgument, "config: not valid JSON: " + errors);
    Config config;
    bool apiVersionGiven = false;
    Section s(root, "config");
    s.on("tcia", [&](auto& x, auto& p) { parseTcia(config.tcia, x, p, apiVersionGiven); });
    s.on("dimse", [&](auto& x, auto& p) { parseDimse(config.dimse, x, p); });
    s.on("web", [&](auto& x, auto& p) { parseWeb(config.web, x, p); });
    s.on("cache", [&](auto& x, auto& p) { parseCache(config.cache, x, p); });
    s.on("catalog", [&](auto& x, auto& p) { parseCatalog(config.catalog, x, p); });
    s.on("query", [&](auto& x, auto& p) { parseQuery(config.query, x, p); });
    s.on("access", [&](auto& x, auto& p) { parseAccess(config.access, x, p); });
    s.on("logLevel", [&](auto& x, auto& p) {
        config.logLevel = asString(x, p);
        static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "fatal"};
        if (!levels.count(config.logLevel)) fail(p, "must be one of trace, debug, info, warn, error, fatal");
    });
    s.on("$schema", [](auto&, auto&) {});
    s.run();
    if (!apiVersionGiven) config.tcia.apiVersion = guessApiVersion(config.tcia.baseUrl);
    return config;
}

std::string guessApiVersion(const std::string& baseUrl) {
    std::string url = baseUrl;
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.size() >= 3 && url.compare(url.size() - 3, 3, "/v1") == 0) return "v1";
    return "v4";
}

DicomPeer parseDestination(const std::string& text) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        fail("--destination", "must be AET=HOST:PORT, got '" + text + "'");
    std::string aet = checkedAet(text.substr(0, eq), "--destination");
    return parseHostPort(aet, text.substr(eq + 1), "--destination");
}

void applyEnvironment(Config& config) {
    auto env = [](const char* name, std::string& target) {
        if (const char* v = std::getenv(name); v && *v) target = v;
    };
    env("TCIA_USERNAME", config.tcia.username);
    env("TCIA_PASSWORD", config.tcia.password);
    env("TCIA_CLIENT_SECRET", config.tcia.clientSecret);
    env("TCIA_TOKEN_URL", config.tcia.tokenUrl);
}

}  // namespace bridge
