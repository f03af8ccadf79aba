#pragma once
// The on-disk instance cache: every instance the bridge downloads from TCIA is kept, so a
// series asked for twice is downloaded once and later served without TCIA.
//
// Layout: <CacheSettings::directory>/instances/<SeriesInstanceUID>/
//            <SOPInstanceUID>.dcm   the Part-10 file as TCIA sent it
//            index.tsv              sidecar: one line per instance (size, MD5, header attributes);
//                                   its mtime is the series' last access (LRU across restarts)
//            complete               present once the whole series is cached (holds the count)
//
// Guarantees:
//  * Atomic writes: an instance is written to a temporary file in the same directory, then
//    renamed. Temporary files left by a crash are deleted at start and are never served.
//  * Durability once per series (issue 11): store() does not fsync. markComplete() fsyncs every
//    instance file of the series, the sidecar and the directory, and only then writes the
//    `complete` marker (itself fsync'd). A series without the marker may hold files torn by a
//    power cut: after a restart every instance is checked against its sidecar size at load and
//    its sidecar MD5 on its first read (md5Verified starts false), a mismatch deletes the file
//    (a miss: downloaded again); a file the sidecar does not list is deleted, unless the series
//    has the marker and lost its whole sidecar (then its files were synced: rebuilt by scanning).
//  * Verified reads: size (and MD5, recorded at write) are checked before an instance is
//    served; a file that fails is deleted and reported as a miss.
//  * Size bound: when the cached bytes exceed maxBytes, least-recently-used SERIES are evicted
//    whole (TCIA downloads whole series, so a partial series is worth little). Pinned series
//    (being downloaded or served) are never evicted; the bound may be exceeded while they are.
//  * Restart: the in-memory index is reloaded from the sidecars; torn sidecar lines are dropped;
//    a missing sidecar of a complete (synced) series is rebuilt by scanning its directory.
//
// Thread-safe: one mutex guards the in-memory index; file contents are read and written outside it.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bridge/common/Config.h"
#include "bridge/common/DicomRecord.h"
#include "bridge/query/MetadataSource.h"

namespace bridge {

/// What the cache knows about one stored instance (from its sidecar line).
struct CachedInstanceInfo {
    std::string sopInstanceUid;
    std::uint64_t size = 0;
    std::string md5;         ///< lowercase hex; empty when unknown
    DicomRecord attributes;  ///< instanceHeaderTags() + TransferSyntaxUID (0002,0010)
    /// In memory only: the file's MD5 was checked by a read since this process started.
    /// Later reads check the size only (hashing every warm read cost ~1-2 ms per 0.5 MB slice).
    bool md5Verified = false;

    std::string sopClassUid() const;
    std::string transferSyntaxUid() const;
    long instanceNumber() const;  ///< 0 when absent or not a number
};

/// Counters and gauges of the cache (a snapshot).
struct InstanceCacheStats {
    std::uint64_t bytes = 0;
    std::uint64_t maxBytes = 0;
    std::uint64_t instances = 0;
    std::uint64_t series = 0;
    std::uint64_t hits = 0;            ///< instances served from disk
    std::uint64_t misses = 0;          ///< reads that found nothing usable
    std::uint64_t verifyFailures = 0;  ///< files deleted because size/MD5 did not match
    std::uint64_t evictedSeries = 0;
    std::uint64_t stores = 0;
};

class InstanceCache : public InstanceAttributeSource {
public:
    /// Creates <directory>/instances if needed and loads (or rebuilds) the index. Blocking
    /// (scans the directory). Throws BridgeError(Internal) when the directory is unusable.
    explicit InstanceCache(const CacheSettings& settings);
    ~InstanceCache() override;
    InstanceCache(const InstanceCache&) = delete;
    InstanceCache& operator=(const InstanceCache&) = delete;

    /// What the caller already knows about the bytes it stores (issue 11: hash once).
    struct StoreHints {
        /// Lower-case hex MD5 of exactly these bytes (e.g. computed by the ZIP reader as they
        /// inflated); empty = the cache computes it.
        std::string md5;
    };

    /// Stores one instance of a series atomically (temp file, rename; not fsync'd: see
    /// markComplete) and records its sidecar line. The SOP Instance UID and the sidecar
    /// attributes are read from the header (one DCMTK parse that does not load Pixel Data).
    /// May evict other series. Throws BridgeError(UpstreamBadResponse) when the bytes are not
    /// DICOM, BridgeError(Internal) on I/O errors (disk full...).
    CachedInstanceInfo store(const std::string& seriesInstanceUid, const std::vector<std::uint8_t>& bytes,
                             const StoreHints& hints = {});

    /// Reads and verifies one instance. nullptr on a miss (absent, or failed verification, in
    /// which case the file is deleted and the series is no longer complete). Never throws for
    /// a bad file; throws BridgeError(InvalidArgument) for a UID that cannot be a file name.
    std::shared_ptr<const std::vector<std::uint8_t>> read(const std::string& seriesInstanceUid,
                                                          const std::string& sopInstanceUid);

    bool contains(const std::string& seriesInstanceUid, const std::string& sopInstanceUid) const;
    /// The cached instances of a series, ordered by InstanceNumber then UID. Empty when none.
    std::vector<CachedInstanceInfo> instances(const std::string& seriesInstanceUid) const;

    /// Records that the series has `instanceCount` instances in total; once that many are
    /// cached the series is complete and is served without TCIA. Makes the series durable first:
    /// fsyncs each of its instance files, the sidecar and the directory, then writes the marker.
    void markComplete(const std::string& seriesInstanceUid, std::size_t instanceCount);
    /// markComplete in two halves, so that a download can tell its subscribers it ended between
    /// them (the fsyncs then run after the C-MOVE's last C-STORE, not before its final response):
    /// recordComplete() makes the series complete for this process at once (its reads see the
    /// page cache); persistComplete() then syncs it and writes the marker (a restart before that
    /// finds it incomplete: verified on read, see the header). No-ops for an unknown series.
    void recordComplete(const std::string& seriesInstanceUid, std::size_t instanceCount);
    void persistComplete(const std::string& seriesInstanceUid);
    /// True when the series was marked complete and all its instances are still cached.
    bool isComplete(const std::string& seriesInstanceUid) const;

    /// Removes a series (files and index); true when it is gone now. A pinned series (being
    /// downloaded, synced or served) is no longer complete from now on (its marker is deleted)
    /// and is removed when its last pin is released (false). No-op when absent (false).
    bool removeSeries(const std::string& seriesInstanceUid);
    /// Removes one instance (file and index line), pinned or not: used when TCIA's MD5 says the
    /// stored bytes are wrong. The series is then no longer complete. No-op when absent.
    void removeInstance(const std::string& seriesInstanceUid, const std::string& sopInstanceUid);

    /// Keeps a series from eviction while alive. Movable, not copyable.
    class Pin {
    public:
        Pin() = default;
        Pin(InstanceCache* cache, std::string series);
        Pin(Pin&& other) noexcept;
        Pin& operator=(Pin&& other) noexcept;
        ~Pin();

    private:
        void release();
        InstanceCache* cache_ = nullptr;
        std::string series_;
    };
    Pin pin(const std::string& seriesInstanceUid);

    /// InstanceAttributeSource: one record per cached instance of the series (the sidecar
    /// attributes plus SOPInstanceUID; the transfer syntax as AvailableTransferSyntaxUID
    /// (0008,3002), never a group 0002 tag), nullopt when nothing of the series is cached.
    std::optional<std::vector<DicomRecord>> instanceAttributes(const std::string& seriesInstanceUid) override;

    InstanceCacheStats stats() const;
    const std::string& directory() const noexcept { return instancesDir_; }

    /// True for UIDs usable as file names (digits, letters, '.', '-', '_'; 1..64 chars; not "."/"..").
    static bool isSafeUid(const std::string& uid);

private:
    struct SeriesEntry {
        std::map<std::string, CachedInstanceInfo> instances;
        std::uint64_t bytes = 0;
        std::optional<std::size_t> completeCount;
        std::uint64_t lastAccess = 0;  ///< logical clock (higher = more recent)
        int pins = 0;
        std::int64_t lastTouchSecond = 0;  ///< last time the sidecar mtime was refreshed
        bool removeWhenUnpinned = false;   ///< removeSeries() while pinned
    };

    void loadSeries(const std::string& series);
    void rewriteIndexLocked(const std::string& series, const SeriesEntry& entry);
    void touchLocked(const std::string& series, SeriesEntry& entry);
    void evictLocked();
    void removeSeriesLocked(const std::string& series);
    void dropInstanceLocked(const std::string& series, const std::string& sop);
    std::string seriesDir(const std::string& series) const;

    std::string instancesDir_;
    std::uint64_t maxBytes_;
    mutable std::mutex mutex_;
    std::map<std::string, SeriesEntry> series_;
    std::uint64_t totalBytes_ = 0;
    std::uint64_t clock_ = 0;
    std::atomic<std::uint64_t> tempCounter_{0};
    std::atomic<std::uint64_t> hits_{0}, misses_{0}, verifyFailures_{0}, evicted_{0}, stores_{0};
};

}  // namespace bridge
