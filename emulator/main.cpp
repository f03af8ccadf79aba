// tcia-emulator: an offline stand-in for The Cancer Imaging Archive's NBIA REST API.
//   tcia-emulator generate --out DIR [--large] [--synthetic-studies N --series-per-study M]
//   tcia-emulator serve --data DIR --port N [--bind ADDR] [--fault SPEC ...] [--token-user U]
//                       [--token-password P] [--token-lifetime S] [--threads N] [--quiet]
#include "emulator/DataIndex.h"
#include "emulator/EmulatorServer.h"
#include "emulator/SampleDataGenerator.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/oflog/oflog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <pthread.h>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

const char* const kUsage = R"(Usage:
  tcia-emulator generate --out DIR [--large] [--many-slices N] [--synthetic-studies N [--series-per-study M]]
      Writes deterministic TCIA-like DICOM (collections TCGA-DEMO-CT, RIDER-Demo-MR,
      Phantom-Mixed, Restricted-Demo [token only], with --large also Large-CT-Demo: one
      300-slice 512x512 CT) plus DIR/collections.json, and DIR/.complete last.
      --synthetic-studies N: instead, a metadata-only catalog of N studies x M series
      (default M=10) in 10 collections Synthetic-00..09 (DIR/synthetic.json); searches work,
      getImage answers 400 "not in public domain".
      --many-slices N: also Many-Slices-Demo, one CT series (.2.15) of N 16x16 slices
      (e.g. 1200: more than one 1,000-key ListObjectsV2 page in its S3 prefix).

  tcia-emulator serve --data DIR --port N [options]
      Serves /nbia-api/services/{v1,v2,v4}/<endpoint>, /nbia-api/oauth/token,
      /emulator/stats, /emulator/faults.
      --bind ADDR             listen address (default 127.0.0.1)
      --fault SPEC            repeatable; ENDPOINT:KIND[:COUNT[:key=value...]], ENDPOINT may be *
                              KIND: an HTTP status 400-599 (429/503 honour retry-after=S),
                              truncate (getImage: cut the ZIP mid-entry and end the body;
                              bytes=N cuts after N bytes; mode=reset resets the connection),
                              slow (delay-ms=N before answering; spread between ZIP entries
                              for getImage), drop (close the connection without an answer).
                              Examples: getImage:truncate:2  getSeries:500:1
                              getPatientStudy:429:1:retry-after=1  getImage:slow:1:delay-ms=3000
      --token-user U          OAuth2 user granted the restricted collection
                              (default emulator-user)
      --token-password P      its password (default emulator-password). The guest user
                              nbia_guest with an empty password gets a public-only token.
      --token-lifetime S      access token lifetime in seconds (default 7199)
      --threads N             HTTP worker threads (default 32)
      --quiet                 no per-request log lines on stderr
      --idc-version V         IDC release /v3/version reports (default v24)
      --idc-index-data-version V   its idc-index-data version (default 24.2.2)
      --idc-sql-timeout-ms N  POST /v3/sql time limit, then 504 query_timeout (default 30000)
      --idc-synthetic         also load the synthetic series into /v3/sql's index (harvest
                              benchmarks; ~430 MB for 1,000,000 series; no S3 objects)
      IDC face over the same data: /v3/{version,health,collections[/ID],sql,cohort/manifest,
      cohort/counts}, /s3/{idc-open-data,idc-open-data-two,idc-open-data-cr}/[KEY]
      (ListObjectsV2, GetObject with Range, HeadObject); fault ENDPOINTs v3/sql, v3/version,
      v3/collections, v3/collection, v3/cohort/manifest, ListObjectsV2, GetObject, HeadObject.
      Runtime control: POST /emulator/faults?spec=SPEC, DELETE /emulator/faults,
      GET /emulator/stats, POST /emulator/stats/reset,
      GET|POST /emulator/idc/version[?idc_version=V&idc_index_data_version=W].
)";

/// SIGINT/SIGTERM, blocked in every thread of `serve` and taken by sigwait (no flag to poll).
sigset_t stopSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
}

int usage(const std::string& error) {
    if (!error.empty()) std::fprintf(stderr, "tcia-emulator: %s\n\n", error.c_str());
    std::fputs(kUsage, error.empty() ? stdout : stderr);
    return error.empty() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) return usage("missing subcommand");
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") return usage("");
    const std::string command = args[0];
    auto value = [&](std::size_t& i) -> std::string {
        if (i + 1 >= args.size()) throw std::invalid_argument("option " + args[i] + " needs a value");
        return args[++i];
    };
    try {
        if (command == "generate") {
            emulator::GenerateOptions options;
            for (std::size_t i = 1; i < args.size(); ++i) {
                if (args[i] == "--out") options.outDir = value(i);
                else if (args[i] == "--large") options.large = true;
                else if (args[i] == "--many-slices") options.manySlices = std::stoll(value(i));
                else if (args[i] == "--synthetic-studies") options.syntheticStudies = std::stoll(value(i));
                else if (args[i] == "--series-per-study") options.seriesPerStudy = std::stoll(value(i));
                else if (args[i] == "--help") return usage("");
                else return usage("unknown option " + args[i]);
            }
            if (options.outDir.empty()) return usage("generate needs --out DIR");
            const auto started = std::chrono::steady_clock::now();
            const std::size_t files = emulator::SampleDataGenerator::generate(options);
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
            std::fprintf(stderr, "tcia-emulator: wrote %zu DICOM files to %s in %lld ms\n", files,
                         options.outDir.c_str(), static_cast<long long>(ms.count()));
            return 0;
        }
        if (command == "serve") {
            emulator::ServerOptions options;
            std::string data;
            bool havePort = false;
            for (std::size_t i = 1; i < args.size(); ++i) {
                if (args[i] == "--data") data = value(i);
                else if (args[i] == "--port") {
                    options.port = static_cast<unsigned short>(std::stoi(value(i)));
                    havePort = true;
                } else if (args[i] == "--bind") options.bind = value(i);
                else if (args[i] == "--fault") options.faults.push_back(value(i));
                else if (args[i] == "--token-user") options.tokenUser = value(i);
                else if (args[i] == "--token-password") options.tokenPassword = value(i);
                else if (args[i] == "--token-lifetime") options.tokenLifetimeSeconds = std::stoi(value(i));
                else if (args[i] == "--threads") options.maxThreads = std::stoi(value(i));
                else if (args[i] == "--quiet") options.quiet = true;
                else if (args[i] == "--idc-version") options.idcVersion = value(i);
                else if (args[i] == "--idc-index-data-version") options.idcIndexDataVersion = value(i);
                else if (args[i] == "--idc-sql-timeout-ms") options.idcSqlTimeoutMs = std::stoi(value(i));
                else if (args[i] == "--idc-synthetic") options.idcSynthetic = true;
                else if (args[i] == "--help") return usage("");
                else return usage("unknown option " + args[i]);
            }
            if (data.empty() || !havePort) return usage("serve needs --data DIR and --port N");
            const auto started = std::chrono::steady_clock::now();
            auto index = emulator::DataIndex::load(data);
            emulator::EmulatorServer server(index, options);
            // Blocked before the server's threads start, so they inherit the mask and only
            // sigwait below takes the signal.
            const sigset_t stop = stopSignals();
            pthread_sigmask(SIG_BLOCK, &stop, nullptr);
            std::signal(SIGPIPE, SIG_IGN);
            server.start();
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
            std::fprintf(stderr, "tcia-emulator: %zu series indexed in %lld ms; listening on %s:%u\n",
                         index->seriesCount(), static_cast<long long>(ms.count()), options.bind.c_str(), server.port());
            int signal = 0;
            sigwait(&stop, &signal);
            server.stop();
            return 0;
        }
        return usage("unknown subcommand " + command);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tcia-emulator: %s\n", e.what());
        return 1;
    }
}
