#include "bridge/catalog/CatalogSync.h"

#include "bridge/catalog/ScanFilter.h"
#include "bridge/common/Error.h"

#include <algorithm>
#include <chrono>

namespace bridge {

SyncResult runSync(Catalog& catalog, tcia::TciaApi& tcia, const SyncOptions& options, const RequestContext& context) {
    const auto started = std::chrono::steady_clock::now();
    SyncResult result;
    SyncProgress progress;
    auto report = [&](const std::string& current) {
        progress.currentCollection = current;
        progress.elapsedSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        progress.seriesStored = result.series;
        progress.seriesPerSecond = progress.elapsedSeconds > 0 ? result.series / progress.elapsedSeconds : 0;
        if (options.progress) options.progress(progress);
    };

    std::vector<std::string> collections = options.collections;
    if (collections.empty()) {
        collections = tcia.collections(context);
        catalog.storeCollectionList(collections);
    }
    std::sort(collections.begin(), collections.end());
    collections.erase(std::unique(collections.begin(), collections.end()), collections.end());
    progress.collectionsTotal = collections.size();

    const std::string run = catalog.beginSyncRun(options.resume);
    const auto done = catalog.collectionsDoneInRun(run);
    report("");

    for (const auto& collection : collections) {
        if (done.count(asciiUpper(collection))) {
            ++result.collectionsSkipped;
            ++progress.collectionsDone;
            continue;
        }
        if (context.cancelled()) {
            result.cancelled = true;
            break;
        }
        report(collection);
        try {
            // One call per level for the whole collection (API.md: Collection is a filter of
            // getPatient, getPatientStudy and getSeries alike).
            const auto patients = tcia.patients(tcia::PatientFilter{collection, ""}, context);
            context.throwIfCancelled();
            const auto studies = tcia.studies(tcia::StudyFilter{collection, "", ""}, context);
            context.throwIfCancelled();
            tcia::SeriesFilter seriesFilter;
            seriesFilter.collection = collection;
            const auto series = tcia.series(seriesFilter, context);
            context.throwIfCancelled();
            catalog.storeCollectionHarvest(collection, patients, studies, series);
            catalog.markCollectionDone(run, collection, static_cast<std::int64_t>(series.size()));
            ++result.collectionsHarvested;
            result.patients += static_cast<std::int64_t>(patients.size());
            result.studies += static_cast<std::int64_t>(studies.size());
            result.series += static_cast<std::int64_t>(series.size());
        } catch (const BridgeError& e) {
            if (e.code() == ErrorCode::Cancelled || context.cancelled()) {
                result.cancelled = true;
                break;
            }
            if (e.code() == ErrorCode::Internal) throw;  // the database: nothing sensible to go on with
            result.failures.push_back({collection, e.what()});
        }
        ++progress.collectionsDone;
        report(collection);
    }

    if (!result.cancelled && result.failures.empty()) catalog.finishSyncRun(run);
    result.elapsedSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
}

}  // namespace bridge
