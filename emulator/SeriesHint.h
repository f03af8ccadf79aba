#pragma once
// Narrowing hints for DataIndex::forEachSeries: exact values (case-insensitive); empty = any.
// A store may return a superset; callers apply the full filter themselves.

#include <string>

namespace emulator {

struct SeriesHint {
    std::string collection;
    std::string patientId;
    std::string studyUid;
    std::string seriesUid;
};

}  // namespace emulator
