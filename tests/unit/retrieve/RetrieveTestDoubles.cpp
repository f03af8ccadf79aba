#include "tests/unit/retrieve/RetrieveTestDoubles.h"
#include "tests/support/Part10Bytes.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <thread>

namespace bridge::test {

std::vector<std::uint8_t> makeInstance(const std::string& studyUid, const std::string& seriesUid,
                                       const std::string& sopUid, int instanceNumber,
                                       std::size_t pixelBytes) {
    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, sopUid.c_str());
    ds->putAndInsertString(DCM_StudyInstanceUID, studyUid.c_str());
    ds->putAndInsertString(DCM_SeriesInstanceUID, seriesUid.c_str());
    ds->putAndInsertString(DCM_Modality, "CT");
    ds->putAndInsertString(DCM_InstanceNumber, std::to_string(instanceNumber).c_str());
    const Uint16 columns = 16;
    const Uint16 rows = static_cast<Uint16>(std::max<std::size_t>(1, pixelBytes / (2 * columns)));
    ds->putAndInsertUint16(DCM_Rows, rows);
    ds->putAndInsertUint16(DCM_Columns, columns);
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 16);
    ds->putAndInsertUint16(DCM_HighBit, 15);
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    std::vector<Uint16> pixels(static_cast<std::size_t>(rows) * columns);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<Uint16>(i * 7 + instanceNumber);
    ds->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
    file.validateMetaInfo(EXS_LittleEndianExplicit);
    file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPClassUID, UID_CTImageStorage);
    file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sopUid.c_str());

    return test::part10Bytes(file, EXS_LittleEndianExplicit);
}

FakeSeries makeSeries(const std::string& tag, int count, const std::string& collection,
                      std::size_t pixelBytes) {
    FakeSeries s;
    const std::string root = "1.2.826.0.1.3680043.10.999.";
    s.record.collection = collection;
    s.record.patientId = "PAT-" + tag;
    s.record.studyInstanceUid = root + "1." + tag;
    s.record.seriesInstanceUid = root + "2." + tag;
    s.record.modality = "CT";
    s.record.imageCount = count;
    for (int i = 1; i <= count; ++i) {
        const std::string sop = root + "3." + tag + "." + std::to_string(i);
        s.sopUids.push_back(sop);
        s.files.push_back(
            makeInstance(s.record.studyInstanceUid, s.record.seriesInstanceUid, sop, i, pixelBytes));
    }
    std::int64_t size = 0;
    for (const auto& f : s.files) size += static_cast<std::int64_t>(f.size());
    s.record.fileSize = size;
    return s;
}

void FakeTcia::add(const FakeSeries& series) {
    std::lock_guard lock(mutex_);
    series_[series.record.seriesInstanceUid] = series;
}

std::vector<tcia::SeriesRecord> FakeTcia::series(const tcia::SeriesFilter& filter, const RequestContext& context) {
    std::lock_guard lock(mutex_);
    std::vector<tcia::SeriesRecord> out;
    for (const auto& [uid, s] : series_) {
        const auto& r = s.record;
        if (!filter.seriesInstanceUid.empty() && r.seriesInstanceUid != filter.seriesInstanceUid) continue;
        if (!filter.studyInstanceUid.empty() && r.studyInstanceUid != filter.studyInstanceUid) continue;
        if (!filter.patientId.empty() && r.patientId != filter.patientId) continue;
        if (!filter.collection.empty() && r.collection != filter.collection) continue;
        out.push_back(r);
    }
    return out;
}

std::vector<std::string> FakeTcia::sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) {
    std::lock_guard lock(mutex_);
    auto it = series_.find(seriesInstanceUid);
    return it == series_.end() ? std::vector<std::string>{} : it->second.sopUids;
}

std::size_t FakeTcia::downloadSeries(const std::string& seriesInstanceUid,
                                     const tcia::DownloadOptions& options, const tcia::InstanceSink& sink,
                                     const RequestContext& context) {
    downloadCalls++;
    const int now = ++concurrent;
    int seen = maxConcurrent.load();
    while (now > seen && !maxConcurrent.compare_exchange_weak(seen, now)) {
    }
    struct Leave {
        std::atomic<int>& c;
        ~Leave() { c--; }
    } leave{concurrent};

    FakeSeries s;
    {
        std::lock_guard lock(mutex_);
        auto it = series_.find(seriesInstanceUid);
        if (it == series_.end()) throw BridgeError(ErrorCode::NotFound, "not in public domain");
        s = it->second;
    }
    if (gate.valid() && gate.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
        throw BridgeError(ErrorCode::Internal, "FakeTcia: the test never opened the gate");
    std::size_t delivered = 0;
    for (std::size_t i = 0; i < s.files.size(); ++i) {
        // Pause in small steps so a context is noticed quickly (as the real client checks on read).
        const auto until = std::chrono::steady_clock::now() + delayPerInstance;
        while (std::chrono::steady_clock::now() < until) {
            if (context.cancelled()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (context.cancelled()) {
            cancelledDownloads++;
            throw BridgeError(ErrorCode::Cancelled, "download cancelled");
        }
        if (failAfter >= 0 && static_cast<int>(i) == failAfter)
            throw BridgeError(failCode,
                              "truncated ZIP after " + std::to_string(i) + " entries, retries exhausted");
        if (stopAfter >= 0 && static_cast<int>(i) == stopAfter) break;
        tcia::DownloadedInstance instance;
        instance.entryName = std::to_string(i + 1) + ".dcm";
        instance.sopInstanceUid = s.sopUids[i];
        instance.sopClassUid = UID_CTImageStorage;
        instance.transferSyntaxUid = UID_LittleEndianExplicitTransferSyntax;
        instance.bytes = s.files[i];
        if (offerRecycle)
            instance.recycle = [this](std::vector<std::uint8_t>&& bytes) {
                recycledBytes += bytes.size();
                ++recycled;
            };
        sink(std::move(instance));
        ++delivered;
    }
    if (throwOnShortfall && options.expectedCount &&
        static_cast<std::int64_t>(delivered) < *options.expectedCount)
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "getImage delivered " + std::to_string(delivered) + " of " +
                              std::to_string(*options.expectedCount) + " after retries");
    return delivered;
}

}  // namespace bridge::test
