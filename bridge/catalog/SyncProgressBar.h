#pragma once
// The terminal rendering of sync progress, e.g.
//   [#####.....] 12/135 collections  TCGA-BRCA  3.2k series/s
// Pure, thread-safe.

#include "bridge/catalog/CatalogSync.h"

#include <string>

namespace bridge {

/// One line, no newline or carriage return (the caller adds "\r" to redraw in place).
/// `barWidth` cells of '#' (done) and '.' (to do).
std::string renderSyncProgress(const SyncProgress& progress, std::size_t barWidth = 10);

/// Compact rate: 950 -> "950", 3210 -> "3.2k", 1.5e6 -> "1.5M".
std::string formatRate(double perSecond);

}  // namespace bridge
