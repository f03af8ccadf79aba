#include "bridge/common/Error.h"
#include "web/ImageRenderer.h"
#include "web/InstanceCodec.h"
#include "tests/support/Part10Bytes.h"

#include <boost/test/unit_test.hpp>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcuid.h>

using namespace bridge;
using namespace bridge::web;

namespace {

constexpr int kRows = 16, kColumns = 20, kFrames = 3;

Uint16 pixelValue(int frame, int y, int x) { return static_cast<Uint16>(frame * 1000 + y * kColumns + x); }

// A small 16-bit MONOCHROME2 multi-frame image as Part-10 bytes in `xfer`.
std::vector<std::uint8_t> makeInstance(E_TransferSyntax xfer) {
    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.10.1.1");
    ds->putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.10.1.2");
    ds->putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.10.1.3");
    ds->putAndInsertString(DCM_Modality, "OT");
    ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds->putAndInsertUint16(DCM_Rows, kRows);
    ds->putAndInsertUint16(DCM_Columns, kColumns);
    ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    ds->putAndInsertUint16(DCM_BitsStored, 16);
    ds->putAndInsertUint16(DCM_HighBit, 15);
    ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(kFrames).c_str());
    std::vector<Uint16> pixels;
    for (int f = 0; f < kFrames; ++f)
        for (int y = 0; y < kRows; ++y)
            for (int x = 0; x < kColumns; ++x) pixels.push_back(pixelValue(f, y, x));
    ds->putAndInsertUint16Array(DCM_PixelData, pixels.data(), pixels.size());
    if (xfer != EXS_LittleEndianExplicit) {
        DcmRLEEncoderRegistration::registerCodecs();
        BOOST_REQUIRE(ds->chooseRepresentation(xfer, nullptr).good());
    }
    return test::part10Bytes(file, xfer);
}

void checkFrame(const FrameData& f, int frame) {
    BOOST_REQUIRE_EQUAL(f.bytes.size(), static_cast<std::size_t>(kRows * kColumns * 2));
    const auto* p = reinterpret_cast<const Uint16*>(f.bytes.data());
    BOOST_TEST(p[0] == pixelValue(frame, 0, 0));
    BOOST_TEST(p[kRows * kColumns - 1] == pixelValue(frame, kRows - 1, kColumns - 1));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(InstanceCodecTest)

BOOST_AUTO_TEST_CASE(native_frames) {
    auto bytes = makeInstance(EXS_LittleEndianExplicit);
    auto file = parseInstance(bytes);
    BOOST_TEST(frameCount(*file) == kFrames);
    BOOST_TEST(transferSyntaxOf(*file) == "1.2.840.10008.1.2.1");
    for (int f = 1; f <= kFrames; ++f) checkFrame(uncompressedFrame(*file, f), f - 1);
    BOOST_TEST(!compressedFrame(*file, 1));
    BOOST_CHECK_THROW(uncompressedFrame(*file, kFrames + 1), BridgeError);
}

BOOST_AUTO_TEST_CASE(rle_frames_passthrough_and_decoded) {
    auto bytes = makeInstance(EXS_RLELossless);
    auto file = parseInstance(bytes);
    BOOST_TEST(transferSyntaxOf(*file) == "1.2.840.10008.1.2.5");
    auto compressed = compressedFrame(*file, 2);
    BOOST_REQUIRE(compressed);
    BOOST_TEST(compressed->mediaType == "image/dicom-rle");
    BOOST_TEST(compressed->bytes.size() > 64u);  // RLE header is 64 bytes
    checkFrame(uncompressedFrame(*file, 2), 1);
    checkFrame(uncompressedFrame(*file, 3), 2);
}

BOOST_AUTO_TEST_CASE(transcode_to_explicit_little_endian) {
    auto rle = makeInstance(EXS_RLELossless);
    auto native = transcodeInstance(rle, "1.2.840.10008.1.2.1");
    auto file = parseInstance(native);
    BOOST_TEST(transferSyntaxOf(*file) == "1.2.840.10008.1.2.1");
    checkFrame(uncompressedFrame(*file, 3), 2);
    BOOST_CHECK_THROW(transcodeInstance(rle, "1.2.840.10008.1.2.4.80"), BridgeError);
    BOOST_CHECK_THROW(parseInstance(std::vector<std::uint8_t>{1, 2, 3}), BridgeError);
}

BOOST_AUTO_TEST_CASE(bulk_pixel_data_is_all_frames) {
    auto file = parseInstance(makeInstance(EXS_RLELossless));
    auto all = bulkDataValue(*file, DCM_PixelData);
    BOOST_TEST(all.size() == static_cast<std::size_t>(kFrames * kRows * kColumns * 2));
    BOOST_CHECK_THROW(bulkDataValue(*file, DCM_EncapsulatedDocument), BridgeError);
}

BOOST_AUTO_TEST_CASE(render_jpeg_and_png) {
    auto file = parseInstance(makeInstance(EXS_RLELossless));
    RenderOptions jpeg;
    jpeg.frameNumber = 2;
    auto j = renderFrame(*file, jpeg);
    BOOST_REQUIRE(j.size() > 4u);
    BOOST_TEST(j[0] == 0xFF);
    BOOST_TEST(j[1] == 0xD8);  // JPEG SOI
    RenderOptions png;
    png.mediaType = "image/png";
    parseRenderParameters({{"viewport", "40,40"}, {"window", "1100,400,linear"}}, png);
    BOOST_TEST(png.viewportWidth == 40);
    BOOST_TEST(png.window->first == 1100.0);
    auto p = renderFrame(*file, png);
    BOOST_REQUIRE(p.size() > 24u);
    BOOST_TEST(p[1] == 'P');
    // PNG IHDR width/height (big-endian at 16..23): 20x16 scaled into 40x40 keeps the aspect -> 40x32.
    BOOST_TEST(((p[16] << 24) | (p[17] << 16) | (p[18] << 8) | p[19]) == 40);
    BOOST_TEST(((p[20] << 24) | (p[21] << 16) | (p[22] << 8) | p[23]) == 32);
    RenderOptions bad;
    bad.frameNumber = 9;
    BOOST_CHECK_THROW(renderFrame(*file, bad), BridgeError);
    BOOST_CHECK_THROW(parseRenderParameters({{"viewport", "0,10"}}, bad), BridgeError);
    BOOST_CHECK_THROW(parseRenderParameters({{"quality", "101"}}, bad), BridgeError);
}

BOOST_AUTO_TEST_SUITE_END()
