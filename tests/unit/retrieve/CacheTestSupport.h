#pragma once
// Instance-cache helpers shared by the retrieve unit tests.

#include <cstdint>

#include "bridge/common/Config.h"
#include "bridge/retrieve/InstanceCache.h"
#include "tests/support/TestSupport.h"
#include "tests/unit/retrieve/RetrieveTestDoubles.h"

namespace bridge::test {

/// A cache in `dir` bounded at `maxBytes` (1 GiB: never evicts in these tests).
inline CacheSettings settingsFor(const TempDir& dir, std::uint64_t maxBytes = 1ull << 30) {
    CacheSettings s;
    s.directory = dir.path();
    s.maxBytes = maxBytes;
    return s;
}

/// Every file of `s` stored into `cache`.
inline void storeAll(InstanceCache& cache, const FakeSeries& s) {
    for (const auto& f : s.files) cache.store(s.record.seriesInstanceUid, f);
}

}  // namespace bridge::test
