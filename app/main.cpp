// tcia-bridge: serves The Cancer Imaging Archive as a DICOM node (DIMSE Q/R SCP) and as a
// DICOMweb server (QIDO-RS / WADO-RS), and harvests collections into the catalog (`sync`).
// Composition only: configuration -> BridgeServices (the core) -> the two adapters.

#include <dcmtk/config/osconfig.h>
#include <Poco/Logger.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/oflog/oflog.h>
#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bridge/catalog/Catalog.h"
#include "bridge/catalog/CatalogRefresher.h"
#include "bridge/catalog/CatalogSync.h"
#include "bridge/common/Config.h"
#include "bridge/common/Error.h"
#include "bridge/common/Logging.h"
#include "bridge/common/MetricsRegistry.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/retrieve/BridgeServices.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "web/DicomWebServer.h"

namespace {

const char* const kUsage = R"(usage:
  tcia-bridge [--config FILE] [options]          serve DIMSE + DICOMweb
  tcia-bridge sync [--config FILE] [options] [--collection NAME]... [--no-resume]
                                                 harvest collections into the catalog

options (override the configuration file; see conf/tcia-bridge.example.json):
  --config FILE             JSON configuration (// comments allowed)
  --tcia-url URL            TCIA REST base URL (default https://nbia.cancerimagingarchive.net/nbia-api/services/v4;
                            the older https://services.cancerimagingarchive.net/nbia-api/services/v4 also works)
  --source nbia|idc         where TCIA's collections come from (default nbia; idc = NCI Imaging
                            Data Commons REST API v3 + public buckets, docs/idc.md)
  --idc-api-url URL         IDC REST API base (default https://api.imaging.datacommons.cancer.gov/v3)
  --idc-bucket-url TEMPLATE IDC bucket base URL, {bucket} = aws_bucket (default https://{bucket}.s3.amazonaws.com)
  --aet AET                 the bridge's DIMSE AE title (default TCIA)
  --dimse-port N            DIMSE port (default 11112; 0 = any free port, printed at start)
  --http-port N             DICOMweb port (default 8080; 0 = any free port, printed at start)
  --bind ADDR               listen address of both servers (default 127.0.0.1)
  --cache-dir DIR           instance cache and catalog directory (default ./cache)
  --destination AET=HOST:PORT
                            a C-MOVE destination (repeatable; adds to dimse.peers)
  --no-dimse | --no-web     do not start that server
  --tls-cert FILE           server certificate (PEM) for --https-port and --dicom-tls-port
  --tls-key FILE            its private key (PEM)
  --tls-ca FILE             CA certificates (PEM): client certificates are then REQUIRED on TLS ports
  --https-port N            DICOMweb over HTTPS on this port (0 = any free port, printed at start)
  --dicom-tls-port N        DICOM TLS (BCP 195) on this port (0 = any free port, printed at start)
                            --http-port off / --dimse-port off: no plain listener for that face
  --bearer-token TOKEN      turn HTTP authentication on and accept this bearer token (repeatable;
                            default scope: public collections). See docs/security.md
  --no-harvest              do not harvest the catalog in the background (catalog.harvestOnStart)
  --log-level LEVEL         trace, debug, info (default), warn, error
  --log-format text|json    log line format (default text)
  --log-file FILE           log to FILE (appended) instead of stderr
  --audit-file FILE         append one JSON audit line per query and retrieve to FILE
  --version                 print the version and exit
  --help                    this text
sync options:
  --collection NAME         harvest only this collection (repeatable; default: all)
  --no-resume               start the harvest over instead of continuing an unfinished one

environment: TCIA_USERNAME, TCIA_PASSWORD, TCIA_CLIENT_SECRET, TCIA_TOKEN_URL (legacy
restricted collections: controlled-access data left NBIA in July 2025); TCP_NODELAY (set to 1
by the bridge unless given).
Stops cleanly on SIGINT / SIGTERM. SIGHUP re-reads the configuration file and applies
dimse.peers, dimse.allowedCallingAets, dimse.checkCallerHost, access.* and log.* without
dropping associations (other keys need a restart). Every key: docs/configuration.md.
)";

struct Arguments {
    bool sync = false;
    bool help = false;
    bool version = false;
    std::optional<std::string> configFile;
    std::vector<std::pair<std::string, std::string>> overrides;  // applied in order
    std::vector<std::string> collections;
    bool resume = true;
};

[[noreturn]] void usageError(const std::string& message) {
    std::cerr << "tcia-bridge: " << message << "\n(see tcia-bridge --help)\n";
    std::exit(2);
}

Arguments parseArguments(int argc, char** argv) {
    Arguments args;
    int i = 1;
    if (argc > 1 && std::string(argv[1]) == "sync") {
        args.sync = true;
        i = 2;
    }
    auto value = [&](const std::string& flag) -> std::string {
        if (i + 1 >= argc) usageError(flag + " needs a value");
        return argv[++i];
    };
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h")
            args.help = true;
        else if (a == "--version")
            args.version = true;
        else if (a == "--log-format" || a == "--log-file" || a == "--audit-file")
            args.overrides.emplace_back(a, value(a));
        else if (a == "--config")
            args.configFile = value(a);
        else if (a == "--tcia-url" || a == "--aet" || a == "--dimse-port" || a == "--http-port" ||
                 a == "--bind" || a == "--cache-dir" || a == "--destination" || a == "--log-level" ||
                 a == "--tls-cert" || a == "--tls-key" || a == "--tls-ca" || a == "--https-port" ||
                 a == "--dicom-tls-port" || a == "--bearer-token" || a == "--source" || a == "--idc-api-url" ||
                 a == "--idc-bucket-url")
            args.overrides.emplace_back(a, value(a));
        else if (a == "--no-dimse" || a == "--no-web" || a == "--no-harvest")
            args.overrides.emplace_back(a, "");
        else if (a == "--collection" && args.sync)
            args.collections.push_back(value(a));
        else if (a == "--no-resume" && args.sync)
            args.resume = false;
        else
            usageError("unknown argument '" + a + "'");
    }
    return args;
}

std::uint16_t parsePort(const std::string& flag, const std::string& text) {
    try {
        std::size_t used = 0;
        int port = std::stoi(text, &used);
        if (used == text.size() && port >= 0 && port <= 65535) return static_cast<std::uint16_t>(port);
    } catch (const std::exception&) {
    }
    usageError(flag + ": bad port '" + text + "'");
}

bridge::Config loadConfig(const Arguments& args) {
    bridge::Config config;
    if (args.configFile) {
        std::ifstream in(*args.configFile);
        if (!in) usageError("cannot read " + *args.configFile);
        std::stringstream text;
        text << in.rdbuf();
        config = bridge::parseConfig(text.str());
    }
    bridge::applyEnvironment(config);
    for (const auto& [flag, v] : args.overrides) {
        if (flag == "--tcia-url") {
            config.tcia.baseUrl = v;
            config.tcia.apiVersion = bridge::guessApiVersion(v);
        } else if (flag == "--source") {
            if (v != "nbia" && v != "idc") usageError("--source: nbia or idc");
            config.source = v;
        } else if (flag == "--idc-api-url") {
            config.idc.apiUrl = v;
        } else if (flag == "--idc-bucket-url") {
            config.idc.bucketUrl = v;
        } else if (flag == "--aet") {
            if (v.empty() || v.size() > 16) usageError("--aet: 1 to 16 characters");
            config.dimse.aeTitle = v;
        } else if (flag == "--dimse-port" && v == "off") {
            config.dimse.plainEnabled = false;
        } else if (flag == "--dimse-port") {
            config.dimse.port = parsePort(flag, v);
        } else if (flag == "--http-port" && v == "off") {
            config.web.plainEnabled = false;
        } else if (flag == "--http-port") {
            config.web.port = parsePort(flag, v);
        } else if (flag == "--tls-cert") {
            config.tls.certFile = v;
        } else if (flag == "--tls-key") {
            config.tls.keyFile = v;
        } else if (flag == "--tls-ca") {
            config.tls.caFile = v;
        } else if (flag == "--https-port") {
            config.web.httpsPort = parsePort(flag, v);
        } else if (flag == "--dicom-tls-port") {
            config.dimse.tlsPort = parsePort(flag, v);
        } else if (flag == "--bearer-token") {
            if (v.empty()) usageError("--bearer-token: empty token");
            bridge::AuthPrincipal token;
            token.name = "token-" + std::to_string(config.auth.bearerTokens.size() + 1);
            token.secret = v;
            config.auth.bearerTokens.push_back(token);
            config.auth.enabled = true;
        } else if (flag == "--bind") {
            config.dimse.bindAddress = v;
            config.web.bindAddress = v;
        } else if (flag == "--cache-dir") {
            config.cache.directory = v;
        } else if (flag == "--destination") {
            bridge::DicomPeer peer = bridge::parseDestination(v);
            config.dimse.peers[peer.aeTitle] = peer;
        } else if (flag == "--log-level") {
            if (!bridge::isLogLevel(v)) usageError("--log-level: trace, debug, info, warn, error or fatal");
            config.logLevel = v;
        } else if (flag == "--log-format") {
            if (v != "text" && v != "json") usageError("--log-format: text or json");
            config.log.format = v;
        } else if (flag == "--log-file") {
            config.log.sink = "file";
            config.log.file = v;
        } else if (flag == "--audit-file") {
            config.audit.file = v;
        } else if (flag == "--no-dimse") {
            config.dimse.enabled = false;
        } else if (flag == "--no-web") {
            config.web.enabled = false;
        } else if (flag == "--no-harvest") {
            config.catalog.harvestOnStart = false;
        }
    }
    bridge::validateConfig(config);
    bridge::checkTlsSettings(config);
    return config;
}

/// Blocks SIGINT/SIGTERM in this thread and every thread started after; waitForSignal() takes them.
sigset_t blockStopSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

int runSyncCommand(const Arguments& args, const bridge::Config& config, const sigset_t& stopSignals) {
    auto services = bridge::makeBridgeServices(config);
    auto* catalog = dynamic_cast<bridge::Catalog*>(services->metadata.get());
    if (!catalog) {
        std::cerr << "tcia-bridge sync: the configured metadata source is not a catalog\n";
        return 1;
    }
    bridge::RequestContext context;
    // A signal cancels the harvest; it stops between TCIA calls and can be resumed.
    std::thread watcher([&] {
        int sig = 0;
        sigwait(&stopSignals, &sig);
        if (sig != SIGUSR1) context.cancel();
    });
    bridge::SyncOptions options;
    options.collections = args.collections;
    options.resume = args.resume;
    options.progress = [](const bridge::SyncProgress& p) {
        std::fprintf(stderr, "\rsync: %zu/%zu collections, %lld series (%.1f/s) %s        ",
                     p.collectionsDone, p.collectionsTotal, static_cast<long long>(p.seriesStored),
                     p.seriesPerSecond, p.currentCollection.c_str());
    };
    int rc = 0;
    try {
        bridge::SyncResult r = bridge::runSync(*catalog, *services->tcia, options, context);
        std::fprintf(stderr, "\n");
        std::printf(
            "sync: %zu collections harvested, %zu skipped, %lld patients, %lld studies, %lld series in %.1f "
            "s%s\n",
            r.collectionsHarvested, r.collectionsSkipped, static_cast<long long>(r.patients),
            static_cast<long long>(r.studies), static_cast<long long>(r.series), r.elapsedSeconds,
            r.cancelled ? " (cancelled: run again to resume)" : "");
        for (const auto& f : r.failures)
            std::printf("sync: %s failed: %s\n", f.collection.c_str(), f.message.c_str());
        rc = (r.cancelled || !r.failures.empty()) ? 1 : 0;
    } catch (const std::exception& e) {
        std::cerr << "\ntcia-bridge sync: " << e.what() << "\n";
        rc = 1;
    }
    pthread_kill(watcher.native_handle(), SIGUSR1);
    watcher.join();
    return rc;
}

/// SIGHUP: re-reads the configuration (file, environment, flags) and applies what can change
/// while serving: peers and calling-AE rules, access grants, logging. Failures keep the old
/// configuration and are logged.
void reloadConfiguration(const Arguments& args, bridge::BridgeServices& services, bridge::dimse::DimseServer* dimse) {
    Poco::Logger& log = Poco::Logger::get("bridge.app");
    try {
        bridge::Config fresh = loadConfig(args);
        bridge::configureLogging(fresh.log, fresh.logLevel);
        if (dimse) dimse->reload(fresh.dimse);
        if (services.access) services.access->reload(fresh.access);
        bridge::metrics().add("tcia_bridge_config_reloads_total", {"ok"});
        log.information("SIGHUP: configuration reloaded (%z DIMSE peers, %z collections with grants)",
                        fresh.dimse.peers.size(), fresh.access.grantsByAet.size() + fresh.access.grantsByToken.size());
    } catch (const std::exception& e) {
        bridge::metrics().add("tcia_bridge_config_reloads_total", {"failed"});
        log.error("SIGHUP: configuration not reloaded, keeping the previous one: %s", std::string(e.what()));
    }
}

/// DCMTK reads its data dictionary (DCMDICTPATH, else DCM_DICT_DEFAULT_PATH) when a dataset
/// first needs it: in the first association's first command, where it cost the first C-MOVE
/// after a start ~20 ms (issue 12). It is read here instead, before anything listens; without
/// one no identifier, header or Part-10 file can be read right, so the bridge does not start.
void loadDicomDictionary() {
    if (dcmDataDict.isDictionaryLoaded()) return;
    const char* env = std::getenv(DCM_DICT_ENVIRONMENT_VARIABLE);
    const bool fromEnv = env && *env;
    throw std::runtime_error(std::string("cannot load the DICOM data dictionary from ") +
                             (fromEnv ? env : DCM_DICT_DEFAULT_PATH) +
                             (fromEnv ? " (DCMDICTPATH)" : "") +
                             ": install DCMTK's data files (Debian: libdcmtk17) or point DCMDICTPATH at dicom.dic");
}

int runServe(const Arguments& args, const bridge::Config& config, const sigset_t& stopSignals) {
    loadDicomDictionary();
    auto services = bridge::makeBridgeServices(config);
    // Harvest on start: fills the catalog in the background (collections, then study level,
    // then series level); broad queries answer from it meanwhile and say how complete they are.
    // Started before the servers, which read services->harvester.
    const bool harvesting =
        config.catalog.harvestOnStart &&
        bridge::startHarvest(*services, {}, [](const std::string& message) { std::cerr << "tcia-bridge: " << message << "\n"; });
    if (!harvesting && services->afterHarvest) services->afterHarvest();  // no harvest to wait for
    std::unique_ptr<bridge::dimse::DimseServer> dimse;
    std::unique_ptr<bridge::web::DicomWebServer> web;
    std::ostringstream where;
    if (config.dimse.enabled) {
        dimse = std::make_unique<bridge::dimse::DimseServer>(config.dimse,
                                                             bridge::dimse::makeDimseDependencies(*services), config.tls);
        dimse->start();
        services->dimsePort = dimse->port() ? dimse->port() : dimse->tlsPort();
        if (config.dimse.plainEnabled) where << "DIMSE listening on " << config.dimse.bindAddress << ":" << dimse->port();
        if (config.dimse.plainEnabled && config.dimse.tlsPort) where << ", ";
        if (config.dimse.tlsPort)
            where << "DICOM TLS listening on " << config.dimse.bindAddress << ":" << dimse->tlsPort()
                  << (config.tls.caFile.empty() ? "" : " (client certificates required)");
        where << " (AE " << config.dimse.aeTitle;
        for (const auto& [aet, _] : config.dimse.collectionAets) where << ", " << aet;
        where << ")";
    }
    if (config.web.enabled) {
        web = std::make_unique<bridge::web::DicomWebServer>(*services);
        web->start();
        if (dimse) where << "; ";
        if (config.web.plainEnabled)
            where << "DICOMweb listening on http://" << config.web.bindAddress << ":" << web->port() << "/dicom-web";
        if (config.web.plainEnabled && config.web.httpsPort) where << ", ";
        if (config.web.httpsPort)
            where << "DICOMweb listening on https://" << config.web.bindAddress << ":" << web->httpsPort() << "/dicom-web"
                  << (config.tls.caFile.empty() ? "" : " (client certificates required)");
        if (config.auth.enabled) where << " (authentication required)";
    }
    if (!dimse && !web) {
        std::cerr << "tcia-bridge: both servers disabled, nothing to do\n";
        return 2;
    }
    // Keeps the catalog current while serving (new series in TCIA appear without a restart).
    // Declared after `services`, so it is destroyed (cancelled and joined) before the catalog.
    std::unique_ptr<bridge::CatalogRefresher> refresher;
    if (config.catalog.refreshInterval.count() > 0) {
        if (auto* catalog = dynamic_cast<bridge::Catalog*>(services->metadata.get())) {
            refresher = std::make_unique<bridge::CatalogRefresher>(
                *catalog, std::chrono::duration_cast<std::chrono::milliseconds>(config.catalog.refreshInterval),
                [](const std::string& message) { Poco::Logger::get("bridge.catalog").information(message); });
            where << "; catalog refresh every " << config.catalog.refreshInterval.count() << " s";
        }
    }
    if (harvesting) where << "; harvesting the catalog in the background (GET /status)";
    if (config.source == "idc")
        where << "; TCIA's collections from IDC at " << config.idc.apiUrl << " and " << config.idc.bucketUrl;
    else
        where << "; TCIA at " << config.tcia.baseUrl;
    std::printf("tcia-bridge: %s\n", where.str().c_str());
    std::fflush(stdout);

    int sig = 0;
    for (;;) {
        sigwait(&stopSignals, &sig);
        if (sig != SIGHUP) break;
        reloadConfiguration(args, *services, dimse.get());
    }
    std::printf("tcia-bridge: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    std::fflush(stdout);
    refresher.reset();  // cancels a refresh in flight (between TCIA calls) and joins
    services->harvester.reset();  // cancels the harvest (staged rows are discarded) and joins
    if (web) web->stop();
    if (dimse) dimse->stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // toolchain.md pitfall 7: dcmnet leaves Nagle on unless TCP_NODELAY is in the environment
    // when an association opens (about 40 ms lost per C-STORE). Before any thread or socket.
    setenv("TCP_NODELAY", "1", 0);
    Arguments args = parseArguments(argc, argv);
    if (args.help) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (args.version) {
        std::printf("tcia-bridge %s\n", BRIDGE_VERSION);
        return 0;
    }
    sigset_t stopSignals = blockStopSignals();
    if (args.sync) sigaddset(&stopSignals, SIGUSR1), pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    try {
        bridge::Config config = loadConfig(args);
        bridge::configureLogging(config.log, config.logLevel);
        return args.sync ? runSyncCommand(args, config, stopSignals) : runServe(args, config, stopSignals);
    } catch (const bridge::BridgeError& e) {
        std::cerr << "tcia-bridge: " << e.what() << "\n";
        return e.code() == bridge::ErrorCode::InvalidArgument ? 2 : 1;
    } catch (const std::exception& e) {
        std::cerr << "tcia-bridge: " << e.what() << "\n";
        return 1;
    }
}
