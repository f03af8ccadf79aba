#include "bridge/query/TciaMetadataSource.h"

namespace bridge {

TciaMetadataSource::TciaMetadataSource(tcia::TciaApi& api, std::chrono::seconds collectionsTtl)
    : api_(api), ttl_(collectionsTtl) {}

std::vector<std::string> TciaMetadataSource::collections(const RequestContext& context) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (haveCollections_ && std::chrono::steady_clock::now() - fetched_ < ttl_) return collections_;
    }
    // Fetch outside the lock: a slow TCIA must not block readers of a still-valid list; two
    // concurrent refreshes are harmless.
    auto fresh = api_.collections(context);
    std::lock_guard<std::mutex> lock(mutex_);
    collections_ = fresh;
    fetched_ = std::chrono::steady_clock::now();
    haveCollections_ = true;
    return fresh;
}

std::vector<tcia::PatientRecord> TciaMetadataSource::patients(const tcia::PatientFilter& filter, const RequestContext& context) {
    return api_.patients(filter, context);
}

std::vector<tcia::StudyRecord> TciaMetadataSource::studies(const tcia::StudyFilter& filter, const RequestContext& context) {
    return api_.studies(filter, context);
}

std::vector<tcia::SeriesRecord> TciaMetadataSource::series(const tcia::SeriesFilter& filter, const RequestContext& context) {
    return api_.series(filter, context);
}

std::vector<std::string> TciaMetadataSource::sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) {
    return api_.sopInstanceUids(seriesInstanceUid, context);
}

}  // namespace bridge
