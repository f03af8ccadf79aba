#pragma once
// A metadata-only catalog of N studies x M series computed on the fly from a few numbers
// (DIR/synthetic.json), for catalog benchmarks: 1,000,000 series cost no memory and load
// instantly. Every value is a pure function of (study index, series index). Thread-safe (const).

#include "emulator/Records.h"
#include "emulator/SeriesHint.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace emulator {

class SyntheticCatalog {
public:
    static constexpr int kStudiesPerPatient = 4;

    SyntheticCatalog(std::int64_t studies, std::int64_t seriesPerStudy, int collectionCount);

    std::int64_t studies() const { return studies_; }
    std::int64_t seriesPerStudy() const { return seriesPerStudy_; }
    const std::vector<CollectionInfo>& collections() const { return collections_; }

    /// Calls fn for every series the hint allows (a superset of the exact match).
    void forEachSeries(const SeriesHint& hint, const std::function<void(const SeriesRecord&)>& fn) const;

    /// The series record for (study, series) indices.
    SeriesRecord makeSeries(std::int64_t study, std::int64_t series) const;

    /// UID roots used by the synthetic set.
    static std::string studyUid(std::int64_t study);
    static std::string seriesUid(std::int64_t study, std::int64_t series);

private:
    void forStudy(std::int64_t study, const std::function<void(const SeriesRecord&)>& fn) const;

    std::int64_t studies_;
    std::int64_t seriesPerStudy_;
    std::vector<CollectionInfo> collections_;
};

}  // namespace emulator
