#pragma once
// The bridge's configuration: one JSON file (commented example: conf/tcia-bridge.example.json),
// overridden by command-line flags, credentials also from the environment. Defaults point at the
// real TCIA. loadConfig() / applyFlag() are pure with respect to the filesystem contents given.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bridge {

struct TciaSettings {
    std::string baseUrl = "https://services.cancerimagingarchive.net/nbia-api/services/v4";
    std::string apiVersion = "v4";  ///< "v4" or "v1"; guessed from baseUrl when not given
    // Optional OAuth2 password grant (restricted collections). Never logged.
    std::string tokenUrl;      ///< empty = no authentication
    std::string username;      ///< env TCIA_USERNAME
    std::string password;      ///< env TCIA_PASSWORD
    std::string clientId = "NBIA";
    std::string clientSecret;  ///< env TCIA_CLIENT_SECRET
    std::chrono::milliseconds connectTimeout{10'000};
    std::chrono::milliseconds readTimeout{60'000};
    int maxRetries = 4;                          ///< attempts after the first
    std::chrono::milliseconds retryBaseDelay{500};  ///< exponential backoff base, with jitter
    std::chrono::milliseconds retryMaxDelay{30'000};
    int maxConcurrentRequests = 4;  ///< per TCIA host; further calls wait
    std::string caFile;             ///< empty = system store
    /// getImage with IncludeMD5 (v4) / getImageWithMD5Hash (v1); an entry whose MD5 differs from
    /// md5hashes.csv is a failed instance, and its series is never marked complete.
    bool verifyMd5 = true;
    /// Bound on one ZIP entry's inflated size (zip bomb); beyond it the download fails
    /// (UpstreamBadResponse). Largest real TCIA instances (whole-slide, enhanced MR) are < 2 GiB.
    std::uint64_t maxZipEntryBytes = 2ull << 30;
    /// Credentials over plain http:// to a non-loopback host are refused at start unless true.
    bool allowInsecureCredentials = false;
};

struct DicomPeer {
    std::string aeTitle;
    std::string host;
    std::uint16_t port = 104;
};

struct DimseSettings {
    bool enabled = true;
    std::string aeTitle = "TCIA";
    std::uint16_t port = 11112;
    std::string bindAddress = "127.0.0.1";
    int maxAssociations = 16;  ///< further associations are rejected (A-ASSOCIATE-RJ, transient, local limit exceeded)
    std::uint32_t maxPdu = 116794;
    std::chrono::seconds acseTimeout{30};
    std::chrono::seconds dimseTimeout{60};
    std::chrono::seconds networkTimeout{60};
    std::chrono::seconds pendingInterval{5};  ///< max silence between C-MOVE/C-GET Pendings
    std::map<std::string, DicomPeer> peers;  ///< by AE title: C-MOVE destinations
    std::set<std::string> allowedCallingAets;  ///< empty = anyone
    bool checkCallerHost = false;  ///< with allowedCallingAets: caller's IP must match its peer entry
    /// Extra called AE titles, each scoped to a set of collections.
    std::map<std::string, std::set<std::string>> collectionAets;
};

struct WebSettings {
    bool enabled = true;
    std::uint16_t port = 8080;
    std::string bindAddress = "127.0.0.1";
    std::string publicBaseUrl;  ///< e.g. https://bridge.example.org ; empty = from Host/Forwarded
    int maxThreads = 16;
    int maxQueued = 64;  ///< beyond: 503
    std::string allowedOrigin = "*";
};

struct CacheSettings {
    std::string directory = "./cache";   ///< instance cache and catalog live here
    std::uint64_t maxBytes = 20ull << 30;  ///< instance cache size bound (LRU eviction)
};

struct CatalogSettings {
    std::string connector = "sqlite";  ///< "sqlite" or "postgresql"
    std::string connection;            ///< sqlite: file path (default <cache>/catalog.db); postgresql: libpq string
    std::chrono::seconds ttl{24 * 3600};  ///< lazily-filled entries older than this are refetched
    /// serve mode: Catalog::refreshIncremental() this often (CatalogRefresher); 0 = never.
    std::chrono::seconds refreshInterval{3600};
    /// Bound on query_cache rows (remembered TCIA calls): expired rows and then the oldest go.
    std::size_t maxCachedCalls = 100'000;
};

struct QuerySettings {
    std::size_t maxResults = 10'000;  ///< C-FIND/QIDO cap; beyond it the answer is truncated (documented status)
    bool caseSensitivePersonNames = false;
};

/// Who may see restricted collections: the calling AE titles and HTTP bearer tokens granted each.
struct AccessSettings {
    std::map<std::string, std::set<std::string>> grantsByAet;    ///< collection -> AE titles
    std::map<std::string, std::set<std::string>> grantsByToken;  ///< collection -> HTTP bearer tokens
    std::set<std::string> restrictedCollections;  ///< in addition to those TCIA shows only with a token
};

struct Config {
    TciaSettings tcia;
    DimseSettings dimse;
    WebSettings web;
    CacheSettings cache;
    CatalogSettings catalog;
    QuerySettings query;
    AccessSettings access;
    std::string logLevel = "info";
};

/// Parses a JSON config document (comments `//` allowed). Unknown keys are an error naming the key.
/// Throws BridgeError(InvalidArgument) with a message that names the offending key.
Config parseConfig(const std::string& jsonText);
/// Reads environment variables TCIA_USERNAME, TCIA_PASSWORD, TCIA_CLIENT_SECRET, TCIA_TOKEN_URL.
void applyEnvironment(Config& config);

/// "v1" when baseUrl ends in /v1, else "v4" (used when tcia.apiVersion is not given). Pure.
std::string guessApiVersion(const std::string& baseUrl);
/// Parses a command-line move destination "AET=HOST:PORT". Throws BridgeError(InvalidArgument).
DicomPeer parseDestination(const std::string& text);

}  // namespace bridge
