#include "emulator/RequestStats.h"

#include "emulator/JettisonJson.h"

namespace emulator {

void RequestStats::count(const std::string& endpoint, const std::string& seriesUid, bool unfiltered) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++total_;
    ++endpoints_[endpoint];
    if (!seriesUid.empty()) ++downloads_[seriesUid];
    if (unfiltered) ++unfiltered_;
}

void RequestStats::reset() {
    std::lock_guard<std::mutex> lock(mutex_);
    total_ = unfiltered_ = 0;
    endpoints_.clear();
    downloads_.clear();
}

std::string RequestStats::toJson() const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto map = [](const std::map<std::string, long>& m) {
        std::string out = "{";
        bool first = true;
        for (const auto& [k, v] : m) {
            out += (first ? "" : ",") + JettisonJson::quote(k) + ":" + std::to_string(v);
            first = false;
        }
        return out + "}";
    };
    return "{\"total\":" + std::to_string(total_) + ",\"endpoints\":" + map(endpoints_) +
           ",\"getImageBySeries\":" + map(downloads_) + ",\"unfilteredGetSeries\":" + std::to_string(unfiltered_) + "}";
}

}  // namespace emulator
