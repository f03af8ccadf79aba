#include "bridge/catalog/CatalogHarvester.h"

#include "bridge/common/Error.h"
#include "bridge/common/MetricsRegistry.h"
#include "bridge/catalog/ScanFilter.h"

#include <algorithm>
#include <map>
#include <set>

namespace bridge {

CatalogHarvester::CatalogHarvester(Catalog& catalog, tcia::TciaApi& tcia, HarvestOptions options, Log log)
    : catalog_(catalog), tcia_(tcia), options_(options), log_(std::move(log)) {
    if (options_.batchSize == 0) options_.batchSize = 1;
    if (options_.recheckInterval.count() <= 0) {
        const auto quarter = std::chrono::seconds(std::max<std::int64_t>(catalog_.ttlSeconds() / 4, 0));
        options_.recheckInterval = std::clamp<std::chrono::milliseconds>(
            std::chrono::duration_cast<std::chrono::milliseconds>(quarter), std::chrono::minutes(1), std::chrono::hours(1));
    }
    status_.startedAt = catalog_.nowSeconds();
    // From now on a broad scan answers from what is harvested and says how complete it is.
    catalog_.setPartialScans(true);
    thread_ = std::thread([this] { run(); });
}

CatalogHarvester::~CatalogHarvester() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    context_.cancel();
    wake_.notify_all();
    thread_.join();
}

HarvestStatus CatalogHarvester::status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
}

void CatalogHarvester::setPhase(const std::string& phase, const std::string& current) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_.phase = phase;
    status_.current = current;
    metrics().set("tcia_bridge_harvest_running", {}, phase == "complete" ? 0.0 : 1.0);
}

void CatalogHarvester::noteFailure(const std::string& what, const std::exception& e) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++status_.failures;
        status_.lastError = what + ": " + e.what();
    }
    if (log_) log_("catalog harvest: " + what + " failed: " + e.what());
}

bool CatalogHarvester::waitFor(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void CatalogHarvester::run() {
    try {
        catalog_.discardStaging("");  // rows a harvest killed midway left behind
    } catch (const std::exception& e) {
        noteFailure("clearing staged rows", e);
    }
    for (;;) {
        bool complete = false;
        try {
            complete = pass();
        } catch (const BridgeError& e) {
            if (e.code() == ErrorCode::Cancelled || context_.cancelled()) return;
            noteFailure("collection list", e);
        } catch (const std::exception& e) {
            if (context_.cancelled()) return;
            noteFailure("harvest pass", e);
        }
        setPhase(complete ? "complete" : "retrying");
        if (!waitFor(complete ? options_.recheckInterval : options_.retryDelay)) return;
    }
}

bool CatalogHarvester::pass() {
    setPhase("collections");
    std::vector<std::string> names = tcia_.collections(context_);
    catalog_.storeCollectionList(names);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());

    std::map<std::string, CollectionHarvestState> states;
    for (auto& s : catalog_.harvestStates()) states[asciiUpper(s.name)] = std::move(s);
    std::size_t studyDone = 0, seriesDone = 0;
    std::vector<std::string> needStudies, needSeries;
    for (const auto& n : names) {
        const auto it = states.find(asciiUpper(n));
        const bool studyFresh = it != states.end() && it->second.studyLevelFresh;
        const bool seriesFresh = it != states.end() && it->second.seriesLevelFresh;
        if (studyFresh) ++studyDone; else needStudies.push_back(n);
        if (seriesFresh) ++seriesDone; else needSeries.push_back(n);
    }
    // onComplete: once per pass that completes, when it harvested something or is this
    // process's first complete pass (a restart on a complete catalog); not on the rechecks that
    // find nothing to do (each would hand the heap back only for it to be faulted in again).
    bool hookDue = !completedOnce_ || !needStudies.empty() || !needSeries.empty();
    auto publish = [&] {
        if (seriesDone == names.size() && hookDue) {
            hookDue = false;
            completedOnce_ = true;
            if (options_.onComplete) {
                try {
                    options_.onComplete();
                } catch (const std::exception& e) {
                    if (log_) log_(std::string("catalog harvest: after the harvest: ") + e.what());
                } catch (...) {
                    if (log_) log_("catalog harvest: after the harvest: unknown exception");
                }
            }
        }
        std::lock_guard<std::mutex> lock(mutex_);
        status_.collections = names.size();
        status_.studyLevelDone = studyDone;
        status_.seriesLevelDone = seriesDone;
        status_.studyLevelComplete = studyDone == names.size();
        status_.complete = seriesDone == names.size();
        const auto now = catalog_.nowSeconds();
        if (status_.studyLevelComplete && status_.studyLevelCompleteAt == 0) status_.studyLevelCompleteAt = now;
        if (status_.complete && status_.completeAt == 0) status_.completeAt = now;
        // The gauges docs/observability.md promises for the harvest.
        metrics().set("tcia_bridge_harvest_collections", {}, static_cast<double>(names.size()));
        metrics().set("tcia_bridge_harvest_collections_done", {}, static_cast<double>(seriesDone));
    };
    publish();
    if (!needStudies.empty() && log_)
        log_("catalog harvest: " + std::to_string(needStudies.size()) + " of " + std::to_string(names.size()) +
             " collections to harvest at study level, " + std::to_string(needSeries.size()) + " at series level");

    bool allOk = true;
    std::set<std::string> studyLevelFailed;  // their series level waits: a complete collection needs both
    for (const auto& n : needStudies) {
        context_.throwIfCancelled();
        setPhase("study level", n);
        try {
            harvestStudyLevel(n);
            ++studyDone;
            publish();
        } catch (const BridgeError& e) {
            if (e.code() == ErrorCode::Cancelled || context_.cancelled()) throw;
            allOk = false;
            studyLevelFailed.insert(n);
            noteFailure(n + " (study level)", e);
            try { catalog_.recordHarvestError(n, e.what()); } catch (const std::exception&) {}
        }
    }
    for (const auto& n : needSeries) {
        context_.throwIfCancelled();
        if (studyLevelFailed.count(n)) continue;
        setPhase("series level", n);
        try {
            harvestSeriesLevel(n);
            ++seriesDone;
            publish();
        } catch (const BridgeError& e) {
            if (e.code() == ErrorCode::Cancelled || context_.cancelled()) throw;
            allOk = false;
            noteFailure(n + " (series level)", e);
            try { catalog_.recordHarvestError(n, e.what()); } catch (const std::exception&) {}
        }
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++status_.passes;
    }
    if (log_ && allOk && !needSeries.empty())
        log_("catalog harvest complete: " + std::to_string(names.size()) + " collections");
    return allOk && seriesDone == names.size();
}

void CatalogHarvester::harvestStudyLevel(const std::string& collection) {
    const std::string id = catalog_.beginStaging();
    try {
        tcia_.patientBatches(
            tcia::PatientFilter{collection, ""}, options_.batchSize,
            [&](std::vector<tcia::PatientRecord>&& rows) {
                for (auto& r : rows)
                    if (r.collection.empty()) r.collection = collection;
                catalog_.stagePatients(id, rows);
            },
            context_);
        tcia_.studyBatches(
            tcia::StudyFilter{collection, "", ""}, options_.batchSize,
            [&](std::vector<tcia::StudyRecord>&& rows) {
                for (auto& r : rows)
                    if (r.collection.empty()) r.collection = collection;
                catalog_.stageStudies(id, rows);
            },
            context_);
        context_.throwIfCancelled();
        catalog_.commitStudyLevel(id, collection);
    } catch (...) {
        try {
            catalog_.discardStaging(id);
        } catch (const std::exception&) {
        }
        throw;
    }
}

void CatalogHarvester::harvestSeriesLevel(const std::string& collection) {
    const std::string id = catalog_.beginStaging();
    try {
        tcia::SeriesFilter filter;
        filter.collection = collection;
        tcia_.seriesBatches(
            filter, options_.batchSize,
            [&](std::vector<tcia::SeriesRecord>&& rows) {
                for (auto& r : rows)
                    if (r.collection.empty()) r.collection = collection;
                catalog_.stageSeries(id, rows);
            },
            context_);
        context_.throwIfCancelled();
        catalog_.commitSeriesLevel(id, collection);
    } catch (...) {
        try {
            catalog_.discardStaging(id);
        } catch (const std::exception&) {
        }
        throw;
    }
}

}  // namespace bridge
