#include "tests/protocol/dimse/DimseTestSupport.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpeg/djrploss.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "bridge/common/Error.h"
#include "dimse/BridgeDimse.h"
#include "tests/support/ChildProcess.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

namespace bridge::test {
namespace {

class VectorCursor : public FindCursor {
public:
    VectorCursor(std::vector<DicomRecord> records, bool truncated, std::chrono::milliseconds delay,
                 RequestContext context)
        : records_(std::move(records)), truncated_(truncated), delay_(delay), context_(context) {}
    std::optional<DicomRecord> next() override {
        context_.throwIfCancelled();
        if (delay_.count()) context_.sleepFor(delay_);  // a slow search that stops with its context
        if (index_ >= records_.size()) return std::nullopt;
        return records_[index_++];
    }
    bool truncated() const override { return truncated_ && index_ >= records_.size(); }

private:
    std::vector<DicomRecord> records_;
    bool truncated_;
    std::chrono::milliseconds delay_;
    RequestContext context_;
    std::size_t index_ = 0;
};

class VectorStream : public InstanceStream {
public:
    VectorStream(FakeRetrieveService& owner, std::vector<DicomInstance> instances, RequestContext context)
        : owner_(owner),
          instances_(std::move(instances)),
          context_(context),
          readyAt_(std::chrono::steady_clock::now() + owner.delayBeforeFirst) {}
    Status next(DicomInstance& out, std::chrono::milliseconds wait) override {
        if (cancelled_ || context_.cancelled()) throw BridgeError(ErrorCode::Cancelled, "cancelled");
        if (owner_.requested.load() < static_cast<int>(index_) + 1) owner_.requested = static_cast<int>(index_) + 1;
        auto now = std::chrono::steady_clock::now();
        if (now < readyAt_) {
            // A slow download: wakes (throwing Cancelled) as soon as the context stops.
            context_.sleepFor(std::min<std::chrono::steady_clock::duration>(readyAt_ - now, wait));
            if (std::chrono::steady_clock::now() < readyAt_) return Status::Waiting;
        }
        if (index_ >= instances_.size()) return Status::End;
        out = instances_[index_++];
        ++owner_.delivered;
        readyAt_ = std::chrono::steady_clock::now() + owner_.delayBetween;
        return Status::Instance;
    }
    std::vector<std::string> failedSopInstanceUids() const override { return owner_.failUids; }
    std::size_t failedCount() const override { return owner_.failUids.size(); }
    std::string failureReason() const override {
        return owner_.failUids.empty() ? "" : "emulated download failure";
    }
    void cancel() override {
        cancelled_ = true;
        owner_.streamCancelled = true;
    }

private:
    FakeRetrieveService& owner_;
    std::vector<DicomInstance> instances_;
    RequestContext context_;
    std::chrono::steady_clock::time_point readyAt_;
    std::size_t index_ = 0;
    bool cancelled_ = false;
};

}  // namespace

DicomInstance makeCtInstance(const std::string& study, const std::string& series, const std::string& sop,
                             E_TransferSyntax xfer, const char* sopClassUid) {
    const char* sopClass = sopClassUid ? sopClassUid : UID_CTImageStorage;
    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, sopClass);
    ds->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
    ds->putAndInsertString(DCM_StudyInstanceUID, study.c_str());
    ds->putAndInsertString(DCM_SeriesInstanceUID, series.c_str());
    ds->putAndInsertString(DCM_PatientID, "FAKE-001");
    ds->putAndInsertString(DCM_PatientName, "FAKE^PATIENT");
    ds->putAndInsertString(DCM_Modality, "CT");
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_Rows, 16);
    ds->putAndInsertUint16(DCM_Columns, 16);
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 12);
    ds->putAndInsertUint16(DCM_HighBit, 11);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    std::vector<Uint16> pixels(256);
    std::size_t seed = std::hash<std::string>{}(sop);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<Uint16>((i * 7 + seed) % 4096);
    ds->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
    if (xfer != EXS_LittleEndianExplicit && xfer != EXS_LittleEndianImplicit) {
        static std::once_flag once;
        std::call_once(once, [] { DJEncoderRegistration::registerCodecs(); });
        DJ_RPLossless params;
        if (ds->chooseRepresentation(xfer, &params).bad() || !ds->canWriteXfer(xfer))
            throw std::runtime_error("cannot encode test instance");
    }
    TempDir dir;
    std::string path = dir.path() + "/i.dcm";
    if (file.saveFile(path.c_str(), xfer).bad()) throw std::runtime_error("cannot write test instance");
    std::ifstream in(path, std::ios::binary);
    auto bytes = std::make_shared<std::vector<std::uint8_t>>((std::istreambuf_iterator<char>(in)),
                                                             std::istreambuf_iterator<char>());
    DicomInstance inst;
    inst.studyInstanceUid = study;
    inst.seriesInstanceUid = series;
    inst.sopInstanceUid = sop;
    inst.sopClassUid = sopClass;
    inst.transferSyntaxUid = DcmXfer(xfer).getXferID();
    inst.bytes = bytes;
    return inst;
}

namespace {
std::vector<std::uint8_t> pixelsOf(DcmFileFormat& file) {
    DcmDataset* ds = file.getDataset();
    ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    const Uint8* data = nullptr;
    unsigned long count = 0;
    DcmElement* element = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, element).bad()) return {};
    Uint16* words = nullptr;
    if (element->getUint16Array(words).good() && words) {
        count = element->getLength();
        data = reinterpret_cast<const Uint8*>(words);
    }
    return data ? std::vector<std::uint8_t>(data, data + count) : std::vector<std::uint8_t>{};
}
}  // namespace

std::vector<std::uint8_t> pixelDataOfFile(const std::string& path) {
    DcmFileFormat file;
    if (file.loadFile(path.c_str()).bad()) return {};
    return pixelsOf(file);
}

std::vector<std::uint8_t> pixelDataOfInstance(const DicomInstance& instance) {
    DcmFileFormat file;
    DcmInputBufferStream in;
    in.setBuffer(instance.bytes->data(), static_cast<offile_off_t>(instance.bytes->size()));
    in.setEos();
    file.transferInit();
    file.read(in);
    file.transferEnd();
    return pixelsOf(file);
}

std::unique_ptr<FindCursor> FakeQueryService::find(const Query& query, const RequestContext& context) {
    {
        std::lock_guard<std::mutex> lock(mutex);
        lastQuery = query;
    }
    if (failWith) throw BridgeError(*failWith, "emulated query failure");
    return std::make_unique<VectorCursor>(records, truncate, delayPerRecord, context);
}

RetrievePlan FakeRetrieveService::plan(const RetrieveRequest& request, const RequestContext&) {
    {
        std::lock_guard<std::mutex> lock(mutex);
        lastRequest = request;
    }
    if (planFailsWith) throw BridgeError(*planFailsWith, "emulated plan failure");
    RetrievePlan plan;
    plan.instanceCount = instances.size() + failUids.size();
    SeriesLocator s;
    s.seriesInstanceUid = "1.2.3.4";
    plan.series.push_back(s);
    return plan;
}

std::unique_ptr<InstanceStream> FakeRetrieveService::open(const RetrievePlan&, const RequestContext& context) {
    return std::make_unique<VectorStream>(*this, instances, context);
}

namespace {
DcmDataset identifierOf(IdentifierKeys keys) {
    DcmDataset ds;
    for (const auto& [tag, value] : keys) ds.putAndInsertString(tag, value);
    return ds;
}
}  // namespace

OFList<QRResponse*> runFind(DcmSCU& scu, const char* sopClass, IdentifierKeys keys) {
    DcmDataset req = identifierOf(keys);
    OFList<QRResponse*> responses;
    BOOST_REQUIRE(scu.sendFINDRequest(scu.findPresentationContextID(sopClass, ""), &req, &responses).good());
    return responses;
}

OFList<RetrieveResponse*> runMove(DcmSCU& scu, const char* sopClass, const char* destination,
                                  IdentifierKeys keys) {
    DcmDataset req = identifierOf(keys);
    OFList<RetrieveResponse*> responses;
    BOOST_REQUIRE(
        scu.sendMOVERequest(scu.findPresentationContextID(sopClass, ""), destination, &req, &responses)
            .good());
    return responses;
}

OFList<RetrieveResponse*> runGet(DcmSCU& scu, const char* sopClass, IdentifierKeys keys) {
    DcmDataset req = identifierOf(keys);
    OFList<RetrieveResponse*> responses;
    BOOST_REQUIRE(scu.sendCGETRequest(scu.findPresentationContextID(sopClass, ""), &req, &responses).good());
    return responses;
}

StoreScpProcess::StoreScpProcess(const std::string& aeTitle, const std::string& outputDir,
                                 std::vector<std::string> extraArgs, bool nagle)
    : dir_(outputDir), port_(freePort()) {
    std::vector<std::string> args{"/usr/bin/storescp", "-aet", aeTitle, "-od", outputDir};
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    args.push_back(std::to_string(port_));
    pid_ = spawnProcess(args, {{"TCP_NODELAY", nagle ? "0" : "1"}});
    waitUntilListening(pid_, port_, std::chrono::seconds(10), "storescp");
}

StoreScpProcess::~StoreScpProcess() { stopProcess(pid_); }

std::vector<std::string> StoreScpProcess::files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_))
        if (e.is_regular_file()) out.push_back(e.path().string());
    return out;
}

OFCondition connectToBridge(DcmSCU& scu, unsigned short port, const char* sopClass, const char* called) {
    scu.setAETitle("PACS");
    scu.setPeerAETitle(called);
    scu.setPeerHostName("127.0.0.1");
    scu.setPeerPort(port);
    scu.setDIMSEBlockingMode(DIMSE_BLOCKING);
    scu.setDIMSETimeout(120);
    OFList<OFString> ts;
    ts.push_back(UID_LittleEndianExplicitTransferSyntax);
    scu.addPresentationContext(sopClass, ts);
    if (scu.initNetwork().bad()) return EC_IllegalCall;
    return scu.negotiateAssociation();
}

EmulatorDimseFixture::EmulatorDimseFixture(std::vector<std::string> emulatorArgs,
                                           const std::function<void(Config&)>& tweak)
    : emulator(std::move(emulatorArgs)) {
    config.tcia = faultRetrySettings(emulator);
    config.cache.directory = cache.path();
    config.dimse.aeTitle = "TCIA";
    config.dimse.port = 0;
    config.dimse.pendingInterval = std::chrono::seconds(1);
    config.dimse.peers["DEST"] = DicomPeer{"DEST", "127.0.0.1", dest.port()};
    if (tweak) tweak(config);
    services = makeBridgeServices(config);
    server = std::make_unique<dimse::DimseServer>(config.dimse, dimse::makeDimseDependencies(*services));
    server->start();
}

EmulatorDimseFixture::~EmulatorDimseFixture() {
    if (server) server->stop();
}

}  // namespace bridge::test
