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

    std::vector<std::string> collections(const RequestContext& context) override;
    std::set<std::string> restrictedCollections(const RequestContext& context) override { return {}; }
    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& filter, const RequestContext& context) override;
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& filter, const RequestContext& context) override;
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& filter, const RequestContext& context) override;
    std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) override;

private:
    tcia::TciaApi& api_;
    std::chrono::seconds ttl_;
    std::mutex mutex_;
    std::vector<std::string> collections_;
    std::chrono::steady_clock::time_point fetched_{};
    bool haveCollections_ = false;
};

}  // namespace bridge
