#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <set>
#include <future>
#include <thread>

#include "bridge/common/Error.h"
#include "bridge/retrieve/InstanceCache.h"
#include "bridge/retrieve/Metrics.h"
#include "bridge/retrieve/RetrieveEngine.h"
#include "tests/support/RetrieveRequests.h"
#include "tests/support/TestSupport.h"
#include "tests/unit/retrieve/RetrieveTestDoubles.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

/// Everything a test needs: fake TCIA, fake metadata, a real cache in a temp dir, the engine.
struct Rig {
    explicit Rig(int maxDownloads = 3, std::uint64_t maxBytes = 1ull << 30)
        : metadata(tcia), cache(settings(maxBytes)), engine(metadata, tcia, cache, maxDownloads) {}
    CacheSettings settings(std::uint64_t maxBytes) {
        CacheSettings s;
        s.directory = dir.path();
        s.maxBytes = maxBytes;
        return s;
    }
    TempDir dir;
    FakeTcia tcia;
    FakeMetadata metadata;
    InstanceCache cache;
    RetrieveEngine engine;
};

struct Drained {
    std::vector<DicomInstance> instances;
    std::vector<std::string> failed;
    std::size_t failedCount = 0;
    std::string reason;
    int waitings = 0;
};

Drained drain(InstanceStream& stream, std::chrono::milliseconds wait = 200ms) {
    Drained d;
    DicomInstance out;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto status = stream.next(out, wait);
        if (status == InstanceStream::Status::End) break;
        if (status == InstanceStream::Status::Waiting) {
            d.waitings++;
            continue;
        }
        d.instances.push_back(out);
    }
    d.failed = stream.failedSopInstanceUids();
    d.failedCount = stream.failedCount();
    d.reason = stream.failureReason();
    return d;
}

std::vector<std::string> uidsOf(const Drained& d) {
    std::vector<std::string> out;
    for (const auto& i : d.instances) out.push_back(i.sopInstanceUid);
    return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(RetrieveEngineTests)

BOOST_AUTO_TEST_CASE(plan_resolves_each_level_and_counts_instances) {
    Rig rig;
    auto a = makeSeries("100", 3), b = makeSeries("101", 2);
    b.record.studyInstanceUid = a.record.studyInstanceUid;  // same study
    b.record.patientId = a.record.patientId;
    rig.tcia.add(a);
    rig.tcia.add(b);
    RequestContext context;

    const auto study = studyRequest(a.record.studyInstanceUid);
    auto plan = rig.engine.plan(study, context);
    BOOST_TEST(plan.series.size() == 2u);
    BOOST_TEST(plan.instanceCount == 5u);
    BOOST_TEST(plan.totalBytes == *a.record.fileSize + *b.record.fileSize);

    RetrieveRequest patient;
    patient.level = QueryLevel::Patient;
    patient.patientIds = {a.record.patientId};
    BOOST_TEST(rig.engine.plan(patient, context).instanceCount == 5u);

    auto series = rig.engine.plan(seriesRequest(b.record.seriesInstanceUid), context);
    BOOST_TEST(series.series.size() == 1u);
    BOOST_TEST(series.series[0].imageCount == 2);
    BOOST_TEST(series.series[0].studyInstanceUid == a.record.studyInstanceUid);

    const auto image = imageRequest(a.record.seriesInstanceUid, {a.sopUids[2], a.sopUids[0]});
    auto imagePlan = rig.engine.plan(image, context);
    BOOST_TEST(imagePlan.instanceCount == 2u);
    BOOST_REQUIRE(imagePlan.series[0].sopInstanceUids);
    BOOST_TEST(imagePlan.series[0].sopInstanceUids->size() == 2u);
}

BOOST_AUTO_TEST_CASE(plan_rejects_bad_requests_and_unknown_uids) {
    Rig rig;
    auto a = makeSeries("110", 2);
    rig.tcia.add(a);
    RequestContext context;
    RetrieveRequest noUid;
    noUid.level = QueryLevel::Study;
    BOOST_CHECK_EXCEPTION(rig.engine.plan(noUid, context), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::InvalidArgument; });
    RetrieveRequest imageWithoutSeries;
    imageWithoutSeries.level = QueryLevel::Image;
    imageWithoutSeries.sopInstanceUids = {a.sopUids[0]};
    BOOST_CHECK_EXCEPTION(rig.engine.plan(imageWithoutSeries, context), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::InvalidArgument; });
    BOOST_CHECK_EXCEPTION(rig.engine.plan(seriesRequest("1.2.3.404"), context), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::NotFound; });
    // Inconsistent hierarchy (WADO-RS /studies/X/series/Y with the wrong X).
    auto wrongStudy = seriesRequest(a.record.seriesInstanceUid);
    wrongStudy.studyInstanceUids = {"1.2.3.999"};
    BOOST_CHECK_EXCEPTION(rig.engine.plan(wrongStudy, context), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::NotFound; });
    const auto unknownSop = imageRequest(a.record.seriesInstanceUid, {"1.2.3.4.5.404"});
    BOOST_CHECK_EXCEPTION(rig.engine.plan(unknownSop, context), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::NotFound; });
    BOOST_TEST(rig.tcia.downloadCalls == 0);
}

BOOST_AUTO_TEST_CASE(restricted_series_are_not_found_without_a_grant) {
    Rig rig;
    auto secret = makeSeries("120", 2, "Restricted-Demo");
    rig.tcia.add(secret);
    RequestContext context;
    auto request = seriesRequest(secret.record.seriesInstanceUid);
    request.scope.denied = {"restricted-demo"};  // case-insensitive, like TCIA
    BOOST_CHECK_EXCEPTION(rig.engine.plan(request, context), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::NotFound; });
    request.scope.denied.clear();
    request.scope.only = std::set<std::string>{"Some-Other"};
    BOOST_CHECK_EXCEPTION(rig.engine.plan(request, context), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::NotFound; });
    request.scope.only.reset();
    BOOST_TEST(rig.engine.plan(request, context).instanceCount == 2u);
}

BOOST_AUTO_TEST_CASE(cold_then_warm_from_cache) {
    Rig rig;
    auto s = makeSeries("130", 5);
    rig.tcia.add(s);
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);
    auto cold = drain(*rig.engine.open(plan, context));
    BOOST_TEST(sorted(uidsOf(cold)) == sorted(s.sopUids));
    BOOST_TEST(cold.failedCount == 0u);
    BOOST_TEST((*cold.instances[0].bytes == s.files[0]));
    BOOST_TEST(cold.instances[0].studyInstanceUid == s.record.studyInstanceUid);
    BOOST_TEST(cold.instances[0].transferSyntaxUid == "1.2.840.10008.1.2.1");
    BOOST_TEST(rig.cache.isComplete(s.record.seriesInstanceUid));
    BOOST_TEST(rig.tcia.downloadCalls == 1);

    auto warm = drain(*rig.engine.open(plan, context));
    BOOST_TEST(uidsOf(warm) == s.sopUids);  // from the cache, in InstanceNumber order
    BOOST_TEST(warm.instances[2].sopClassUid == "1.2.840.10008.5.1.4.1.1.2");
    BOOST_TEST(rig.tcia.downloadCalls == 1);  // no second download
    auto m = collectMetrics(&rig.engine.downloads(), &rig.cache);
    BOOST_TEST(m.cacheHits >= 5u);
    BOOST_TEST(m.downloadsStarted == 1u);
    BOOST_TEST(m.toPrometheusText().find("tcia_bridge_cache_hits_total ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(n_concurrent_callers_share_one_download) {
    Rig rig;
    auto s = makeSeries("140", 12);
    rig.tcia.add(s);
    rig.tcia.delayPerInstance = 15ms;
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);
    constexpr int kCallers = 8;
    std::vector<Drained> results(kCallers);
    std::vector<std::thread> threads;
    for (int i = 0; i < kCallers; ++i)
        threads.emplace_back([&, i] { results[i] = drain(*rig.engine.open(plan, context), 20ms); });
    for (auto& t : threads) t.join();
    BOOST_TEST(rig.tcia.downloadCalls == 1);
    for (const auto& r : results) {
        BOOST_TEST(sorted(uidsOf(r)) == sorted(s.sopUids));
        BOOST_TEST(r.failedCount == 0u);
    }
    BOOST_TEST(rig.engine.downloads().stats().joined == std::uint64_t(kCallers - 1));
}

BOOST_AUTO_TEST_CASE(late_joiner_gets_the_earlier_instances_then_the_live_ones) {
    Rig rig;
    auto s = makeSeries("150", 10);
    rig.tcia.add(s);
    rig.tcia.delayPerInstance = 30ms;
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);
    auto first = rig.engine.open(plan, context);
    DicomInstance out;
    int got = 0;
    while (got < 4) {
        if (first->next(out, 500ms) == InstanceStream::Status::Instance) ++got;
    }
    const auto hitsBefore = rig.cache.stats().hits;
    auto late = drain(*rig.engine.open(plan, context), 50ms);
    auto rest = drain(*first);
    BOOST_TEST(rig.tcia.downloadCalls == 1);
    BOOST_TEST(uidsOf(late) == s.sopUids);  // same order as published
    BOOST_TEST(rest.instances.size() == 6u);
    // The earlier ones came back from disk; the newest of the four may still have been on its way
    // to the cache (instances reach subscribers before the cache write): then from memory.
    BOOST_TEST(rig.cache.stats().hits - hitsBefore >= 3u);
    for (std::size_t i = 0; i < late.instances.size(); ++i)
        BOOST_TEST((*late.instances[i].bytes == s.files[i]));
}

BOOST_AUTO_TEST_CASE(waiting_is_reported_while_nothing_arrives) {
    Rig rig;
    auto s = makeSeries("160", 2);
    rig.tcia.add(s);
    rig.tcia.delayPerInstance = 1500ms;
    RequestContext context;
    auto stream = rig.engine.open(rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context), context);
    DicomInstance out;
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST((stream->next(out, 50ms) == InstanceStream::Status::Waiting));
    BOOST_TEST((stream->next(out, 50ms) == InstanceStream::Status::Waiting));
    // Returned after ~2 x 50 ms, long before the first instance (1.5 s) could arrive.
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1000ms));
    stream.reset();  // the only caller leaves: the download is cancelled
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (rig.tcia.cancelledDownloads == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    BOOST_TEST(rig.tcia.cancelledDownloads == 1);
}

BOOST_AUTO_TEST_CASE(a_failure_reaches_every_waiter_with_the_missing_uids) {
    Rig rig;
    auto s = makeSeries("170", 6);
    rig.tcia.add(s);
    rig.tcia.delayPerInstance = 20ms;
    rig.tcia.failAfter = 2;
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);
    std::vector<Drained> results(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i)
        threads.emplace_back([&, i] { results[i] = drain(*rig.engine.open(plan, context)); });
    for (auto& t : threads) t.join();
    BOOST_TEST(rig.tcia.downloadCalls == 1);
    const std::vector<std::string> missing(s.sopUids.begin() + 2, s.sopUids.end());
    for (const auto& r : results) {
        BOOST_TEST(r.instances.size() == 2u);
        BOOST_TEST(sorted(r.failed) == sorted(missing));
        BOOST_TEST(r.failedCount == 4u);
        BOOST_TEST(r.reason.find("truncated ZIP") != std::string::npos);
    }
    BOOST_TEST(!rig.cache.isComplete(s.record.seriesInstanceUid));
    BOOST_TEST(rig.engine.downloads().stats().failed == 1u);

    // The next caller starts a fresh download (failures are not cached) and succeeds.
    rig.tcia.failAfter = -1;
    auto again = drain(*rig.engine.open(plan, context));
    BOOST_TEST(again.instances.size() == 6u);
    BOOST_TEST(again.failedCount == 0u);
    BOOST_TEST(rig.tcia.downloadCalls == 2);
}

BOOST_AUTO_TEST_CASE(a_short_download_is_a_failure_never_a_silent_success) {
    Rig rig;
    auto s = makeSeries("180", 5);
    rig.tcia.add(s);
    rig.tcia.stopAfter = 3;  // TCIA's ZIP held 3 of the 5 instances, no error raised
    RequestContext context;
    auto d =
        drain(*rig.engine.open(rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context), context));
    BOOST_TEST(d.instances.size() == 3u);
    BOOST_TEST(sorted(d.failed) == sorted(std::vector<std::string>{s.sopUids[3], s.sopUids[4]}));
    BOOST_TEST(d.failedCount == 2u);
    BOOST_TEST(d.reason.find("3 of 5") != std::string::npos);
    BOOST_TEST(!rig.cache.isComplete(s.record.seriesInstanceUid));
}

BOOST_AUTO_TEST_CASE(a_stale_image_count_is_not_a_failure_when_every_listed_instance_arrived) {
    Rig rig;
    auto s = makeSeries("185", 4);
    s.record.imageCount = 5;  // TCIA's ImageCount says 5, getSOPInstanceUIDs and the ZIP hold 4
    rig.tcia.add(s);
    rig.tcia.throwOnShortfall = true;
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);
    BOOST_TEST(plan.instanceCount == 5u);
    auto d = drain(*rig.engine.open(plan, context));
    BOOST_TEST(d.instances.size() == 4u);
    BOOST_TEST(d.failedCount == 0u);
    BOOST_TEST(rig.cache.isComplete(s.record.seriesInstanceUid));
    drain(*rig.engine.open(plan, context));
    BOOST_TEST(rig.tcia.downloadCalls == 1);
}

BOOST_AUTO_TEST_CASE(cancel_stops_promptly_and_cancels_the_download_only_when_alone) {
    Rig rig;
    auto s = makeSeries("190", 50);
    rig.tcia.add(s);
    rig.tcia.delayPerInstance = 40ms;
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);

    auto a = rig.engine.open(plan, context);
    auto b = rig.engine.open(plan, context);
    DicomInstance out;
    while (a->next(out, 500ms) != InstanceStream::Status::Instance) {
    }
    a->cancel();
    BOOST_CHECK_EXCEPTION(a->next(out, 1s), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::Cancelled; });
    // b still needs the download: it goes on.
    int bGot = 0;
    while (bGot < 3)
        if (b->next(out, 500ms) == InstanceStream::Status::Instance) ++bGot;
    BOOST_TEST(rig.tcia.cancelledDownloads == 0);

    // The last waiter cancels from another thread while blocked in next(): prompt exit, and the
    // download is cancelled.
    std::thread canceller([&] {
        std::this_thread::sleep_for(20ms);
        b->cancel();
    });
    const auto t0 = std::chrono::steady_clock::now();
    bool threw = false;
    try {
        while (true) b->next(out, 5s);
    } catch (const BridgeError& e) {
        threw = e.code() == ErrorCode::Cancelled;
    }
    canceller.join();
    BOOST_TEST(threw);
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1500ms));  // not the 5 s wait (slice: 50 ms)
    a.reset();
    b.reset();
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (rig.tcia.cancelledDownloads == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(rig.tcia.cancelledDownloads == 1);
    BOOST_TEST(rig.engine.downloads().stats().cancelled == 1u);

    // The request's own RequestContext works as well.
    RequestContext mine;
    auto c = rig.engine.open(plan, mine);
    mine.cancel();
    BOOST_CHECK_THROW(c->next(out, 1s), BridgeError);
}

// Issue 11: the wait inside next() is a condition-variable wait on the request's stop token, not
// a slice loop: stopping the CALLER's context from another thread ends a 30 s wait at once, and
// so does the context's deadline.
BOOST_AUTO_TEST_CASE(stopping_the_callers_context_wakes_a_long_next_at_once) {
    Rig rig;
    auto s = makeSeries("175", 2);
    rig.tcia.add(s);
    rig.tcia.delayPerInstance = 20s;  // TCIA says nothing for a long time
    RequestContext mine;
    auto stream = rig.engine.open(rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), mine), mine);
    DicomInstance out;
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        mine.cancel();
    });
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_CHECK_EXCEPTION(stream->next(out, 30s), BridgeError,
                          [](const BridgeError& e) { return e.code() == ErrorCode::Cancelled; });
    canceller.join();
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1000ms));
    stream.reset();

    RequestContext timed;
    timed.setTimeout(300ms);
    auto second = rig.engine.open(rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), RequestContext()), timed);
    const auto t1 = std::chrono::steady_clock::now();
    BOOST_CHECK_THROW(second->next(out, 30s), BridgeError);
    BOOST_TEST((std::chrono::steady_clock::now() - t1 < 1500ms));
}

BOOST_AUTO_TEST_CASE(concurrent_downloads_are_bounded) {
    Rig rig(2);
    std::vector<FakeSeries> all;
    for (int i = 0; i < 5; ++i) {
        all.push_back(makeSeries(std::to_string(200 + i), 4));
        rig.tcia.add(all.back());
    }
    // Every download holds its slot until the gate opens: the gauges must show two running and
    // three waiting for a slot (no timing assumption about when the requests arrive).
    std::promise<void> open;
    rig.tcia.gate = open.get_future().share();
    RequestContext context;
    std::vector<Drained> results(all.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < all.size(); ++i)
        threads.emplace_back([&, i] {
            results[i] =
                drain(*rig.engine.open(
                          rig.engine.plan(seriesRequest(all[i].record.seriesInstanceUid), context), context),
                      20ms);
        });
    DownloadCoordinator::Stats seen{};
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        seen = rig.engine.downloads().stats();
        if (seen.active == 2 && seen.waiting == 3) break;
        std::this_thread::sleep_for(2ms);
    }
    BOOST_TEST(seen.active == 2u);
    BOOST_TEST(seen.waiting == 3u);
    BOOST_TEST(rig.tcia.maxConcurrent <= 2);
    open.set_value();
    for (auto& t : threads) t.join();
    BOOST_TEST(rig.tcia.maxConcurrent <= 2);
    BOOST_TEST(rig.tcia.downloadCalls == 5);
    const auto after = rig.engine.downloads().stats();
    BOOST_TEST(after.active == 0u);
    BOOST_TEST(after.waiting == 0u);
    for (const auto& r : results) BOOST_TEST(r.instances.size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_slow_consumer_reads_back_from_disk_instead_of_buffering) {
    Rig rig;
    auto s = makeSeries("210", 30);
    rig.tcia.add(s);
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);
    auto stream = rig.engine.open(plan, context);
    DicomInstance out;
    BOOST_REQUIRE(stream->next(out, 2s) == InstanceStream::Status::Instance);
    // Let the whole download finish while this consumer does not read.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!rig.cache.isComplete(s.record.seriesInstanceUid) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    const auto hitsBefore = rig.cache.stats().hits;
    auto rest = drain(*stream);
    BOOST_TEST(rest.instances.size() == 29u);
    // At most kMaxBufferedPerSubscriber were held in memory; the rest came from disk.
    BOOST_TEST(rig.cache.stats().hits - hitsBefore >= 29u - SeriesDownload::kMaxBufferedPerSubscriber);
    for (std::size_t i = 0; i < rest.instances.size(); ++i)
        BOOST_TEST((*rest.instances[i].bytes == s.files[i + 1]));
}

// Issue 12: a source that offers its buffers back (DownloadedInstance::recycle, IdcClient's pool)
// gets each one back, whole, once the subscribers and the cache writer are done with it -- and
// not before: the instances arrive intact.
BOOST_AUTO_TEST_CASE(each_buffer_goes_back_to_its_source_once_sent_and_cached) {
    Rig rig;
    auto s = makeSeries("215", 12);
    rig.tcia.add(s);
    rig.tcia.offerRecycle = true;
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);
    std::size_t total = 0;
    for (const auto& f : s.files) total += f.size();
    {
        auto cold = drain(*rig.engine.open(plan, context));
        BOOST_TEST(sorted(uidsOf(cold)) == sorted(s.sopUids));
        for (const auto& instance : cold.instances) {
            const auto i = static_cast<std::size_t>(
                std::find(s.sopUids.begin(), s.sopUids.end(), instance.sopInstanceUid) - s.sopUids.begin());
            BOOST_REQUIRE(i < s.files.size());
            BOOST_TEST((*instance.bytes == s.files[i]));
        }
    }  // the drained instances (the last references to the buffers) are gone
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (rig.tcia.recycled.load() < 12 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(rig.tcia.recycled.load() == 12);
    BOOST_TEST(rig.tcia.recycledBytes.load() == total);
}

BOOST_AUTO_TEST_CASE(image_level_is_served_from_cache_without_download) {
    Rig rig;
    auto s = makeSeries("220", 4);
    rig.tcia.add(s);
    RequestContext context;
    drain(*rig.engine.open(rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context), context));
    const auto image = imageRequest(s.record.seriesInstanceUid, {s.sopUids[1]});
    auto d = drain(*rig.engine.open(rig.engine.plan(image, context), context));
    BOOST_TEST(uidsOf(d) == std::vector<std::string>{s.sopUids[1]});
    BOOST_TEST(rig.tcia.downloadCalls == 1);
}

BOOST_AUTO_TEST_CASE(image_level_callers_join_the_series_download_and_get_only_their_instances) {
    Rig rig;
    auto s = makeSeries("225", 12);
    rig.tcia.add(s);
    rig.tcia.delayPerInstance = 15ms;
    RequestContext context;
    // OHIF's pattern: the series (metadata) and per-instance frame requests at the same time.
    auto whole = rig.engine.open(rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context), context);
    std::vector<Drained> single(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
        threads.emplace_back([&, i] {
            const auto image =
                imageRequest(s.record.seriesInstanceUid, {s.sopUids[static_cast<std::size_t>(4 * i + 3)]});
            single[i] = drain(*rig.engine.open(rig.engine.plan(image, context), context), 20ms);
        });
    }
    auto all = drain(*whole);
    for (auto& t : threads) t.join();
    BOOST_TEST(all.instances.size() == 12u);
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(uidsOf(single[i]) ==
                   std::vector<std::string>{s.sopUids[static_cast<std::size_t>(4 * i + 3)]});
        BOOST_TEST(single[i].failedCount == 0u);
    }
    BOOST_TEST(rig.tcia.downloadCalls == 1);
}

BOOST_AUTO_TEST_CASE(a_damaged_cached_file_is_fetched_again) {
    Rig rig;
    auto s = makeSeries("230", 3);
    rig.tcia.add(s);
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);
    drain(*rig.engine.open(plan, context));
    std::filesystem::resize_file(
        rig.cache.directory() + "/" + s.record.seriesInstanceUid + "/" + s.sopUids[1] + ".dcm", 10);
    auto d = drain(*rig.engine.open(plan, context));
    BOOST_TEST(sorted(uidsOf(d)) == sorted(s.sopUids));
    BOOST_TEST(d.failedCount == 0u);
    BOOST_TEST(rig.tcia.downloadCalls == 2);
    BOOST_TEST(rig.cache.isComplete(s.record.seriesInstanceUid));
}

BOOST_AUTO_TEST_CASE(a_series_uid_that_cannot_be_a_file_name_is_delivered_uncached) {
    Rig rig;
    auto s = makeSeries("250", 3);
    s.record.seriesInstanceUid = "1.2.3/../../escape";  // hostile upstream data
    rig.tcia.add(s);
    RequestContext context;
    auto plan = rig.engine.plan(seriesRequest(s.record.seriesInstanceUid), context);
    auto d = drain(*rig.engine.open(plan, context));
    BOOST_TEST(d.instances.size() == 3u);
    BOOST_TEST(d.failedCount == 0u);
    BOOST_TEST(rig.cache.stats().instances == 0u);
    BOOST_TEST(!std::filesystem::exists(rig.dir.path() + "/escape"));
}

BOOST_AUTO_TEST_CASE(multi_series_plan_streams_all_in_order) {
    Rig rig;
    auto a = makeSeries("240", 2), b = makeSeries("241", 3);
    b.record.studyInstanceUid = a.record.studyInstanceUid;
    rig.tcia.add(a);
    rig.tcia.add(b);
    RequestContext context;
    const auto study = studyRequest(a.record.studyInstanceUid);
    auto plan = rig.engine.plan(study, context);
    auto d = drain(*rig.engine.open(plan, context));
    BOOST_TEST(d.instances.size() == 5u);
    BOOST_TEST(d.instances.front().seriesInstanceUid == plan.series[0].seriesInstanceUid);
    BOOST_TEST(d.instances.back().seriesInstanceUid == plan.series[1].seriesInstanceUid);
}

BOOST_AUTO_TEST_SUITE_END()
