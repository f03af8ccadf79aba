#pragma once
// Everything `serve` knows, loaded once at start from a directory written by `generate`:
// DIR/collections.json (license, DOI, release dates, restricted flag, per-series release data),
// the DICOM files under DIR (headers only are read; MD5 and size taken per file) and, if present,
// DIR/synthetic.json (a SyntheticCatalog). Immutable after load(): safe to share between threads.

#include "emulator/Records.h"
#include "emulator/SeriesHint.h"
#include "emulator/SyntheticCatalog.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace emulator {

class DataIndex {
public:
    /// Reads DIR; throws std::runtime_error when DIR or collections.json is missing/invalid.
    static std::shared_ptr<const DataIndex> load(const std::string& dir);

    /// Builds an index from records directly (unit tests).
    DataIndex(std::vector<CollectionInfo> collections, std::vector<SeriesRecord> series,
              std::map<std::string, std::vector<InstanceRecord>> instances);

    /// All collections, restricted ones included (visibility is the caller's business).
    const std::vector<CollectionInfo>& collections() const { return collections_; }
    const CollectionInfo* collection(const std::string& name) const;

    /// Calls fn for each series the hint allows (may be a superset of an exact match).
    void forEachSeries(const SeriesHint& hint, const std::function<void(const SeriesRecord&)>& fn) const;

    /// Calls fn for each series loaded from files (never the synthetic catalog).
    void forEachStoredSeries(const std::function<void(const SeriesRecord&)>& fn) const;

    /// The series with this UID, if any.
    std::optional<SeriesRecord> series(const std::string& seriesUid) const;

    /// Stored files of a series (empty for unknown or synthetic series).
    const std::vector<InstanceRecord>& instances(const std::string& seriesUid) const;

    /// The file with this SOP Instance UID and its series UID, if any.
    const InstanceRecord* instance(const std::string& sopInstanceUid, std::string* seriesUid = nullptr) const;

    std::size_t seriesCount() const;

private:
    DataIndex() = default;
    void rebuildLookups();

    std::vector<CollectionInfo> collections_;
    std::vector<SeriesRecord> series_;
    std::map<std::string, std::size_t> seriesByUid_;
    std::map<std::string, std::vector<InstanceRecord>> instances_;
    std::map<std::string, std::pair<std::string, std::size_t>> instanceBySop_;
    std::unique_ptr<SyntheticCatalog> synthetic_;
};

}  // namespace emulator
