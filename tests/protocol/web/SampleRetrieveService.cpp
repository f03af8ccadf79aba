#include "SampleRetrieveService.h"

#include "bridge/common/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace bridge::test {
namespace {

class VectorStream : public InstanceStream {
public:
    VectorStream(std::vector<SampleRetrieveService::File> files, CancelToken cancel) : files_(std::move(files)), cancel_(cancel) {}
    Status next(DicomInstance& out, std::chrono::milliseconds) override {
        if (cancelled_ || cancel_.cancelled()) throw BridgeError(ErrorCode::Cancelled, "cancelled");
        if (index_ >= files_.size()) return Status::End;
        if (!waited_) {
            waited_ = true;
            return Status::Waiting;
        }
        waited_ = false;
        const auto& f = files_[index_++];
        std::ifstream in(f.path, std::ios::binary);
        auto bytes = std::make_shared<std::vector<std::uint8_t>>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        out = DicomInstance{f.study, f.series, f.sop, f.sopClass, f.transferSyntax, bytes};
        return Status::Instance;
    }
    std::vector<std::string> failedSopInstanceUids() const override { return {}; }
    std::size_t failedCount() const override { return 0; }
    std::string failureReason() const override { return {}; }
    void cancel() override { cancelled_ = true; }

private:
    std::vector<SampleRetrieveService::File> files_;
    CancelToken cancel_;
    std::size_t index_ = 0;
    bool waited_ = false;
    bool cancelled_ = false;
};

}  // namespace

SampleRetrieveService::SampleRetrieveService(const std::string& dataDir) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dataDir)) {
        if (entry.path().extension() != ".dcm") continue;
        DcmFileFormat ff;
        if (ff.loadFile(entry.path().c_str(), EXS_Unknown, EGL_noChange, 256).bad()) continue;
        DcmDataset* ds = ff.getDataset();
        File f;
        f.path = entry.path().string();
        f.collection = std::filesystem::relative(entry.path(), dataDir).begin()->string();
        OFString v;
        ds->findAndGetOFString(DCM_StudyInstanceUID, v); f.study = v.c_str();
        ds->findAndGetOFString(DCM_SeriesInstanceUID, v); f.series = v.c_str();
        ds->findAndGetOFString(DCM_SOPInstanceUID, v); f.sop = v.c_str();
        ds->findAndGetOFString(DCM_SOPClassUID, v); f.sopClass = v.c_str();
        f.transferSyntax = DcmXfer(ds->getOriginalXfer()).getXferID();
        files_.push_back(f);
    }
    std::sort(files_.begin(), files_.end(), [](const File& a, const File& b) { return a.path < b.path; });
}

RetrievePlan SampleRetrieveService::plan(const RetrieveRequest& r, const CancelToken&) {
    auto in = [](const std::vector<std::string>& list, const std::string& v) {
        return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
    };
    RetrievePlan plan;
    std::map<std::string, SeriesLocator> bySeries;
    std::vector<std::string> order;
    for (const auto& f : files_) {
        if (!r.scope.allows(f.collection)) continue;
        if (!in(r.studyInstanceUids, f.study) || !in(r.seriesInstanceUids, f.series) || !in(r.sopInstanceUids, f.sop)) continue;
        auto [it, fresh] = bySeries.try_emplace(f.series);
        if (fresh) {
            order.push_back(f.series);
            it->second.collection = f.collection;
            it->second.studyInstanceUid = f.study;
            it->second.seriesInstanceUid = f.series;
            if (!r.sopInstanceUids.empty()) it->second.sopInstanceUids = std::vector<std::string>{};
        }
        it->second.imageCount++;
        if (it->second.sopInstanceUids) it->second.sopInstanceUids->push_back(f.sop);
        plan.instanceCount++;
    }
    if (plan.instanceCount == 0) throw BridgeError(ErrorCode::NotFound, "no matching instances");
    for (const auto& s : order) plan.series.push_back(bySeries[s]);
    return plan;
}

std::unique_ptr<InstanceStream> SampleRetrieveService::open(const RetrievePlan& plan, const CancelToken& cancel) {
    std::vector<File> chosen;
    for (const auto& loc : plan.series)
        for (const auto& f : files_)
            if (f.series == loc.seriesInstanceUid &&
                (!loc.sopInstanceUids || std::find(loc.sopInstanceUids->begin(), loc.sopInstanceUids->end(), f.sop) != loc.sopInstanceUids->end()))
                chosen.push_back(f);
    return std::make_unique<VectorStream>(std::move(chosen), cancel);
}

}  // namespace bridge::test
