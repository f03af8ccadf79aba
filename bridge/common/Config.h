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
    std::string baseUrl = "https://nbia.cancerimagingarchive.net/nbia-api/services/v4";  ///< NBIA v4 (2026); services.cancerimagingarchive.net still works when configured
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

/// NCI Imaging Data Commons as the source (Config::source == "idc"; docs/idc.md): metadata from
/// the IDC REST API v3 (`POST /sql`), instances from the public buckets. HTTP behaviour
/// (timeouts, retries, backoff, per-host limit, caFile) comes from TciaSettings.
struct IdcSettings {
    std::string apiUrl = "https://api.imaging.datacommons.cancer.gov/v3";
    /// Bucket base URL; `{bucket}` is replaced by the series' aws_bucket, the object key follows.
    std::string bucketUrl = "https://{bucket}.s3.amazonaws.com";
    int maxParallelGets = 8;            ///< object GETs in flight per series download / header scan
    int sqlPageRows = 10000;            ///< rows per /sql page (IDC never returns more than 10,000)
    std::uint64_t maxHeaderBytes = 4ull << 20;  ///< Range GETs for an instance header double up to this
    std::uint64_t maxObjectBytes = 2ull << 30;  ///< one object; beyond: the download fails
    int seriesCacheEntries = 4096;      ///< series whose bucket/uuid/instance list stay cached in memory
    /// TCIA collection name -> its DOI, for collections IDC names differently (TCIA renamed
    /// them): joined on the DOI, IDC's collection is shown under this name (docs/idc.md).
    std::map<std::string, std::string> tciaNames;
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
    std::chrono::seconds acseTimeout{30};  ///< total deadline for an incoming A-ASSOCIATE-RQ; outgoing ACSE timeout
    std::chrono::seconds dimseTimeout{60};
    std::chrono::seconds networkTimeout{60};
    std::chrono::seconds pendingInterval{5};  ///< max silence between C-MOVE/C-GET Pendings
    std::map<std::string, DicomPeer> peers;  ///< by AE title: C-MOVE destinations
    std::set<std::string> allowedCallingAets;  ///< empty = anyone
    bool checkCallerHost = false;  ///< with allowedCallingAets: caller's IP must match its peer entry
    /// Extra called AE titles, each scoped to a set of collections.
    std::map<std::string, std::set<std::string>> collectionAets;
    /// false: no plain (unencrypted) DIMSE listener (`port` is ignored); see tlsPort.
    bool plainEnabled = true;
    /// DICOM TLS listener (BCP 195 profile, certificates from Config::tls); unset = none,
    /// 0 = any free port. Same association handling as the plain port.
    std::optional<std::uint16_t> tlsPort;
};

struct WebSettings {
    bool enabled = true;
    std::uint16_t port = 8080;
    std::string bindAddress = "127.0.0.1";
    std::string publicBaseUrl;  ///< e.g. https://bridge.example.org ; empty = from Host/Forwarded
    int maxThreads = 16;
    int maxQueued = 64;  ///< beyond: 503
    std::string allowedOrigin = "*";
    /// false: no plain HTTP listener (`port` is ignored); see httpsPort.
    bool plainEnabled = true;
    /// HTTPS listener (certificates from Config::tls); unset = none, 0 = any free port.
    std::optional<std::uint16_t> httpsPort;
    /// Total time to send one request header (from connect; after a response, from its end
    /// plus the 10 s keep-alive idle time); then the connection is dropped (slowloris).
    std::chrono::seconds headerTimeout{15};
    /// Open connections per client IP address; beyond: 503 JSON and close. 0 = no limit
    /// (behind a reverse proxy every client has the proxy's address: raise it or use 0).
    int maxConnectionsPerClient = 32;
};

/// TLS material for both faces (HTTPS and DICOM TLS), PEM files. Used when a TLS port is set.
struct TlsSettings {
    std::string certFile;  ///< server certificate (chain), PEM
    std::string keyFile;   ///< its private key, PEM, unencrypted
    std::string caFile;    ///< non-empty: client certificates are REQUIRED and verified against these CAs
};

/// One statically configured HTTP principal (bearer token or Basic user) and its collection scope.
/// The secret is never in the config file in clear: `secretHash` holds its hash, or `secretEnv`
/// names an environment variable holding it; `secret` is filled only from flags/environment.
struct AuthPrincipal {
    std::string name;        ///< shown in logs; Basic: the user name
    std::string secretHash;  ///< token: SHA-256 hex; Basic: "pbkdf2-sha256$ITER$SALT$HEX"
    std::string secretEnv;   ///< environment variable with the secret in clear
    std::string secret;      ///< in clear (from --bearer-token or secretEnv); never from the file
    std::set<std::string> grants;  ///< restricted collections this principal may see
    std::optional<std::set<std::string>> only;  ///< set: sees only these collections
};

/// OIDC: JWTs (RS256) from one issuer, verified with its keys from a file (JWKS or PEM).
struct OidcSettings {
    std::string issuer;                 ///< required "iss"
    std::set<std::string> audiences;    ///< "aud" must contain one of these (empty = not checked)
    std::string jwksFile;               ///< the issuer's JWKS document (keys by "kid")
    std::string publicKeyFile;          ///< or one RSA public key, PEM
    std::string nameClaim = "sub";      ///< principal name
    std::string grantsClaim;            ///< claim holding granted collection names (array or space-separated)
    std::set<std::string> grants;       ///< granted to every valid token
    std::chrono::seconds leeway{60};    ///< clock skew allowed for exp / nbf / iat
};

/// HTTP authentication of DICOMweb (off by default: loopback demos). With it on, every route but
/// `publicPaths` and CORS preflight needs a valid bearer token, Basic user or OIDC JWT.
struct AuthSettings {
    bool enabled = false;
    std::string realm = "tcia-bridge";
    std::vector<AuthPrincipal> bearerTokens;
    std::vector<AuthPrincipal> basicUsers;
    std::optional<OidcSettings> oidc;
    std::set<std::string> publicPaths{"/", "/health", "/ready"};
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
    /// serve mode: harvest missing or stale collections in the background (CatalogHarvester);
    /// `--no-harvest` turns it off.
    bool harvestOnStart = true;
    /// Bound on query_cache rows (remembered TCIA calls): expired rows and then the oldest go.
    std::size_t maxCachedCalls = 100'000;
};

struct QuerySettings {
    std::size_t maxResults = 10'000;  ///< C-FIND/QIDO cap; beyond it the answer is truncated (documented status)
    bool caseSensitivePersonNames = false;
    /// Budget of the C-FIND answer cache (bridge/query/FindAnswerCache.h), MB; 0 = off.
    std::size_t findCacheMegabytes = 64;
};

/// Who may see restricted collections: the calling AE titles and HTTP bearer tokens granted each.
struct AccessSettings {
    std::map<std::string, std::set<std::string>> grantsByAet;    ///< collection -> AE titles
    std::map<std::string, std::set<std::string>> grantsByToken;  ///< collection -> HTTP bearer tokens
    std::set<std::string> restrictedCollections;  ///< in addition to those TCIA shows only with a token
};

/// One log sink for every component (see bridge/common/Logging.h). The default level is
/// Config::logLevel (key "logLevel" or "log.level", flag --log-level).
struct LogSettings {
    std::string sink = "console";  ///< "console" (stderr) or "file"
    std::string file;              ///< with sink "file": appended to; required then
    std::string format = "text";   ///< "text" or "json" (one JSON object per line)
    std::map<std::string, std::string> levels;  ///< logger-name prefix (e.g. "bridge.tcia", "dcmtk") -> level
};

/// The audit trail (see bridge/common/AuditLog.h): one JSON line per query and retrieve.
struct AuditSettings {
    std::string file;  ///< empty = no audit trail
};

struct Config {
    TciaSettings tcia;
    std::string source = "nbia";  ///< "nbia" (TciaClient, default) or "idc" (IdcClient, Config::idc)
    IdcSettings idc;
    DimseSettings dimse;
    WebSettings web;
    CacheSettings cache;
    CatalogSettings catalog;
    QuerySettings query;
    AccessSettings access;
    std::string logLevel = "info";
    LogSettings log;
    AuditSettings audit;
    TlsSettings tls;
    AuthSettings auth;
};

/// Parses a JSON config document (comments `//` allowed). Unknown keys are an error naming the key.
/// Throws BridgeError(InvalidArgument) with a message that names the offending key.
Config parseConfig(const std::string& jsonText);
/// Cross-key checks (impossible combinations), run by parseConfig and again after flags are
/// applied. Throws BridgeError(InvalidArgument) naming the key ("config.web.port: ...").
void validateConfig(const Config& config);
/// Reads environment variables TCIA_USERNAME, TCIA_PASSWORD, TCIA_CLIENT_SECRET, TCIA_TOKEN_URL.
void applyEnvironment(Config& config);

/// Impossible TLS combinations (a TLS port without tls.certFile / tls.keyFile, both plain and
/// TLS listeners of a face off while the face is enabled): BridgeError(InvalidArgument) naming
/// the key. Call after flags are applied.
void checkTlsSettings(const Config& config);

/// "v1" when baseUrl ends in /v1, else "v4" (used when tcia.apiVersion is not given). Pure.
std::string guessApiVersion(const std::string& baseUrl);
/// Parses a command-line move destination "AET=HOST:PORT". Throws BridgeError(InvalidArgument).
DicomPeer parseDestination(const std::string& text);

}  // namespace bridge
