#pragma once
// Small in-memory stand-ins for TciaApi and MetadataSource used by unit_retrieve, plus a
// generator of tiny but real DICOM Part-10 files (DCMTK-written).

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "bridge/common/Error.h"
#include "bridge/query/MetadataSource.h"
#include "bridge/tcia/TciaApi.h"

namespace bridge::test {

/// A Part-10 CT image (Explicit VR LE) with the given UIDs, InstanceNumber and a pixel payload
/// of `pixelBytes` bytes (Rows x Columns derived from it).
std::vector<std::uint8_t> makeInstance(const std::string& studyUid, const std::string& seriesUid,
                                       const std::string& sopUid, int instanceNumber,
                                       std::size_t pixelBytes = 512);

/// One fake series: its record and its instances in delivery order.
struct FakeSeries {
    tcia::SeriesRecord record;
    std::vector<std::string> sopUids;
    std::vector<std::vector<std::uint8_t>> files;
};

/// Builds a series of `count` instances with UIDs derived from `tag`.
FakeSeries makeSeries(const std::string& tag, int count, const std::string& collection = "TEST-COLL",
                      std::size_t pixelBytes = 512);

/// TciaApi double: only downloadSeries / sopInstanceUids / series are real. Counts calls,
/// honours the RequestContext between instances, can be told to pause, fail or stop early.
class FakeTcia : public tcia::TciaApi {
public:
    void add(const FakeSeries& series);

    std::chrono::milliseconds delayPerInstance{0};
    int failAfter = -1;  ///< throw after delivering this many (-1: never)
    ErrorCode failCode = ErrorCode::UpstreamBadResponse;
    int stopAfter = -1;             ///< return normally after this many (partial download)
    bool throwOnShortfall = false;  ///< like TciaClient: fewer than expectedCount -> UpstreamBadResponse
    /// When valid, every download waits for it (at most 30 s) before its first instance.
    std::shared_future<void> gate;

    /// Sets DownloadedInstance::recycle, which counts the buffers handed back (and their bytes).
    bool offerRecycle = false;
    std::atomic<int> recycled{0};
    std::atomic<std::size_t> recycledBytes{0};
    std::atomic<int> downloadCalls{0};
    std::atomic<int> cancelledDownloads{0};
    std::atomic<int> concurrent{0};
    std::atomic<int> maxConcurrent{0};

    std::vector<std::string> collections(const RequestContext& context) override { return {}; }
    std::vector<std::string> modalityValues(const tcia::ValueFilter&, const RequestContext& context) override { return {}; }
    std::vector<std::string> bodyPartValues(const tcia::ValueFilter&, const RequestContext& context) override { return {}; }
    std::vector<std::string> manufacturerValues(const tcia::ValueFilter&, const RequestContext& context) override { return {}; }
    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter&, const RequestContext& context) override { return {}; }
    std::vector<tcia::PatientRecord> patientsByCollectionAndModality(const std::string&,
                                                                     const std::string&, const RequestContext& context) override {
        return {};
    }
    std::vector<tcia::PatientRecord> newPatientsInCollection(const std::string&,
                                                             const std::string&, const RequestContext& context) override {
        return {};
    }
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter&, const RequestContext& context) override { return {}; }
    std::vector<tcia::StudyRecord> newStudiesInPatientCollection(const std::string&, const std::string&,
                                                                 const std::string&, const RequestContext& context) override {
        return {};
    }
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& filter, const RequestContext& context) override;
    std::vector<tcia::SeriesRecord> updatedSeries(const std::string&, const RequestContext& context) override { return {}; }
    tcia::SeriesSize seriesSize(const std::string&, const RequestContext& context) override { return {}; }
    std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) override;
    std::size_t downloadSeries(const std::string& seriesInstanceUid, const tcia::DownloadOptions& options,
                               const tcia::InstanceSink& sink, const RequestContext& context) override;
    std::vector<std::uint8_t> singleImage(const std::string&, const std::string&, const RequestContext& context) override {
        throw BridgeError(ErrorCode::Unsupported, "not in the fake");
    }

private:
    std::mutex mutex_;
    std::map<std::string, FakeSeries> series_;
};

/// MetadataSource double over a FakeTcia (like TciaMetadataSource, but local).
class FakeMetadata : public MetadataSource {
public:
    explicit FakeMetadata(FakeTcia& tcia) : tcia_(tcia) {}
    std::vector<std::string> collections(const RequestContext& context) override { return {}; }
    std::set<std::string> restrictedCollections(const RequestContext& context) override { return {}; }
    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter&, const RequestContext& context) override { return {}; }
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter&, const RequestContext& context) override { return {}; }
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& filter, const RequestContext& context) override {
        return tcia_.series(filter, RequestContext());
    }
    std::vector<std::string> sopInstanceUids(const std::string& uid, const RequestContext& context) override {
        return tcia_.sopInstanceUids(uid, RequestContext());
    }

private:
    FakeTcia& tcia_;
};

}  // namespace bridge::test
