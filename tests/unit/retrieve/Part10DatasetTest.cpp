// parsePart10 (bridge/retrieve/Part10Dataset): the one full DCMTK parse both faces use. A file
// DCMTK wrote comes back whole and stays readable after its buffer is gone; an RLE file decodes
// (the decoders are registered by the parse itself); an empty or damaged buffer is refused with
// UpstreamBadResponse naming the instance.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "bridge/common/Error.h"
#include "bridge/retrieve/Part10Dataset.h"
#include "tests/support/Part10Bytes.h"

using namespace bridge;

namespace {

/// A small CT file written by DCMTK in `xfer` (RLE: encoded with DCMTK's RLE encoder).
std::vector<std::uint8_t> ctFile(E_TransferSyntax xfer) {
    DcmRLEEncoderRegistration::registerCodecs();
    DcmFileFormat file;
    DcmDataset& ds = *file.getDataset();
    ds.putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.10.999.3.7");
    ds.putAndInsertString(DCM_PatientName, "Doe^Jane");
    ds.putAndInsertUint16(DCM_Rows, 4);
    ds.putAndInsertUint16(DCM_Columns, 4);
    ds.putAndInsertUint16(DCM_BitsAllocated, 16);
    ds.putAndInsertUint16(DCM_BitsStored, 16);
    ds.putAndInsertUint16(DCM_HighBit, 15);
    ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
    ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    std::vector<Uint16> pixels(16);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<Uint16>(1000 + i);
    ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(), 16);
    BOOST_REQUIRE(ds.chooseRepresentation(xfer, nullptr).good());
    return test::part10Bytes(file, xfer);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(Part10Dataset)

BOOST_AUTO_TEST_CASE(a_file_comes_back_whole_and_outlives_its_buffer) {
    std::unique_ptr<DcmFileFormat> file;
    {
        std::vector<std::uint8_t> bytes = ctFile(EXS_LittleEndianExplicit);
        file = parsePart10(bytes.data(), bytes.size(), "1.2.826.0.1.3680043.10.999.3.7");
        std::fill(bytes.begin(), bytes.end(), 0);  // the dataset must not read the buffer any more
    }
    OFString name;
    BOOST_REQUIRE(file->getDataset()->findAndGetOFString(DCM_PatientName, name).good());
    BOOST_TEST(name == "Doe^Jane");
    const Uint16* pixels = nullptr;
    BOOST_REQUIRE(file->getDataset()->findAndGetUint16Array(DCM_PixelData, pixels).good());
    BOOST_TEST(pixels[15] == 1015);
}

BOOST_AUTO_TEST_CASE(an_rle_file_decodes_without_registering_anything_first) {
    const std::vector<std::uint8_t> bytes = ctFile(EXS_RLELossless);
    auto file = parsePart10(bytes.data(), bytes.size(), "rle");
    DcmDataset* ds = file->getDataset();
    BOOST_TEST(DcmXfer(ds->getOriginalXfer()).getXfer() == EXS_RLELossless);
    BOOST_REQUIRE(ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).good());
    const Uint16* pixels = nullptr;
    BOOST_REQUIRE(ds->findAndGetUint16Array(DCM_PixelData, pixels).good());
    BOOST_TEST(pixels[3] == 1003);
}

BOOST_AUTO_TEST_CASE(an_empty_or_damaged_buffer_is_refused_naming_the_instance) {
    const auto refused = [](const std::vector<std::uint8_t>& bytes) {
        try {
            parsePart10(bytes.data(), bytes.size(), "1.2.3.4.5");
        } catch (const BridgeError& e) {
            BOOST_TEST((e.code() == ErrorCode::UpstreamBadResponse));
            return std::string(e.what()).find("1.2.3.4.5") != std::string::npos;
        }
        return false;
    };
    BOOST_TEST(refused({}));
    std::vector<std::uint8_t> cut = ctFile(EXS_LittleEndianExplicit);
    cut.resize(cut.size() / 2);  // Pixel Data cut short
    BOOST_TEST(refused(cut));
}

BOOST_AUTO_TEST_SUITE_END()
