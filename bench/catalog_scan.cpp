// bench_catalog_scan -- figure 6 of issue #5, measured on the catalog alone (no DIMSE, no HTTP
// front end): the wall time of a full sync of a TCIA emulator's catalog, and the latency of a
// C-FIND-like PatientName wildcard search across all collections through the real QueryEngine
// over the Catalog (p50/p95), plus the raw Catalog::scanStudies time.
//
// Usage:
//   tcia-emulator generate --out DIR --synthetic-studies 100000 --series-per-study 10
//   tcia-emulator serve --data DIR --port 18080 --quiet &
//   bench_catalog_scan --base-url http://127.0.0.1:18080/nbia-api/services/v4 [--work DIR]
//                      [--iterations 20] [--pattern 'SMI*'] [--limit N] [--skip-sync]
//                      [--modalities-in-study]
// --work holds catalog.db (default /tmp/bench-catalog-scan; reused with --skip-sync).
// Prints `name value unit` lines.
#include "bridge/catalog/Catalog.h"
#include "bridge/catalog/CatalogSync.h"
#include "bridge/catalog/SyncProgressBar.h"
#include "bridge/common/Error.h"
#include "bridge/query/QueryEngine.h"
#include "bridge/tcia/TciaClient.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <Poco/File.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace bridge;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
    return v[i];
}

}  // namespace

int main(int argc, char** argv) {
    std::string baseUrl, work = "/tmp/bench-catalog-scan", pattern;
    int iterations = 20;
    bool skipSync = false, modalities = false;
    long storeOnly = 0;
    std::optional<std::size_t> limit;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--base-url") baseUrl = value();
        else if (a == "--work") work = value();
        else if (a == "--iterations") iterations = std::stoi(value());
        else if (a == "--pattern") pattern = value();
        else if (a == "--limit") limit = std::stoul(value());
        else if (a == "--skip-sync") skipSync = true;
        else if (a == "--modalities-in-study") modalities = true;
        else if (a == "--store-only") storeOnly = std::stol(value());
        else {
            std::cerr << "usage: bench_catalog_scan --base-url URL [--work DIR] [--iterations N] [--pattern P] "
                         "[--limit N] [--skip-sync] [--modalities-in-study]\n";
            return 2;
        }
    }
    if (storeOnly > 0) {
        // The database side of a harvest alone: N generated series (10 per study) stored in one
        // collection, twice (the second replaces the first), no TCIA involved.
        struct NoTcia : tcia::TciaApi {
            [[noreturn]] static void no() { throw BridgeError(ErrorCode::Unsupported, "no TCIA in --store-only"); }
            std::vector<std::string> collections(const RequestContext& context) override { no(); }
            std::vector<std::string> modalityValues(const tcia::ValueFilter&, const RequestContext& context) override { no(); }
            std::vector<std::string> bodyPartValues(const tcia::ValueFilter&, const RequestContext& context) override { no(); }
            std::vector<std::string> manufacturerValues(const tcia::ValueFilter&, const RequestContext& context) override { no(); }
            std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter&, const RequestContext& context) override { no(); }
            std::vector<tcia::PatientRecord> patientsByCollectionAndModality(const std::string&, const std::string&, const RequestContext& context) override { no(); }
            std::vector<tcia::PatientRecord> newPatientsInCollection(const std::string&, const std::string&, const RequestContext& context) override { no(); }
            std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter&, const RequestContext& context) override { no(); }
            std::vector<tcia::StudyRecord> newStudiesInPatientCollection(const std::string&, const std::string&, const std::string&, const RequestContext& context) override { no(); }
            std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter&, const RequestContext& context) override { no(); }
            std::vector<tcia::SeriesRecord> updatedSeries(const std::string&, const RequestContext& context) override { no(); }
            tcia::SeriesSize seriesSize(const std::string&, const RequestContext& context) override { no(); }
            std::vector<std::string> sopInstanceUids(const std::string&, const RequestContext& context) override { no(); }
            std::size_t downloadSeries(const std::string&, const tcia::DownloadOptions&, const tcia::InstanceSink&, const RequestContext&) override { no(); }
            std::vector<std::uint8_t> singleImage(const std::string&, const std::string&, const RequestContext& context) override { no(); }
        } none;
        Poco::File(work).createDirectories();
        for (const char* suffix : {"", "-wal", "-shm"})
            if (Poco::File(work + "/catalog.db" + suffix).exists()) Poco::File(work + "/catalog.db" + suffix).remove();
        CacheSettings cache;
        cache.directory = work;
        Catalog catalog(CatalogSettings{}, cache, none);
        std::vector<tcia::StudyRecord> studies;
        std::vector<tcia::SeriesRecord> series;
        for (long i = 0; i < storeOnly; ++i) {
            tcia::SeriesRecord r;
            r.collection = "STORE-ONLY";
            r.studyInstanceUid = "1.3.6.1.4.1.9328.50.1." + std::to_string(i / 10);
            r.seriesInstanceUid = r.studyInstanceUid + "." + std::to_string(i % 10) + ".4711";
            r.patientId = "STORE-" + std::to_string(i / 30);
            r.modality = "CT";
            r.seriesDescription = "CT CHEST W CONTRAST " + std::to_string(i);
            r.seriesDate = "20010101";
            r.imageCount = 100;
            r.licenseName = "CC BY 4.0";
            r.dataDescriptionUri = "https://doi.org/10.7937/K9/TCIA.2015.STOREONLY";
            r.manufacturer = "SIEMENS";
            series.push_back(r);
            if (i % 10 == 0) {
                tcia::StudyRecord s;
                s.collection = r.collection;
                s.studyInstanceUid = r.studyInstanceUid;
                s.patientId = r.patientId;
                s.patientName = r.patientId;
                studies.push_back(s);
            }
        }
        for (int round = 0; round < 2; ++round) {
            const auto t0 = Clock::now();
            catalog.storeCollectionHarvest("STORE-ONLY", {}, studies, series);
            std::printf("store_round%d %.0f ms (%ld series, %.1f us/series)\n", round + 1, ms(Clock::now() - t0), storeOnly,
                        ms(Clock::now() - t0) * 1000 / storeOnly);
        }
        return 0;
    }
    if (baseUrl.empty()) {
        std::cerr << "bench_catalog_scan: --base-url is required\n";
        return 2;
    }
    try {
        TciaSettings tciaSettings;
        tciaSettings.baseUrl = baseUrl;
        tciaSettings.apiVersion = baseUrl.find("/v1") != std::string::npos ? "v1" : "v4";
        tciaSettings.readTimeout = std::chrono::seconds(600);
        tcia::TciaClient client(tciaSettings);
        CatalogSettings settings;
        CacheSettings cache;
        cache.directory = work;
        if (!skipSync) {
            Poco::File(work + "/catalog.db").exists() && (Poco::File(work + "/catalog.db").remove(), true);
            for (const char* suffix : {"-wal", "-shm"})
                if (Poco::File(work + "/catalog.db" + suffix).exists()) Poco::File(work + "/catalog.db" + suffix).remove();
        }
        Catalog catalog(settings, cache, client);

        if (!skipSync) {
            // Where a collection's sync time goes: the three TCIA calls vs the transaction.
            const auto names = client.collections(RequestContext());
            const std::string probe = names.at(0);
            const auto t0 = Clock::now();
            const auto patients = client.patients({probe, ""}, RequestContext());
            const auto t1 = Clock::now();
            const auto studies = client.studies({probe, "", ""}, RequestContext());
            const auto t2 = Clock::now();
            tcia::SeriesFilter filter;
            filter.collection = probe;
            const auto series = client.series(filter, RequestContext());
            const auto t3 = Clock::now();
            catalog.storeCollectionHarvest(probe, patients, studies, series);
            const auto t4 = Clock::now();
            std::printf("probe_collection %s (%zu series)\n", probe.c_str(), series.size());
            std::printf("probe_getPatient %.0f ms\n", ms(t1 - t0));
            std::printf("probe_getPatientStudy %.0f ms\n", ms(t2 - t1));
            std::printf("probe_getSeries %.0f ms\n", ms(t3 - t2));
            std::printf("probe_store %.0f ms\n", ms(t4 - t3));
        }

        if (!skipSync) {
            SyncOptions options;
            options.resume = false;
            options.progress = [](const SyncProgress& p) { std::cerr << "\r" << renderSyncProgress(p) << "   " << std::flush; };
            const auto started = Clock::now();
            const auto result = runSync(catalog, client, options, RequestContext());
            const double seconds = ms(Clock::now() - started) / 1000;
            std::cerr << "\n";
            if (!result.failures.empty()) {
                for (const auto& f : result.failures) std::cerr << "failed: " << f.collection << ": " << f.message << "\n";
                return 1;
            }
            std::printf("sync_seconds %.1f s\n", seconds);
            std::printf("sync_series %lld series\n", static_cast<long long>(result.series));
            std::printf("sync_studies %lld studies\n", static_cast<long long>(result.studies));
            std::printf("sync_rate %.0f series/s\n", result.series / seconds);
        }
        const auto counts = catalog.counts();
        std::printf("catalog_studies %lld studies\n", static_cast<long long>(counts.studies));
        std::printf("catalog_series %lld series\n", static_cast<long long>(counts.series));

        const auto collections = catalog.collections(RequestContext());
        if (pattern.empty()) {
            // A real name minus its last 2 characters, as bench/run's row 6a does.
            tcia::StudyFilter filter;
            filter.collection = collections.at(collections.size() / 2);
            const auto studies = catalog.studies(filter, RequestContext());
            std::string name = studies.at(studies.size() / 2).patientName;
            if (name.size() > 2) name.resize(name.size() - 2);
            pattern = name + "*";
        }
        std::printf("pattern %s\n", pattern.c_str());

        QueryEngine engine(catalog, nullptr, QuerySettings{});
        Query query;
        query.level = QueryLevel::Study;
        query.keys = {{DCM_PatientName, EVR_PN, pattern}, {DCM_StudyInstanceUID, EVR_UI, ""},
                      {DCM_PatientID, EVR_LO, ""},        {DCM_StudyDate, EVR_DA, ""},
                      {DCM_StudyDescription, EVR_LO, ""}};
        // ModalitiesInStudy makes the engine fetch each study's series (from the catalog).
        if (modalities) query.keys.push_back({DCM_ModalitiesInStudy, EVR_CS, ""});
        query.limit = limit;
        std::vector<double> engineMs, scanMs;
        std::size_t matches = 0;
        for (int i = 0; i < iterations + 1; ++i) {
            const auto t0 = Clock::now();
            auto cursor = engine.find(query, RequestContext());
            std::size_t n = 0;
            while (cursor->next()) ++n;
            const auto t1 = Clock::now();
            const auto rows = catalog.scanStudies(query, collections);
            const auto t2 = Clock::now();
            if (i == 0) {  // warm-up
                matches = n;
                std::printf("scan_rows %zu rows\n", rows ? rows->size() : 0);
                continue;
            }
            engineMs.push_back(ms(t1 - t0));
            scanMs.push_back(ms(t2 - t1));
        }
        std::printf("find_matches %zu studies\n", matches);
        std::printf("find_p50 %.2f ms\n", percentile(engineMs, 0.5));
        std::printf("find_p95 %.2f ms\n", percentile(engineMs, 0.95));
        std::printf("scan_p50 %.2f ms\n", percentile(scanMs, 0.5));
        std::printf("scan_p95 %.2f ms\n", percentile(scanMs, 0.95));
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "bench_catalog_scan: " << e.what() << "\n";
        return 1;
    }
}
