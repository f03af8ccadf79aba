// bench_retrieve_rss: figures of the retrieval engine alone (issue #5), against a running
// `tcia-emulator serve` on data made with `generate --large`:
//   * peak RSS of N concurrent COLD retrievals of the large series (one shared TCIA download,
//     single flight; goal < 150 MB), measured first so nothing else inflates the peak;
//   * time to the first instance of a cold retrieval, and to the last (fresh cache).
// Composition as in the bridge (makeBridgeServices). Consumers only touch the bytes, unless
// --consumer-delay-ms simulates a slow C-STORE peer (then instances are read back from disk).
//
//   bench_retrieve_rss --url http://127.0.0.1:PORT/nbia-api/services/v4 [--concurrency 4]
//                      [--consumer-delay-ms 0] [--collection Large-CT-Demo]
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bridge/common/Error.h"
#include "bridge/retrieve/BridgeServices.h"
#include "bridge/retrieve/Metrics.h"

using namespace bridge;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

long peakRssKb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

struct Result {
    std::size_t instances = 0, failed = 0;
    std::uint64_t bytes = 0;
    double firstMs = 0, lastMs = 0;
};

Result consume(RetrieveService& retrieve, const RetrievePlan& plan, int delayMs, Clock::time_point t0) {
    Result r;
    RequestContext context;
    auto stream = retrieve.open(plan, context);
    DicomInstance out;
    while (true) {
        const auto status = stream->next(out, std::chrono::seconds(1));
        if (status == InstanceStream::Status::End) break;
        if (status == InstanceStream::Status::Waiting) continue;
        if (r.instances == 0) r.firstMs = ms(Clock::now() - t0);
        ++r.instances;
        r.bytes += out.bytes->size();
        volatile std::uint8_t sink = (*out.bytes)[out.bytes->size() / 2];
        (void)sink;
        out.bytes.reset();
        if (delayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
    }
    r.lastMs = ms(Clock::now() - t0);
    r.failed = stream->failedCount();
    return r;
}

Config configFor(const std::string& url, const std::string& cacheDir) {
    Config config;
    config.tcia.baseUrl = url;
    config.tcia.apiVersion = url.find("/v1") != std::string::npos ? "v1" : "v4";
    config.cache.directory = cacheDir;
    return config;
}

}  // namespace

int main(int argc, char** argv) {
    std::string url, collection = "Large-CT-Demo";
    int concurrency = 4, delayMs = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--url")
            url = argv[i + 1];
        else if (flag == "--concurrency")
            concurrency = std::atoi(argv[i + 1]);
        else if (flag == "--consumer-delay-ms")
            delayMs = std::atoi(argv[i + 1]);
        else if (flag == "--collection")
            collection = argv[i + 1];
        else {
            std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
            return 2;
        }
    }
    if (url.empty()) {
        std::fprintf(stderr,
                     "usage: bench_retrieve_rss --url URL [--concurrency N] [--consumer-delay-ms MS]\n");
        return 2;
    }
    char tmpl[] = "/tmp/bench-retrieve-XXXXXX";
    if (!mkdtemp(tmpl)) return 1;
    const std::string work = tmpl;
    int rc = 0;
    try {
        // 1. N concurrent cold retrievals (peak RSS).
        {
            auto services = makeBridgeServices(configFor(url, work + "/a"));
            tcia::SeriesFilter filter;
            filter.collection = collection;
            auto series = services->metadata->series(filter, RequestContext());
            if (series.empty()) throw std::runtime_error("no series in collection " + collection);
            const auto biggest =
                *std::max_element(series.begin(), series.end(), [](const auto& a, const auto& b) {
                    return a.imageCount.value_or(0) < b.imageCount.value_or(0);
                });
            RetrieveRequest request;
            request.level = QueryLevel::Series;
            request.seriesInstanceUids = {biggest.seriesInstanceUid};
            RequestContext context;
            const auto plan = services->retrieve->plan(request, context);
            const long rssBefore = peakRssKb();
            std::vector<Result> results(static_cast<std::size_t>(concurrency));
            std::vector<std::thread> threads;
            const auto t0 = Clock::now();
            for (int i = 0; i < concurrency; ++i)
                threads.emplace_back(
                    [&, i] { results[i] = consume(*services->retrieve, plan, delayMs, t0); });
            for (auto& t : threads) t.join();
            const double wall = ms(Clock::now() - t0);
            std::uint64_t bytes = 0;
            for (const auto& r : results) {
                bytes += r.bytes;
                if (r.instances != plan.instanceCount || r.failed != 0) rc = 1;
            }
            const auto m = collectMetrics(*services);
            std::printf("series %s: %zu instances, %.1f MB\n", biggest.seriesInstanceUid.c_str(),
                        plan.instanceCount, plan.totalBytes / 1e6);
            std::printf(
                "concurrent_cold_retrievals=%d consumer_delay_ms=%d wall_ms=%.0f delivered_MB=%.1f "
                "downloads_started=%llu cache_hits=%llu\n",
                concurrency, delayMs, wall, bytes / 1e6, (unsigned long long)m.downloadsStarted,
                (unsigned long long)m.cacheHits);
            for (std::size_t i = 0; i < results.size(); ++i)
                std::printf("  consumer %zu: %zu instances (failed %zu), first %.0f ms, last %.0f ms\n", i,
                            results[i].instances, results[i].failed, results[i].firstMs, results[i].lastMs);
            std::printf("peak_rss_before_retrieval_MB=%.1f\npeak_rss_MB=%.1f (goal < 150)\n",
                        rssBefore / 1024.0, peakRssKb() / 1024.0);

            // 2. Time to first instance, cold, one caller (fresh cache, same process).
            auto fresh = makeBridgeServices(configFor(url, work + "/b"));
            const auto t1 = Clock::now();
            const auto plan1 = fresh->retrieve->plan(request, context);
            const double planMs = ms(Clock::now() - t1);
            const auto one = consume(*fresh->retrieve, plan1, 0, t1);
            std::printf(
                "cold single retrieval: plan %.0f ms, first instance %.0f ms, all %zu in %.0f ms (%.1f "
                "MB/s)\n",
                planMs, one.firstMs, one.instances, one.lastMs, one.bytes / 1e6 / (one.lastMs / 1000.0));
            const auto t2 = Clock::now();
            const auto warm = consume(*fresh->retrieve, plan1, 0, t2);
            std::printf("warm single retrieval: first instance %.1f ms, all %zu in %.0f ms (%.1f MB/s)\n",
                        warm.firstMs, warm.instances, warm.lastMs, warm.bytes / 1e6 / (warm.lastMs / 1000.0));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_retrieve_rss: %s\n", e.what());
        rc = 1;
    }
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
    return rc;
}
