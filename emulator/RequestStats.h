#pragma once
// Per-endpoint request counters for GET /emulator/stats: tests use them to prove that the
// bridge never asks for all series, or downloads a series once for N concurrent callers.
// Thread-safe.

#include <map>
#include <mutex>
#include <string>

namespace emulator {

class RequestStats {
public:
    /// Counts one call of endpoint (with the SeriesInstanceUID for download endpoints, if any).
    void count(const std::string& endpoint, const std::string& seriesUid = {}, bool unfiltered = false);
    void reset();
    /// {"total":N,"endpoints":{"getSeries":3,...},"getImageBySeries":{"uid":1},"unfilteredGetSeries":0}
    std::string toJson() const;

private:
    mutable std::mutex mutex_;
    long total_ = 0;
    long unfiltered_ = 0;
    std::map<std::string, long> endpoints_;
    std::map<std::string, long> downloads_;
};

}  // namespace emulator
