#pragma once
// MetadataSource straight over the TCIA API: every call is a TCIA call, nothing persists.
//
// restrictedCollections() is empty (with one set of credentials the bridge cannot tell which
// collections need them; configure AccessSettings::restrictedCollections instead), and the
// scans return nullopt: a broad query is refused with QueryTooBroad unless the catalog is used.
// collections() is cached in memory for a short TTL (the list changes only on TCIA releases).
// Thread-safe (the TciaApi is); blocking. The TciaApi is not owned and must outlive this.

#include "bridge/query/MetadataSource.h"
#include "bridge/tcia/TciaApi.h"

#include <chrono>
#include <mutex>

namespace bridge {

class TciaMetadataSource : public MetadataSource {
public:
    explicit TciaMetadataSource(tcia::TciaApi& api, std::chrono::seconds collectionsTtl = std::chrono::seconds(300));

    std::vector<std::string> collections() override;
    std::set<std::string> restrictedCollections() override { return {}; }
    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& filter) override;
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& filter) override;
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& filter) override;
    std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid) override;

private:
    tcia::TciaApi& api_;
    std::chrono::seconds ttl_;
    std::mutex mutex_;
    std::vector<std::string> collections_;
    std::chrono::steady_clock::time_point fetched_{};
    bool haveCollections_ = false;
};

}  // namespace bridge
