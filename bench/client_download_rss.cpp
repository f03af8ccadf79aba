// bench_client_download_rss: downloads one series through tcia::TciaClient (streamed getImage,
// instances discarded as they arrive) and prints the peak RSS of this process (getrusage
// ru_maxrss) and the throughput. Issue #2's figure: peak RSS < 64 MB for the 300-slice series.
//
//   bench_client_download_rss --tcia-url http://127.0.0.1:PORT/nbia-api/services/v4
//                             [--series UID] [--verify-md5] [--repeat N]
// Without --series, the series with the largest ImageCount (over every collection) is used.
// Output: one line of JSON on stdout; progress on stderr.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "bridge/common/Error.h"
#include "bridge/tcia/TciaClient.h"

using namespace bridge;
using namespace bridge::tcia;

namespace {

long peakRssKb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;  // kilobytes on Linux
}

int usage(const char* error) {
    std::fprintf(
        stderr,
        "%s\nusage: bench_client_download_rss --tcia-url URL [--series UID] [--verify-md5] [--repeat N]\n",
        error);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    TciaSettings settings;
    std::string seriesUid;
    bool verifyMd5 = false;
    int repeat = 1;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--tcia-url")
            settings.baseUrl = next();
        else if (a == "--series")
            seriesUid = next();
        else if (a == "--verify-md5")
            verifyMd5 = true;
        else if (a == "--repeat")
            repeat = std::max(1, std::atoi(next().c_str()));
        else
            return usage(("unknown argument " + a).c_str());
    }
    if (settings.baseUrl.empty()) return usage("--tcia-url is required");
    settings.apiVersion = "";  // guessed from the URL
    try {
        TciaClient client(settings);
        std::optional<std::int64_t> expected;
        if (seriesUid.empty()) {
            for (const auto& collection : client.collections(RequestContext())) {
                for (const auto& s : client.series({collection, "", "", "", "", "", "", ""}, RequestContext())) {
                    if (s.imageCount.value_or(0) > expected.value_or(0)) {
                        expected = s.imageCount;
                        seriesUid = s.seriesInstanceUid;
                    }
                }
            }
            if (seriesUid.empty()) return usage("no series found");
        } else {
            auto found = client.series({"", "", "", seriesUid, "", "", "", ""}, RequestContext());
            if (!found.empty()) expected = found.front().imageCount;
        }
        const long rssBefore = peakRssKb();
        std::size_t instances = 0;
        std::uint64_t bytes = 0;
        std::size_t largest = 0;
        RequestContext context;
        const auto started = std::chrono::steady_clock::now();
        for (int r = 0; r < repeat; ++r) {
            instances += client.downloadSeries(
                seriesUid, {verifyMd5, expected},
                [&](DownloadedInstance&& instance) {
                    bytes += instance.bytes.size();
                    largest = std::max(largest, instance.bytes.size());
                },
                context);
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const double mb = static_cast<double>(bytes) / (1024.0 * 1024.0);
        const long rss = peakRssKb();
        std::printf(
            "{\"series\":\"%s\",\"instances\":%zu,\"expected\":%lld,\"bytes\":%llu,\"largestInstanceBytes\":%"
            "zu,"
            "\"seconds\":%.3f,\"mbPerSecond\":%.1f,\"peakRssMb\":%.1f,\"peakRssBeforeDownloadMb\":%.1f}\n",
            seriesUid.c_str(), instances, static_cast<long long>(expected.value_or(-1)) * repeat,
            static_cast<unsigned long long>(bytes), largest, seconds, seconds > 0 ? mb / seconds : 0.0,
            rss / 1024.0, rssBefore / 1024.0);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_client_download_rss: %s\n", e.what());
        return 1;
    }
}
