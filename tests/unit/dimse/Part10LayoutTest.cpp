// locatePart10Dataset: the dataset offset and transfer syntax of Part-10 buffers, checked against
// what DCMTK writes (for every syntax the emulator serves) and against damaged buffers.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <boost/test/unit_test.hpp>
#include <vector>

#include "dimse/Part10Layout.h"
#include "tests/support/Part10Bytes.h"

using namespace bridge::dimse;

namespace {

/// A small Part-10 file written by DCMTK in `xfer`; `metaLength` gets the meta header's size.
std::vector<std::uint8_t> part10(E_TransferSyntax xfer, std::size_t& metaLength) {
    DcmFileFormat file;
    DcmDataset* ds = file.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4");
    ds->putAndInsertString(DCM_PatientName, "DOE^JANE");
    ds->putAndInsertUint16(DCM_Rows, 2);
    std::vector<std::uint8_t> out = bridge::test::part10Bytes(file, xfer);
    // 128 preamble + "DICM" + the meta header's own length (group length value + its 12 bytes)
    Uint32 groupLength = 0;
    BOOST_REQUIRE(file.getMetaInfo()->findAndGetUint32(DCM_FileMetaInformationGroupLength, groupLength).good());
    metaLength = 132 + 12 + groupLength;
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(Part10LayoutSuite)

BOOST_AUTO_TEST_CASE(dataset_offset_and_syntax_of_dcmtk_files) {
    const E_TransferSyntax syntaxes[] = {EXS_LittleEndianExplicit, EXS_LittleEndianImplicit, EXS_BigEndianExplicit};
    for (E_TransferSyntax xfer : syntaxes) {
        std::size_t metaLength = 0;
        const auto bytes = part10(xfer, metaLength);
        const auto layout = locatePart10Dataset(bytes.data(), bytes.size());
        BOOST_REQUIRE_MESSAGE(layout, DcmXfer(xfer).getXferName());
        BOOST_TEST(layout->datasetOffset == metaLength);
        BOOST_TEST(layout->transferSyntaxUid == DcmXfer(xfer).getXferID());  // NUL padding removed
    }
}

BOOST_AUTO_TEST_CASE(damaged_or_foreign_buffers_are_refused) {
    std::size_t metaLength = 0;
    const auto good = part10(EXS_LittleEndianExplicit, metaLength);
    struct Row {
        const char* what;
        std::vector<std::uint8_t> bytes;
    };
    std::vector<Row> rows;
    rows.push_back({"empty", {}});
    rows.push_back({"preamble only", std::vector<std::uint8_t>(good.begin(), good.begin() + 128)});
    auto noMagic = good;
    noMagic[129] = 'X';
    rows.push_back({"no DICM", noMagic});
    rows.push_back({"meta header only", std::vector<std::uint8_t>(good.begin(), good.begin() + metaLength)});
    rows.push_back({"cut inside the meta header", std::vector<std::uint8_t>(good.begin(), good.begin() + 150)});
    auto hugeLength = good;
    // (0002,0001) OB: 2 reserved bytes then a 4-byte length; make it run past the end.
    for (std::size_t i = 132; i + 12 < hugeLength.size(); ++i) {
        if (hugeLength[i] == 0x02 && hugeLength[i + 1] == 0x00 && hugeLength[i + 2] == 0x01 &&
            hugeLength[i + 3] == 0x00 && hugeLength[i + 4] == 'O' && hugeLength[i + 5] == 'B') {
            hugeLength[i + 8] = hugeLength[i + 9] = hugeLength[i + 10] = 0xFF;
            hugeLength[i + 11] = 0x7F;
            break;
        }
    }
    rows.push_back({"length past the end", hugeLength});
    for (const auto& row : rows)
        BOOST_TEST(!locatePart10Dataset(row.bytes.data(), row.bytes.size()).has_value(), row.what);
    BOOST_TEST(!locatePart10Dataset(nullptr, 0).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
