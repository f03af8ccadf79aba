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

/// null = not set.
std::optional<std::uint16_t> asOptionalPort(const Json::Value& v, const std::string& path) {
    if (v.isNull()) return std::nullopt;
    return asPort(v, path);
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
    s.on("plainEnabled", [&](auto& x, auto& p) { d.plainEnabled = asBool(x, p); });
    s.on("tlsPort", [&](auto& x, auto& p) { d.tlsPort = asOptionalPort(x, p); });
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
    s.on("plainEnabled", [&](auto& x, auto& p) { w.plainEnabled = asBool(x, p); });
    s.on("httpsPort", [&](auto& x, auto& p) { w.httpsPort = asOptionalPort(x, p); });
    s.on("headerTimeoutSeconds", [&](auto& x, auto& p) { w.headerTimeout = std::chrono::seconds(asInt(x, p, 1, 3600)); });
    s.on("maxConnectionsPerClient",
         [&](auto& x, auto& p) { w.maxConnectionsPerClient = static_cast<int>(asInt(x, p, 0, 100000)); });
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
    s.on("harvestOnStart", [&](auto& x, auto& p) { c.harvestOnStart = asBool(x, p); });
    s.on("maxCachedCalls",
         [&](auto& x, auto& p) { c.maxCachedCalls = static_cast<std::size_t>(asInt(x, p, 1, 100'000'000)); });
    s.run();
}

void parseQuery(QuerySettings& q, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("maxResults",
         [&](auto& x, auto& p) { q.maxResults = static_cast<std::size_t>(asInt(x, p, 1, 100'000'000)); });
    s.on("caseSensitivePersonNames", [&](auto& x, auto& p) { q.caseSensitivePersonNames = asBool(x, p); });
    s.on("findCacheMegabytes",
         [&](auto& x, auto& p) { q.findCacheMegabytes = static_cast<std::size_t>(asInt(x, p, 0, 4096)); });
    s.run();
}

void parseAccess(AccessSettings& a, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("grantsByAet", [&](auto& x, auto& p) { a.grantsByAet = asSetMap(x, p); });
    s.on("grantsByToken", [&](auto& x, auto& p) { a.grantsByToken = asSetMap(x, p); });
    s.on("restrictedCollections", [&](auto& x, auto& p) { a.restrictedCollections = asStringSet(x, p); });
    s.run();
}

const std::set<std::string>& logLevels() {
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "fatal"};
    return levels;
}

std::string asLogLevel(const Json::Value& v, const std::string& path) {
    std::string level = asString(v, path);
    if (!logLevels().count(level)) fail(path, "must be one of trace, debug, info, warn, error, fatal");
    return level;
}

void parseLog(LogSettings& l, std::string& level, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("level", [&](auto& x, auto& p) { level = asLogLevel(x, p); });
    s.on("sink", [&](auto& x, auto& p) {
        l.sink = asString(x, p);
        if (l.sink != "console" && l.sink != "file") fail(p, "must be \"console\" or \"file\"");
    });
    s.on("file", [&](auto& x, auto& p) { l.file = asString(x, p); });
    s.on("format", [&](auto& x, auto& p) {
        l.format = asString(x, p);
        if (l.format != "text" && l.format != "json") fail(p, "must be \"text\" or \"json\"");
    });
    s.on("levels", [&](auto& x, auto& p) {
        if (!x.isObject()) fail(p, "must be an object {\"component\": \"level\"}");
        l.levels.clear();
        for (const auto& key : x.getMemberNames()) {
            if (key.empty()) fail(p, "component name must not be empty");
            l.levels[key] = asLogLevel(x[key], p + "." + key);
        }
    });
    s.run();
}

void parseAudit(AuditSettings& a, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("file", [&](auto& x, auto& p) { a.file = asString(x, p); });
    s.run();
}

void parseTls(TlsSettings& t, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("certFile", [&](auto& x, auto& p) { t.certFile = asString(x, p); });
    s.on("keyFile", [&](auto& x, auto& p) { t.keyFile = asString(x, p); });
    s.on("caFile", [&](auto& x, auto& p) { t.caFile = asString(x, p); });
    s.run();
}

AuthPrincipal parsePrincipal(const Json::Value& v, const std::string& path, bool basic) {
    AuthPrincipal a;
    Section s(v, path);
    s.on("name", [&](auto& x, auto& p) { a.name = asString(x, p); });
    s.on(basic ? "pbkdf2" : "sha256", [&](auto& x, auto& p) { a.secretHash = asString(x, p); });
    s.on(basic ? "passwordEnv" : "tokenEnv", [&](auto& x, auto& p) { a.secretEnv = asString(x, p); });
    s.on("collections", [&](auto& x, auto& p) { a.grants = asStringSet(x, p); });
    s.on("onlyCollections", [&](auto& x, auto& p) { a.only = asStringSet(x, p); });
    s.run();
    if (a.name.empty()) fail(path + ".name", "missing");
    if (basic && a.name.find(':') != std::string::npos) fail(path + ".name", "must not contain ':'");
    const std::string hashKey = basic ? "pbkdf2" : "sha256", envKey = basic ? "passwordEnv" : "tokenEnv";
    if (a.secretHash.empty() == a.secretEnv.empty())
        fail(path, "needs exactly one of \"" + hashKey + "\" and \"" + envKey + "\"");
    return a;
}

std::vector<AuthPrincipal> parsePrincipals(const Json::Value& v, const std::string& path, bool basic) {
    if (!v.isArray()) fail(path, "must be an array of objects");
    std::vector<AuthPrincipal> out;
    for (Json::ArrayIndex i = 0; i < v.size(); ++i)
        out.push_back(parsePrincipal(v[i], path + "[" + std::to_string(i) + "]", basic));
    return out;
}

OidcSettings parseOidc(const Json::Value& v, const std::string& path) {
    OidcSettings o;
    Section s(v, path);
    s.on("issuer", [&](auto& x, auto& p) { o.issuer = asString(x, p); });
    s.on("audiences", [&](auto& x, auto& p) { o.audiences = asStringSet(x, p); });
    s.on("jwksFile", [&](auto& x, auto& p) { o.jwksFile = asString(x, p); });
    s.on("publicKeyFile", [&](auto& x, auto& p) { o.publicKeyFile = asString(x, p); });
    s.on("nameClaim", [&](auto& x, auto& p) { o.nameClaim = asString(x, p); });
    s.on("grantsClaim", [&](auto& x, auto& p) { o.grantsClaim = asString(x, p); });
    s.on("collections", [&](auto& x, auto& p) { o.grants = asStringSet(x, p); });
    s.on("leewaySeconds", [&](auto& x, auto& p) { o.leeway = std::chrono::seconds(asInt(x, p, 0, 3600)); });
    s.run();
    if (o.issuer.empty()) fail(path + ".issuer", "missing");
    if (o.jwksFile.empty() == o.publicKeyFile.empty())
        fail(path, "needs exactly one of \"jwksFile\" and \"publicKeyFile\"");
    return o;
}

void parseAuth(AuthSettings& a, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("enabled", [&](auto& x, auto& p) { a.enabled = asBool(x, p); });
    s.on("realm", [&](auto& x, auto& p) {
        a.realm = asString(x, p);
        if (a.realm.find_first_of("\"\\\r\n") != std::string::npos) fail(p, "must not contain quotes or backslashes");
    });
    s.on("bearerTokens", [&](auto& x, auto& p) { a.bearerTokens = parsePrincipals(x, p, false); });
    s.on("basicUsers", [&](auto& x, auto& p) { a.basicUsers = parsePrincipals(x, p, true); });
    s.on("oidc", [&](auto& x, auto& p) { a.oidc = parseOidc(x, p); });
    s.on("publicPaths", [&](auto& x, auto& p) { a.publicPaths = asStringSet(x, p); });
    s.run();
}

void parseIdc(IdcSettings& d, const Json::Value& v, const std::string& path) {
    Section s(v, path);
    s.on("apiUrl", [&](auto& x, auto& p) { d.apiUrl = asString(x, p); });
    s.on("bucketUrl", [&](auto& x, auto& p) { d.bucketUrl = asString(x, p); });
    s.on("maxParallelGets", [&](auto& x, auto& p) { d.maxParallelGets = static_cast<int>(asInt(x, p, 1, 64)); });
    s.on("sqlPageRows", [&](auto& x, auto& p) { d.sqlPageRows = static_cast<int>(asInt(x, p, 1, 10000)); });
    s.on("maxHeaderBytes", [&](auto& x, auto& p) {
        d.maxHeaderBytes = static_cast<std::uint64_t>(asInt(x, p, 64 << 10, 1LL << 30));
    });
    s.on("maxObjectBytes", [&](auto& x, auto& p) {
        d.maxObjectBytes = static_cast<std::uint64_t>(asInt(x, p, 1 << 20, 64LL << 30));
    });
    s.on("seriesCacheEntries",
         [&](auto& x, auto& p) { d.seriesCacheEntries = static_cast<int>(asInt(x, p, 1, 1'000'000)); });
    s.on("tciaNames", [&](auto& x, auto& p) {
        if (!x.isObject()) fail(p, "must be an object {\"TCIA collection name\": \"DOI\"}");
        for (const auto& name : x.getMemberNames()) d.tciaNames[name] = asString(x[name], p + "." + name);
    });
    s.run();
}

}  // namespace

void validateConfig(const Config& c) {
    if (c.source != "nbia" && c.source != "idc") fail("config.source", "must be \"nbia\" or \"idc\"");
    if (c.source == "idc") {
        auto httpUrl = [](const std::string& u) { return u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0; };
        if (!httpUrl(c.idc.apiUrl)) fail("config.idc.apiUrl", "must be an http:// or https:// URL");
        if (!httpUrl(c.idc.bucketUrl)) fail("config.idc.bucketUrl", "must be an http:// or https:// URL");
    }
    if (c.log.sink == "file" && c.log.file.empty()) fail("config.log.file", "required when log.sink is \"file\"");
    if (c.log.sink == "console" && !c.log.file.empty())
        fail("config.log.file", "given, but log.sink is \"console\" (set log.sink to \"file\")");
    if (c.tcia.retryBaseDelay > c.tcia.retryMaxDelay)
        fail("config.tcia.retryBaseDelayMs", "must not exceed tcia.retryMaxDelayMs");
    if (c.dimse.enabled && c.web.enabled && c.dimse.port != 0 && c.dimse.port == c.web.port &&
        c.dimse.bindAddress == c.web.bindAddress)
        fail("config.web.port", "same address and port as dimse.port (" + std::to_string(c.dimse.port) + ")");
    if (c.dimse.checkCallerHost && c.dimse.allowedCallingAets.empty())
        fail("config.dimse.checkCallerHost", "needs dimse.allowedCallingAets (whose hosts come from dimse.peers)");
    for (const auto& aet : c.dimse.allowedCallingAets)
        if (c.dimse.checkCallerHost && !c.dimse.peers.count(aet))
            fail("config.dimse.allowedCallingAets", "'" + aet + "' has no dimse.peers entry to check its host against");
    for (const auto& [aet, _] : c.dimse.collectionAets)
        if (aet == c.dimse.aeTitle) fail("config.dimse.collectionAets." + aet, "is the bridge's own dimse.aeTitle");
}

void checkTlsSettings(const Config& config) {
    const bool dimseTls = config.dimse.enabled && config.dimse.tlsPort.has_value();
    const bool webTls = config.web.enabled && config.web.httpsPort.has_value();
    if (dimseTls || webTls) {
        const std::string why = dimseTls ? "needed by dimse.tlsPort (--dicom-tls-port)" : "needed by web.httpsPort (--https-port)";
        if (config.tls.certFile.empty()) fail("tls.certFile", "missing (--tls-cert): " + why);
        if (config.tls.keyFile.empty()) fail("tls.keyFile", "missing (--tls-key): " + why);
    }
    if (config.dimse.enabled && !config.dimse.plainEnabled && !config.dimse.tlsPort)
        fail("dimse.plainEnabled", "false without dimse.tlsPort leaves no DIMSE listener (use dimse.enabled: false)");
    if (config.web.enabled && !config.web.plainEnabled && !config.web.httpsPort)
        fail("web.plainEnabled", "false without web.httpsPort leaves no HTTP listener (use web.enabled: false)");
}

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
    s.on("source", [&](auto& x, auto& p) { config.source = asString(x, p); });
    s.on("idc", [&](auto& x, auto& p) { parseIdc(config.idc, x, p); });
    s.on("dimse", [&](auto& x, auto& p) { parseDimse(config.dimse, x, p); });
    s.on("web", [&](auto& x, auto& p) { parseWeb(config.web, x, p); });
    s.on("cache", [&](auto& x, auto& p) { parseCache(config.cache, x, p); });
    s.on("catalog", [&](auto& x, auto& p) { parseCatalog(config.catalog, x, p); });
    s.on("query", [&](auto& x, auto& p) { parseQuery(config.query, x, p); });
    s.on("access", [&](auto& x, auto& p) { parseAccess(config.access, x, p); });
    s.on("logLevel", [&](auto& x, auto& p) { config.logLevel = asLogLevel(x, p); });
    s.on("log", [&](auto& x, auto& p) { parseLog(config.log, config.logLevel, x, p); });
    s.on("audit", [&](auto& x, auto& p) { parseAudit(config.audit, x, p); });
    s.on("tls", [&](auto& x, auto& p) { parseTls(config.tls, x, p); });
    s.on("auth", [&](auto& x, auto& p) { parseAuth(config.auth, x, p); });
    s.on("$schema", [](auto&, auto&) {});
    s.run();
    if (!apiVersionGiven) config.tcia.apiVersion = guessApiVersion(config.tcia.baseUrl);
    validateConfig(config);
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
