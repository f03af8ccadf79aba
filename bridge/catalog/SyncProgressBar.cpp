#include "bridge/catalog/SyncProgressBar.h"

#include <cmath>
#include <cstdio>

namespace bridge {

std::string formatRate(double perSecond) {
    char buf[32];
    if (!(perSecond > 0) || !std::isfinite(perSecond)) return "0";
    if (perSecond < 1000) {
        std::snprintf(buf, sizeof buf, "%.0f", perSecond);
    } else if (perSecond < 999950) {
        std::snprintf(buf, sizeof buf, "%.1fk", perSecond / 1000);
    } else {
        std::snprintf(buf, sizeof buf, "%.1fM", perSecond / 1e6);
    }
    return buf;
}

std::string renderSyncProgress(const SyncProgress& p, std::size_t barWidth) {
    const std::size_t total = p.collectionsTotal;
    const std::size_t done = total == 0 ? 0 : std::min(p.collectionsDone, total);
    const std::size_t filled = total == 0 ? 0 : done * barWidth / total;
    std::string line = "[" + std::string(filled, '#') + std::string(barWidth - filled, '.') + "] ";
    line += std::to_string(done) + "/" + std::to_string(total) + " collections";
    if (!p.currentCollection.empty()) line += "  " + p.currentCollection;
    line += "  " + formatRate(p.seriesPerSecond) + " series/s";
    return line;
}

}  // namespace bridge
