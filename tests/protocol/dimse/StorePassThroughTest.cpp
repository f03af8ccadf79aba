// The C-STORE pass-through (issue 11 item 3): a cached instance whose stored transfer syntax the
// destination accepted leaves byte for byte as stored -- checked against a real storescp in
// bit-preserving mode (+B writes the received dataset as it came off the wire) -- and an
// instance whose syntax the destination refuses is still transcoded.
//
// The instances carry a sequence of UNDEFINED length: DCMTK's own send path (parse, then
// DIMSE_storeUser) re-encodes sequences with explicit lengths, so these tests fail when the
// dataset is re-encoded instead of passed through.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpls/djencode.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <iterator>
#include <mutex>

#include "bridge/retrieve/Part10Dataset.h"
#include "dimse/CStoreSender.h"
#include "dimse/MoveDestination.h"
#include "dimse/Part10Layout.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;

namespace {

std::vector<std::uint8_t> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A small CT instance in `xfer` with an undefined-length sequence, as Part-10 bytes.
DicomInstance instanceIn(E_TransferSyntax xfer, const std::string& sop) {
    static std::once_flag once;
    std::call_once(once, [] {
        DJEncoderRegistration::registerCodecs();
        DJLSEncoderRegistration::registerCodecs();
        DcmRLEEncoderRegistration::registerCodecs();
        registerDicomDecoders();
    });
    DicomInstance inst = makeCtInstance("1.2.11.3", "1.2.11.3.1", sop, EXS_LittleEndianExplicit);
    DcmFileFormat file;
    DcmInputBufferStream in;
    in.setBuffer(inst.bytes->data(), static_cast<offile_off_t>(inst.bytes->size()));
    in.setEos();
    file.transferInit();
    BOOST_REQUIRE(file.read(in).good());
    file.transferEnd();
    file.loadAllDataIntoMemory();
    DcmDataset* ds = file.getDataset();
    DcmItem* item = nullptr;
    BOOST_REQUIRE(ds->findOrCreateSequenceItem(DCM_ReferencedImageSequence, item, -2).good());
    item->putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.11.3.1.999");
    if (xfer != EXS_LittleEndianExplicit && xfer != EXS_LittleEndianImplicit) {
        BOOST_REQUIRE(ds->chooseRepresentation(xfer, nullptr).good());
        BOOST_REQUIRE(ds->canWriteXfer(xfer));
    }
    TempDir dir;
    const std::string path = dir.path() + "/i.dcm";
    BOOST_REQUIRE(file.saveFile(path.c_str(), xfer, EET_UndefinedLength).good());
    inst.bytes = std::make_shared<std::vector<std::uint8_t>>(readFile(path));
    inst.transferSyntaxUid = DcmXfer(xfer).getXferID();
    return inst;
}

/// The bytes after the Part-10 meta header (and the syntax it names).
std::pair<std::vector<std::uint8_t>, std::string> datasetPart(const std::vector<std::uint8_t>& bytes) {
    auto layout = dimse::locatePart10Dataset(bytes.data(), bytes.size());
    BOOST_REQUIRE(layout);
    return {std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(layout->datasetOffset), bytes.end()),
            layout->transferSyntaxUid};
}

dimse::MoveDestination destinationFor(const StoreScpProcess& scp) {
    dimse::MoveDestination::Options options;
    options.callingAet = "TCIA";
    return dimse::MoveDestination(DicomPeer{"DEST", "127.0.0.1", scp.port()}, options,
                                  dimse::MoveOriginator{"REQUESTER", 7});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(StorePassThroughSuite)

BOOST_AUTO_TEST_CASE(accepted_stored_syntax_is_sent_byte_for_byte) {
    const E_TransferSyntax syntaxes[] = {EXS_LittleEndianExplicit, EXS_LittleEndianImplicit,
                                         EXS_JPEGProcess14SV1, EXS_JPEGLSLossless, EXS_RLELossless};
    TempDir dir;
    StoreScpProcess scp("DEST", dir.path(), {"+xa", "+B"});
    auto destination = destinationFor(scp);
    int n = 0;
    for (E_TransferSyntax xfer : syntaxes) {
        const std::string name = DcmXfer(xfer).getXferName();
        const DicomInstance inst = instanceIn(xfer, "1.2.11.3.1." + std::to_string(++n));
        auto r = destination.store(inst);
        BOOST_TEST_REQUIRE((r.outcome == dimse::StoreTarget::Outcome::Success), name << ": " << r.reason);
        BOOST_REQUIRE(!destination.broken());
        std::vector<std::uint8_t> received;
        for (const auto& f : scp.files())
            if (f.find(inst.sopInstanceUid) != std::string::npos) received = readFile(f);
        BOOST_TEST_REQUIRE(!received.empty(), name << ": storescp wrote no file for " << inst.sopInstanceUid);
        const auto sent = datasetPart(*inst.bytes);
        const auto got = datasetPart(received);
        BOOST_TEST(got.second == inst.transferSyntaxUid, name);
        BOOST_TEST((got.first == sent.first), name << ": dataset differs (" << got.first.size() << " vs "
                                                   << sent.first.size() << " bytes)");
    }
}

BOOST_AUTO_TEST_CASE(refused_stored_syntax_is_transcoded) {
    // storescp +xi takes Implicit VR Little Endian only: the Explicit VR and the compressed
    // instances must be re-encoded (and decoded) for it, never sent as stored.
    const E_TransferSyntax syntaxes[] = {EXS_LittleEndianExplicit, EXS_JPEGProcess14SV1, EXS_JPEGLSLossless};
    TempDir dir;
    StoreScpProcess scp("DEST", dir.path(), {"+xi"});
    auto destination = destinationFor(scp);
    int n = 0;
    for (E_TransferSyntax xfer : syntaxes) {
        const std::string name = DcmXfer(xfer).getXferName();
        const DicomInstance inst = instanceIn(xfer, "1.2.11.3.2." + std::to_string(++n));
        auto r = destination.store(inst);
        BOOST_TEST_REQUIRE((r.outcome == dimse::StoreTarget::Outcome::Success), name << ": " << r.reason);
        std::string path;
        for (const auto& f : scp.files())
            if (f.find(inst.sopInstanceUid) != std::string::npos) path = f;
        BOOST_TEST_REQUIRE(!path.empty(), name);
        DcmFileFormat file;
        BOOST_REQUIRE(file.loadFile(path.c_str()).good());
        BOOST_TEST(file.getDataset()->getOriginalXfer() == EXS_LittleEndianImplicit, name);
        BOOST_TEST((pixelDataOfFile(path) == pixelDataOfInstance(inst)), name << ": pixel data differs");
    }
}

BOOST_AUTO_TEST_SUITE_END()
