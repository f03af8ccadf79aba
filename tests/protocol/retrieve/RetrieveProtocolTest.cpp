// The retrieval engine as the bridge composes it (makeBridgeServices: TciaClient -> Catalog ->
// RetrieveEngine + InstanceCache -> AccessPolicy) against the real TCIA emulator, a child
// process on 127.0.0.1. The emulator's /emulator/stats counters prove how many getImage
// downloads really left; its faults (slow, truncate) exercise streaming and retries.
#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "bridge/common/Error.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/Metrics.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/RetrieveRequests.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// getImage requests the emulator has answered since start (or the last reset).
int getImageCount(const EmulatorProcess& emulator) { return endpointCount(emulator, "getImage"); }

Config configFor(const EmulatorProcess& emulator, const TempDir& cacheDir) {
    Config config;
    config.tcia.baseUrl = emulator.baseUrl("v4");
    config.tcia.apiVersion = "v4";
    config.tcia.retryBaseDelay = 20ms;
    config.tcia.retryMaxDelay = 100ms;
    config.tcia.maxRetries = 2;
    config.tcia.readTimeout = 10s;
    config.cache.directory = cacheDir.path();
    return config;
}

/// The public series with the most instances (so that streaming is visible).
tcia::SeriesRecord biggestSeries(BridgeServices& services, const std::string& collection = "TCGA-DEMO-CT") {
    tcia::SeriesFilter filter;
    filter.collection = collection;
    auto all = services.metadata->series(filter, RequestContext());
    BOOST_REQUIRE(!all.empty());
    return *std::max_element(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return a.imageCount.value_or(0) < b.imageCount.value_or(0);
    });
}

struct Received {
    std::vector<DicomInstance> instances;
    std::vector<Clock::time_point> times;
    Clock::time_point end;
    std::size_t failedCount = 0;
    std::vector<std::string> failed;
    std::string reason;
};

Received drain(InstanceStream& stream) {
    Received r;
    DicomInstance out;
    const auto deadline = Clock::now() + 60s;
    while (Clock::now() < deadline) {
        const auto status = stream.next(out, 500ms);
        if (status == InstanceStream::Status::End) break;
        if (status == InstanceStream::Status::Instance) {
            r.instances.push_back(out);
            r.times.push_back(Clock::now());
        }
    }
    r.end = Clock::now();
    r.failedCount = stream.failedCount();
    r.failed = stream.failedSopInstanceUids();
    r.reason = stream.failureReason();
    return r;
}

std::set<std::string> uids(const Received& r) {
    std::set<std::string> out;
    for (const auto& i : r.instances) out.insert(i.sopInstanceUid);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(RetrieveProtocol)

BOOST_AUTO_TEST_CASE(cold_series_streams_before_the_download_ends_then_warm_needs_no_tcia) {
    // The slow fault spreads 1.5 s between the ZIP entries of the first getImage.
    EmulatorProcess emulator({"--quiet", "--fault", "getImage:slow:1:delay-ms=1500"});
    TempDir cacheDir;
    auto services = makeBridgeServices(configFor(emulator, cacheDir));
    const auto series = biggestSeries(*services);
    BOOST_REQUIRE(series.imageCount.value_or(0) >= 3);
    const auto expected = services->metadata->sopInstanceUids(series.seriesInstanceUid, RequestContext());

    RequestContext context;
    const auto plan = services->retrieve->plan(seriesRequest(series.seriesInstanceUid), context);
    BOOST_TEST(plan.instanceCount == static_cast<std::size_t>(*series.imageCount));
    const auto t0 = Clock::now();
    const auto cold = drain(*services->retrieve->open(plan, context));
    BOOST_TEST(cold.failedCount == 0u);
    BOOST_TEST(uids(cold) == std::set<std::string>(expected.begin(), expected.end()));
    const auto first = std::chrono::duration_cast<std::chrono::milliseconds>(cold.times.front() - t0);
    const auto total = std::chrono::duration_cast<std::chrono::milliseconds>(cold.end - t0);
    BOOST_TEST_MESSAGE("cold: first instance after " << first.count() << " ms, all " << cold.instances.size()
                                                     << " after " << total.count() << " ms");
    // Streamed: the first instance left long before the download ended.
    BOOST_TEST(first.count() * 2 < total.count());
    BOOST_TEST(total.count() >= 1000);
    BOOST_TEST(getImageCount(emulator) == 1);
    // What arrived is the DICOM TCIA sent: Part-10 with the UIDs it claims.
    for (const auto& instance : cold.instances) {
        BOOST_TEST(instance.bytes->size() > 132u);
        BOOST_TEST(std::string(instance.bytes->begin() + 128, instance.bytes->begin() + 132) == "DICM");
        BOOST_TEST(instance.seriesInstanceUid == series.seriesInstanceUid);
        BOOST_TEST(instance.studyInstanceUid == series.studyInstanceUid);
        BOOST_TEST(!instance.sopClassUid.empty());
        BOOST_TEST(!instance.transferSyntaxUid.empty());
    }

    // Warm: served from the cache, no getImage, same bytes.
    const auto t1 = Clock::now();
    const auto warm = drain(*services->retrieve->open(plan, context));
    BOOST_TEST(uids(warm) == uids(cold));
    BOOST_TEST(getImageCount(emulator) == 1);
    BOOST_TEST_MESSAGE("warm: all after "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(warm.end - t1).count()
                       << " ms");
    for (const auto& w : warm.instances) {
        auto same = std::find_if(cold.instances.begin(), cold.instances.end(), [&](const DicomInstance& c) {
            return c.sopInstanceUid == w.sopInstanceUid;
        });
        BOOST_REQUIRE(same != cold.instances.end());
        BOOST_TEST((*same->bytes == *w.bytes));
    }

    // IMAGE-level C-FIND attributes come from the cache's sidecar now.
    auto attributes = services->instanceCache->instanceAttributes(series.seriesInstanceUid);
    BOOST_REQUIRE(attributes);
    BOOST_TEST(attributes->size() == expected.size());
    // ... and reach an IMAGE-level C-FIND / QIDO through the query engine, with no new getImage.
    Query query;
    query.level = QueryLevel::Image;
    query.keys = {{DCM_StudyInstanceUID, EVR_UI, series.studyInstanceUid},
                  {DCM_SeriesInstanceUID, EVR_UI, series.seriesInstanceUid},
                  {DCM_SOPInstanceUID, EVR_UI, ""},
                  {DCM_InstanceNumber, EVR_IS, ""},
                  {DCM_Rows, EVR_US, ""},
                  {DCM_SOPClassUID, EVR_UI, ""}};
    auto cursor = services->query->find(query, context);
    std::size_t found = 0;
    while (auto record = cursor->next()) {
        ++found;
        BOOST_TEST(!record->get(DCM_InstanceNumber).empty());
        BOOST_TEST(!record->get(DCM_Rows).empty());
        BOOST_TEST(!record->get(DCM_SOPClassUID).empty());
    }
    BOOST_TEST(found == expected.size());
    BOOST_TEST(getImageCount(emulator) == 1);

    const auto metrics = collectMetrics(*services);
    BOOST_TEST(metrics.downloadsStarted == 1u);
    BOOST_TEST(metrics.cacheHits >= expected.size());
}

BOOST_AUTO_TEST_CASE(the_cache_survives_a_restart) {
    EmulatorProcess emulator({"--quiet"});
    TempDir cacheDir;
    std::string seriesUid;
    std::size_t count = 0;
    {
        auto services = makeBridgeServices(configFor(emulator, cacheDir));
        const auto series = biggestSeries(*services);
        seriesUid = series.seriesInstanceUid;
        RequestContext context;
        count = drain(*services->retrieve->open(services->retrieve->plan(seriesRequest(seriesUid), context),
                                                context))
                    .instances.size();
    }
    BOOST_TEST(getImageCount(emulator) == 1);
    auto services = makeBridgeServices(configFor(emulator, cacheDir));
    RequestContext context;
    const auto again =
        drain(*services->retrieve->open(services->retrieve->plan(seriesRequest(seriesUid), context), context));
    BOOST_TEST(again.instances.size() == count);
    BOOST_TEST(again.failedCount == 0u);
    BOOST_TEST(getImageCount(emulator) == 1);
}

BOOST_AUTO_TEST_CASE(four_concurrent_opens_share_one_get_image) {
    EmulatorProcess emulator({"--quiet", "--fault", "getImage:slow:1:delay-ms=1000"});
    TempDir cacheDir;
    auto services = makeBridgeServices(configFor(emulator, cacheDir));
    const auto series = biggestSeries(*services);
    RequestContext context;
    const auto plan = services->retrieve->plan(seriesRequest(series.seriesInstanceUid), context);
    std::vector<Received> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100 * i));  // staggered: late joiners too
            results[i] = drain(*services->retrieve->open(plan, context));
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(getImageCount(emulator) == 1);
    for (const auto& r : results) {
        BOOST_TEST(r.instances.size() == static_cast<std::size_t>(*series.imageCount));
        BOOST_TEST(r.failedCount == 0u);
    }
    BOOST_TEST(collectMetrics(*services).downloadsJoined == 3u);
}

BOOST_AUTO_TEST_CASE(a_truncated_zip_is_retried_and_completes) {
    EmulatorProcess emulator({"--quiet", "--fault", "getImage:truncate:1"});
    TempDir cacheDir;
    auto services = makeBridgeServices(configFor(emulator, cacheDir));
    const auto series = biggestSeries(*services);
    RequestContext context;
    const auto r = drain(*services->retrieve->open(
        services->retrieve->plan(seriesRequest(series.seriesInstanceUid), context), context));
    BOOST_TEST(r.failedCount == 0u);
    BOOST_TEST(r.instances.size() == static_cast<std::size_t>(*series.imageCount));
    BOOST_TEST(uids(r).size() == r.instances.size());  // no duplicates across the retry
    BOOST_TEST(getImageCount(emulator) == 2);
    BOOST_TEST(services->instanceCache->isComplete(series.seriesInstanceUid));
}

BOOST_AUTO_TEST_CASE(a_download_that_keeps_failing_reports_every_missing_instance) {
    EmulatorProcess emulator({"--quiet", "--fault", "getImage:truncate:10"});
    TempDir cacheDir;
    auto services = makeBridgeServices(configFor(emulator, cacheDir));
    const auto series = biggestSeries(*services);
    const auto expected = services->metadata->sopInstanceUids(series.seriesInstanceUid, RequestContext());
    RequestContext context;
    const auto plan = services->retrieve->plan(seriesRequest(series.seriesInstanceUid), context);
    const auto r = drain(*services->retrieve->open(plan, context));
    BOOST_TEST(r.instances.size() < expected.size());
    BOOST_TEST(r.failedCount == expected.size() - r.instances.size());
    BOOST_TEST(r.failed.size() == r.failedCount);
    BOOST_TEST(!r.reason.empty());
    BOOST_TEST_MESSAGE("failure reason: " << r.reason);
    std::set<std::string> all(r.failed.begin(), r.failed.end());
    for (const auto& uid : uids(r)) all.insert(uid);
    BOOST_TEST(all == std::set<std::string>(expected.begin(), expected.end()));
    BOOST_TEST(!services->instanceCache->isComplete(series.seriesInstanceUid));
}

BOOST_AUTO_TEST_CASE(a_restricted_series_needs_a_grant) {
    EmulatorProcess emulator({"--quiet"});
    TempDir cacheDir;
    Config config = configFor(emulator, cacheDir);
    config.tcia.tokenUrl = "http://127.0.0.1:" + std::to_string(emulator.port()) + "/nbia-api/oauth/token";
    config.tcia.username = "emulator-user";
    config.tcia.password = "emulator-password";
    config.access.grantsByAet["Restricted-Demo"] = {"GRANTED"};
    config.access.grantsByToken["Restricted-Demo"] = {"secret-token"};
    auto services = makeBridgeServices(config);
    const auto series = biggestSeries(*services, "Restricted-Demo");

    RequestContext context;
    const auto denied = services->access->forDimse("STRANGER", config.dimse.aeTitle);
    BOOST_CHECK_EXCEPTION(services->retrieve->plan(seriesRequest(series.seriesInstanceUid, denied), context),
                          BridgeError, [](const BridgeError& e) { return e.code() == ErrorCode::NotFound; });
    auto study = studyRequest(series.studyInstanceUid, services->access->forHttp(std::nullopt));
    BOOST_CHECK_EXCEPTION(services->retrieve->plan(study, context), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::NotFound; });
    BOOST_TEST(getImageCount(emulator) == 0);

    const auto granted = services->access->forDimse("GRANTED", config.dimse.aeTitle);
    const auto plan = services->retrieve->plan(seriesRequest(series.seriesInstanceUid, granted), context);
    const auto r = drain(*services->retrieve->open(plan, context));
    BOOST_TEST(r.failedCount == 0u);
    BOOST_TEST(r.instances.size() == static_cast<std::size_t>(series.imageCount.value_or(0)));
    study.scope = services->access->forHttp(std::string("secret-token"));
    BOOST_TEST(services->retrieve->plan(study, context).instanceCount >= r.instances.size());
}

BOOST_AUTO_TEST_CASE(without_credentials_a_restricted_series_does_not_exist) {
    EmulatorProcess emulator({"--quiet"});
    TempDir cacheDir;
    // Learn a restricted series UID with a token, then ask a bridge that has none.
    Config withToken = configFor(emulator, cacheDir);
    withToken.tcia.tokenUrl = "http://127.0.0.1:" + std::to_string(emulator.port()) + "/nbia-api/oauth/token";
    withToken.tcia.username = "emulator-user";
    withToken.tcia.password = "emulator-password";
    TempDir otherCache;
    Config anonymous = configFor(emulator, otherCache);
    std::string uid;
    {
        auto services = makeBridgeServices(withToken);
        uid = biggestSeries(*services, "Restricted-Demo").seriesInstanceUid;
    }
    auto services = makeBridgeServices(anonymous);
    RequestContext context;
    BOOST_CHECK_EXCEPTION(services->retrieve->plan(seriesRequest(uid), context), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::NotFound; });
}

BOOST_AUTO_TEST_CASE(cancel_mid_download_stops_the_get_image) {
    EmulatorProcess emulator({"--quiet", "--fault", "getImage:slow:1:delay-ms=4000"});
    TempDir cacheDir;
    auto services = makeBridgeServices(configFor(emulator, cacheDir));
    const auto series = biggestSeries(*services);
    RequestContext context;
    const auto plan = services->retrieve->plan(seriesRequest(series.seriesInstanceUid), context);
    auto stream = services->retrieve->open(plan, context);
    DicomInstance out;
    const auto t0 = Clock::now();
    while (stream->next(out, 500ms) != InstanceStream::Status::Instance)
        BOOST_REQUIRE(Clock::now() - t0 < 10s);
    stream->cancel();
    BOOST_CHECK_EXCEPTION(stream->next(out, 1s), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::Cancelled; });
    stream.reset();
    // The only caller left: the download stops long before the slow ZIP would have ended.
    const auto t1 = Clock::now();
    while (collectMetrics(*services).downloadsActive > 0 && Clock::now() - t1 < 10s)
        std::this_thread::sleep_for(10ms);
    const auto stopMs = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t1).count();
    BOOST_TEST_MESSAGE("download stopped " << stopMs << " ms after context");
    BOOST_TEST(stopMs < 2500);
    BOOST_TEST(collectMetrics(*services).downloadsCancelled == 1u);
    BOOST_TEST(!services->instanceCache->isComplete(series.seriesInstanceUid));
    // A later caller gets the whole series (a fresh download; the fault is used up).
    const auto r = drain(*services->retrieve->open(plan, context));
    BOOST_TEST(r.failedCount == 0u);
    BOOST_TEST(r.instances.size() == static_cast<std::size_t>(*series.imageCount));
}

BOOST_AUTO_TEST_CASE(image_level_retrieve_of_two_instances) {
    EmulatorProcess emulator({"--quiet"});
    TempDir cacheDir;
    auto services = makeBridgeServices(configFor(emulator, cacheDir));
    const auto series = biggestSeries(*services);
    const auto all = services->metadata->sopInstanceUids(series.seriesInstanceUid, RequestContext());
    RetrieveRequest request;
    request.level = QueryLevel::Image;
    request.studyInstanceUids = {series.studyInstanceUid};
    request.seriesInstanceUids = {series.seriesInstanceUid};
    request.sopInstanceUids = {all[1], all[0]};
    RequestContext context;
    const auto plan = services->retrieve->plan(request, context);
    BOOST_TEST(plan.instanceCount == 2u);
    const auto r = drain(*services->retrieve->open(plan, context));
    BOOST_TEST(uids(r) == std::set<std::string>({all[0], all[1]}));
    BOOST_TEST(r.failedCount == 0u);
    // The whole series was downloaded (getImage is per series) and is now cached complete.
    BOOST_TEST(services->instanceCache->isComplete(series.seriesInstanceUid));
}

BOOST_AUTO_TEST_SUITE_END()
