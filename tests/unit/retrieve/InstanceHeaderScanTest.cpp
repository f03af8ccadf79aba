// scanInstanceHeader (tcia::scanPart10) against DCMTK: for every file the walk handles, its record
// is exactly readInstanceHeader()'s (DCMTK's full parse); for every file it does not handle it
// says so (nullopt) and peekInstanceHeader() still gives DCMTK's record.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrlo.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bridge/common/Error.h"
#include "bridge/retrieve/InstanceHeader.h"
#include "bridge/tcia/InstanceMetaReader.h"
#include "bridge/tcia/Part10Scan.h"
#include "tests/support/Part10Bytes.h"
#include "tests/support/RecordText.h"

using namespace bridge;

namespace {

/// A Part-10 file written by DCMTK: the usual CT header, changed by `edit`, in `xfer` with
/// `lengths` for sequences and items.
std::vector<std::uint8_t> writeFile(const std::function<void(DcmDataset&)>& edit,
                                    E_TransferSyntax xfer = EXS_LittleEndianExplicit,
                                    E_EncodingType lengths = EET_UndefinedLength) {
    DcmFileFormat file;
    DcmDataset& ds = *file.getDataset();
    ds.putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.10.999.3.1");
    ds.putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.10.999.1");
    ds.putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.10.999.2.11");
    ds.putAndInsertString(DCM_InstanceNumber, "17");
    ds.putAndInsertString(DCM_AcquisitionNumber, "3");
    ds.putAndInsertString(DCM_ContentDate, "20240131");
    ds.putAndInsertString(DCM_ContentTime, "101500.25");
    ds.putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
    ds.putAndInsertString(DCM_Modality, "CT");
    ds.putAndInsertString(DCM_PatientName, "Doe^Jane");
    ds.putAndInsertUint16(DCM_Rows, 8);
    ds.putAndInsertUint16(DCM_Columns, 4);
    ds.putAndInsertUint16(DCM_BitsAllocated, 16);
    ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    std::vector<Uint16> pixels(32, 0x1234);
    ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(), 32);
    edit(ds);
    return test::part10Bytes(file, xfer, lengths);
}

const auto show = test::recordText;

/// The walk handles the file and agrees with DCMTK's full parse, value for value.
void agreesWithDcmtk(const std::vector<std::uint8_t>& bytes, const std::string& what) {
    const DicomRecord dcmtk = readInstanceHeader(bytes.data(), bytes.size());
    const auto scanned = scanInstanceHeader(bytes.data(), bytes.size());
    BOOST_REQUIRE_MESSAGE(scanned.has_value(), what << ": not handled by the walk");
    BOOST_TEST(show(*scanned) == show(dcmtk), what);
    BOOST_TEST(show(peekInstanceHeader(bytes.data(), bytes.size())) == show(dcmtk), what);
}

/// The walk declines the file, and peekInstanceHeader still gives DCMTK's record.
void declinedButRead(const std::vector<std::uint8_t>& bytes, const std::string& what) {
    BOOST_TEST(!scanInstanceHeader(bytes.data(), bytes.size()).has_value(), what << ": should be declined");
    BOOST_TEST(show(peekInstanceHeader(bytes.data(), bytes.size())) ==
                   show(readInstanceHeader(bytes.data(), bytes.size())),
               what);
}


/// A Part-10 file written byte by byte, for what DCMTK's writer will not produce.
struct RawFile {
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(128, 0);
    bool explicitVr = true;
    RawFile() { bytes.insert(bytes.end(), {'D', 'I', 'C', 'M'}); }
    void put16(std::uint16_t v) { bytes.insert(bytes.end(), {std::uint8_t(v), std::uint8_t(v >> 8)}); }
    void put32(std::uint32_t v) {
        bytes.insert(bytes.end(), {std::uint8_t(v), std::uint8_t(v >> 8), std::uint8_t(v >> 16), std::uint8_t(v >> 24)});
    }
    /// One element; `vr` is ignored in Implicit VR (and for FFFE tags); length 0xFFFFFFFF = undefined.
    RawFile& el(std::uint32_t tag, const char* vr, const std::string& value, bool implicit = false,
                std::optional<std::uint32_t> length = std::nullopt) {
        put16(std::uint16_t(tag >> 16));
        put16(std::uint16_t(tag));
        const std::uint32_t len = length.value_or(static_cast<std::uint32_t>(value.size()));
        if (implicit || (tag >> 16) == 0xFFFE) {
            put32(len);
        } else {
            bytes.insert(bytes.end(), {std::uint8_t(vr[0]), std::uint8_t(vr[1])});
            const std::string v(vr, 2);
            if (v == "OB" || v == "OW" || v == "SQ" || v == "UN" || v == "UT") {
                put16(0);
                put32(len);
            } else {
                put16(std::uint16_t(len));
            }
        }
        bytes.insert(bytes.end(), value.begin(), value.end());
        return *this;
    }
    /// The meta group (Explicit VR LE) with `ts`, and the group length when asked (`groupLengthDelta` off by that much).
    RawFile& meta(const std::string& sop, const std::string& ts, std::optional<int> groupLengthDelta = std::nullopt) {
        RawFile body;
        body.bytes.clear();
        body.el(0x00020002, "UI", std::string(UID_CTImageStorage) + (std::strlen(UID_CTImageStorage) % 2 ? std::string(1, '\0') : ""));
        body.el(0x00020003, "UI", sop);
        body.el(0x00020010, "UI", ts);
        if (groupLengthDelta) {
            std::string v(4, '\0');
            const std::uint32_t n = static_cast<std::uint32_t>(static_cast<int>(body.bytes.size()) + *groupLengthDelta);
            for (int i = 0; i < 4; ++i) v[i] = char(n >> (8 * i));
            el(0x00020000, "UL", v);
        }
        bytes.insert(bytes.end(), body.bytes.begin(), body.bytes.end());
        return *this;
    }
};

const std::string kExplicit = std::string(UID_LittleEndianExplicitTransferSyntax) + std::string(1, '\0');

/// The usual header elements (explicit VR), up to but not including (0020,0013).
RawFile headerStart(const std::string& sop = "1.2.3.4 ") {
    RawFile f;
    f.meta("1.2.3.4\0", kExplicit);
    f.el(0x00080016, "UI", std::string(UID_CTImageStorage) + (std::strlen(UID_CTImageStorage) % 2 ? std::string(1, '\0') : ""));
    f.el(0x00080018, "UI", sop);
    return f;
}

RawFile& finish(RawFile& f) {
    f.el(0x00280010, "US", std::string("\x08\x00", 2));
    f.el(0x7FE00010, "OW", std::string(8, '\x01'));
    return f;
}

/// For any file: declined, or read exactly as DCMTK's full parse reads it (which must accept it).
void consistent(const std::vector<std::uint8_t>& bytes, const std::string& what) {
    const auto scanned = scanInstanceHeader(bytes.data(), bytes.size());
    if (!scanned) return;
    try {
        const std::string walk = show(*scanned), dcmtk = show(readInstanceHeader(bytes.data(), bytes.size()));
        BOOST_TEST(walk == dcmtk, what << ": walk " << walk << "| DCMTK " << dcmtk);
    } catch (const std::exception& e) {
        BOOST_ERROR(what << ": read by the walk, rejected by DCMTK: " << e.what());
    }
}

void declined(const std::vector<std::uint8_t>& bytes, const std::string& what) {
    BOOST_TEST(!scanInstanceHeader(bytes.data(), bytes.size()).has_value(), what << ": should be declined");
}

void addNestedSequence(DcmDataset& ds) {
    // (0008,1140) before the wanted tags of group 0020/0028, items with a nested sequence.
    DcmItem* item = nullptr;
    for (int i = 0; i < 2; ++i) {
        ds.findOrCreateSequenceItem(DCM_ReferencedImageSequence, item, -2);
        item->putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
        item->putAndInsertString(DCM_ReferencedSOPInstanceUID, ("1.2.3." + std::to_string(i)).c_str());
        DcmItem* inner = nullptr;
        item->findOrCreateSequenceItem(DCM_PurposeOfReferenceCodeSequence, inner, -2);
        inner->putAndInsertString(DCM_CodeValue, "121311");
        inner->putAndInsertString(DCM_CodeMeaning, "Localizer");
    }
    ds.insertEmptyElement(DCM_SourceImageSequence);  // an empty sequence too
}

}  // namespace

BOOST_AUTO_TEST_SUITE(InstanceHeaderScan)

BOOST_AUTO_TEST_CASE(explicit_and_implicit_little_endian_agree_with_dcmtk) {
    const auto none = [](DcmDataset&) {};
    agreesWithDcmtk(writeFile(none), "explicit VR LE");
    agreesWithDcmtk(writeFile(none, EXS_LittleEndianImplicit), "implicit VR LE");
}

BOOST_AUTO_TEST_CASE(sequences_of_undefined_and_defined_length_are_skipped) {
    agreesWithDcmtk(writeFile(addNestedSequence), "explicit, undefined-length sequences");
    agreesWithDcmtk(writeFile(addNestedSequence, EXS_LittleEndianExplicit, EET_ExplicitLength),
                    "explicit, defined-length sequences");
    agreesWithDcmtk(writeFile(addNestedSequence, EXS_LittleEndianImplicit), "implicit, undefined-length sequences");
    agreesWithDcmtk(writeFile(addNestedSequence, EXS_LittleEndianImplicit, EET_ExplicitLength),
                    "implicit, defined-length sequences");
}

BOOST_AUTO_TEST_CASE(padding_empty_values_and_multiple_values_come_out_as_dcmtk_gives_them) {
    agreesWithDcmtk(writeFile([](DcmDataset& ds) {
                        ds.putAndInsertString(DCM_InstanceNumber, " 7 ");
                        ds.putAndInsertString(DCM_AcquisitionNumber, "  12");
                        ds.putAndInsertString(DCM_ImageType, " ORIGINAL \\PRIMARY\\\\AXIAL  ");
                        ds.putAndInsertString(DCM_ContentDate, "");  // zero length: present, empty
                        ds.putAndInsertString(DCM_ContentTime, "1015 ");
                        ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.45");  // odd: NUL-padded
                        ds.putAndInsertString(DCM_PhotometricInterpretation, "RGB");
                        ds.putAndInsertString(DCM_NumberOfFrames, "1");
                        const Uint16 two[] = {1, 65535};
                        ds.putAndInsertUint16Array(DCM_SamplesPerPixel, two, 2);  // VM 2: joined by '\'
                        ds.findAndDeleteElement(DCM_AcquisitionNumber);           // and one absent
                    }),
                    "padding, empty, absent, multi-valued");
    agreesWithDcmtk(writeFile([](DcmDataset& ds) { ds.putAndInsertString(DCM_ImageType, "   "); }),
                    "a value of spaces only");
}

BOOST_AUTO_TEST_CASE(an_encapsulated_syntax_reads_its_explicit_little_endian_dataset) {
    // RLE Lossless has the same UID length as Explicit VR LE: the meta group keeps its length.
    auto bytes = writeFile([](DcmDataset&) {});
    const std::string from = "1.2.840.10008.1.2.1", to = "1.2.840.10008.1.2.5";
    auto at = std::search(bytes.begin(), bytes.begin() + 400, from.begin(), from.end());
    BOOST_REQUIRE(at != bytes.begin() + 400);
    std::copy(to.begin(), to.end(), at);
    const auto scanned = scanInstanceHeader(bytes.data(), bytes.size());
    BOOST_REQUIRE(scanned.has_value());
    BOOST_TEST(scanned->get(DCM_TransferSyntaxUID) == to);
    BOOST_TEST(scanned->get(DCM_InstanceNumber) == "17");
    BOOST_TEST(scanned->get(DCM_Rows) == "8");
}

BOOST_AUTO_TEST_CASE(files_the_walk_does_not_handle_are_left_to_dcmtk) {
    declinedButRead(writeFile([](DcmDataset&) {}, EXS_BigEndianExplicit), "big endian");
    declinedButRead(writeFile([](DcmDataset& ds) {
                        // InstanceNumber carried as LO: DCMTK reads it by the file's VR
                        ds.findAndDeleteElement(DCM_InstanceNumber);
                        auto* lo = new DcmLongString(DcmTag(DCM_InstanceNumber, EVR_LO));
                        lo->putString(" 0042");
                        ds.insert(lo, true);
                    }),
                    "a wanted tag with another VR");
    // Not DICOM at all, a truncated header, and a header without SOP Instance UID.
    std::vector<std::uint8_t> junk(300, 'x');
    BOOST_TEST(!scanInstanceHeader(junk.data(), junk.size()).has_value());
    BOOST_CHECK_THROW(peekInstanceHeader(junk.data(), junk.size()), BridgeError);
    const auto whole = writeFile([](DcmDataset&) {});
    for (std::size_t cut : {std::size_t(140), std::size_t(200), whole.size() / 2}) {
        std::vector<std::uint8_t> part(whole.begin(), whole.begin() + static_cast<long>(cut));
        const auto scanned = scanInstanceHeader(part.data(), part.size());
        // Either declined, or (cut after the last wanted tag) the very record of the whole file.
        if (scanned) BOOST_TEST(show(*scanned) == show(readInstanceHeader(whole.data(), whole.size())));
    }
    const auto noSop = writeFile([](DcmDataset& ds) { ds.findAndDeleteElement(DCM_SOPInstanceUID); });
    BOOST_TEST(!scanInstanceHeader(noSop.data(), noSop.size()).has_value());
}

BOOST_AUTO_TEST_CASE(hand_written_files_are_read_as_dcmtk_reads_them_or_declined) {
    {  // spaces anywhere in a UID: DCMTK drops them (input correction); the walk too
        RawFile f = headerStart(" 1.2. 34 ");
        f.el(0x00200013, "IS", "7 ");
        finish(f);
        const auto r = scanInstanceHeader(f.bytes.data(), f.bytes.size());
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->get(DCM_SOPInstanceUID) == "1.2.34");
        consistent(f.bytes, "UID with spaces");
        RawFile m;
        m.meta("1.2.3 ", std::string(UID_LittleEndianExplicitTransferSyntax) + " ");
        m.el(0x00080018, "UI", "1.2.3 ");
        finish(m);
        const auto uids = tcia::InstanceMetaReader::read(m.bytes.data(), m.bytes.size());
        BOOST_REQUIRE(uids.has_value());
        BOOST_TEST(uids->sopInstanceUid == "1.2.3");
        BOOST_TEST(uids->transferSyntaxUid == UID_LittleEndianExplicitTransferSyntax);
        consistent(m.bytes, "meta UIDs with a space");
    }
    {  // an embedded NUL: the stored value ends there (as DCMTK's c_str())
        RawFile f;
        f.meta("1.2.3.4\0", kExplicit);
        f.el(0x00080008, "CS", std::string("ORIGINAL\\PRIMARY\0\0", 18));
        f.el(0x00080018, "UI", "1.2.3.4\0");
        f.el(0x00200013, "IS", std::string("5\0", 2));
        finish(f);
        const auto r = scanInstanceHeader(f.bytes.data(), f.bytes.size());
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->get(DCM_InstanceNumber) == "5");
        consistent(f.bytes, "embedded NULs");
    }
    {  // odd-length strings: DCMTK pads them with a NUL first; declined
        RawFile f = headerStart();
        f.el(0x00200013, "IS", "12 ");
        finish(f);
        declined(f.bytes, "odd-length IS");
        consistent(f.bytes, "odd-length IS");
    }
    {  // a wanted tag twice (DCMTK keeps the first), and tags out of order (DCMTK sorts)
        RawFile twice = headerStart();
        twice.el(0x00200013, "IS", "7 ").el(0x00200013, "IS", "8 ");
        finish(twice);
        declined(twice.bytes, "a tag twice");
        RawFile order;
        order.meta("1.2.3.4\0", kExplicit);
        order.el(0x00080018, "UI", "1.2.3.4\0").el(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.2\0");
        finish(order);
        declined(order.bytes, "out of order");
        consistent(order.bytes, "out of order");
    }
    {  // a defined-length sequence whose item runs past its end: DCMTK reads the item whole
        RawFile f = headerStart();
        RawFile item;
        item.bytes.clear();
        item.el(0x00200013, "IS", "99");
        std::string inner(item.bytes.begin(), item.bytes.end());
        RawFile seq;
        seq.bytes.clear();
        seq.el(0xFFFEE000, "", inner);
        const std::string items(seq.bytes.begin(), seq.bytes.end());
        f.el(0x00081140, "SQ", items.substr(0, 8), false, 8);  // length 8: the item header alone
        f.bytes.insert(f.bytes.end(), items.begin() + 8, items.end());
        finish(f);
        declined(f.bytes, "item past its sequence");
        consistent(f.bytes, "item past its sequence");
        // ... and a well-formed defined-length sequence of the same item is read
        RawFile g = headerStart();
        g.el(0x00081140, "SQ", items);
        g.el(0x00200013, "IS", "3 ");
        finish(g);
        BOOST_TEST(scanInstanceHeader(g.bytes.data(), g.bytes.size()).has_value());
        consistent(g.bytes, "defined-length sequence");
    }
    {  // an item delimiter at the top level; OB and UT of undefined length: errors for DCMTK
        RawFile f = headerStart();
        f.el(0xFFFEE0DD, "", "");
        finish(f);
        declined(f.bytes, "top-level delimiter");
        RawFile ob = headerStart();
        ob.el(0x00091010, "OB", "", false, 0xFFFFFFFFu);
        ob.el(0xFFFEE0DD, "", "");
        finish(ob);
        declined(ob.bytes, "OB of undefined length");
        consistent(ob.bytes, "OB of undefined length");
    }
    {  // JPIP Referenced Deflate is compressed: declined
        RawFile f;
        f.meta("1.2.3.4\0", "1.2.840.10008.1.2.4.95");
        f.el(0x00080018, "UI", "1.2.3.4\0");
        finish(f);
        declined(f.bytes, "JPIP deflate");
    }
    {  // (0002,0000): honoured exactly, else declined
        for (int delta : {0, 8, -8}) {
            RawFile f;
            f.meta("1.2.3.4\0", kExplicit, delta);
            f.el(0x00080008, "CS", "ORIGINAL").el(0x00080018, "UI", "1.2.3.4\0");
            finish(f);
            const auto r = scanInstanceHeader(f.bytes.data(), f.bytes.size());
            BOOST_TEST(r.has_value() == (delta == 0), "group length off by " << delta);
            consistent(f.bytes, "group length off by " + std::to_string(delta));
        }
    }
}

BOOST_AUTO_TEST_CASE(damaged_files_are_declined_or_read_never_past_their_end) {
    // Random damage: flipped bytes anywhere and cuts at any length. The walk must stay inside the
    // buffer (the ASan ring runs this), and whatever it returns carries a SOP Instance UID.
    // Damage to the pixel data alone (after every wanted tag) changes nothing.
    const auto whole = writeFile(addNestedSequence);
    const auto before = scanInstanceHeader(whole.data(), whole.size());
    BOOST_REQUIRE(before.has_value());
    const std::uint8_t pixelTag[] = {0xE0, 0x7F, 0x10, 0x00};
    const auto pixel = std::search(whole.begin(), whole.end(), std::begin(pixelTag), std::end(pixelTag));
    BOOST_REQUIRE(pixel != whole.end());
    const std::size_t pixelAt = static_cast<std::size_t>(pixel - whole.begin());
    std::uint32_t seed = 12345;
    const auto random = [&](std::size_t bound) {
        seed = seed * 1664525u + 1013904223u;
        return static_cast<std::size_t>((seed >> 8) % bound);
    };
    std::size_t declined = 0, read = 0;
    for (int round = 0; round < 3000; ++round) {
        std::vector<std::uint8_t> bytes = whole;
        for (int k = 0, n = 1 + static_cast<int>(random(4)); k < n; ++k)
            bytes[132 + random(pixelAt - 132)] = static_cast<std::uint8_t>(random(256));
        const bool cut = round % 2 == 1;  // odd rounds also cut the file short
        if (cut) bytes.resize(132 + random(bytes.size() - 131));
        // An exact-size copy, so that ASan sees a read past the end.
        const auto copy = std::make_unique<std::uint8_t[]>(bytes.size());
        std::memcpy(copy.get(), bytes.data(), bytes.size());
        const auto record = scanInstanceHeader(copy.get(), bytes.size());
        (void)tcia::InstanceMetaReader::read(copy.get(), bytes.size());
        if (!record) {
            ++declined;
            continue;
        }
        ++read;
        BOOST_TEST(!record->get(DCM_SOPInstanceUID).empty());
        // A whole-length file: as DCMTK's full read. A cut one: peekInstanceHeader's contract
        // (the header, not the file, is proven) -- only the header part must agree.
        if (!cut) consistent(bytes, "damage round " + std::to_string(round));
    }
    BOOST_TEST(declined > 0u);
    BOOST_TEST(read > 0u);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::uint8_t> bytes = whole;
        bytes[pixelAt + 12 + random(bytes.size() - pixelAt - 12)] ^= 0xFF;
        const auto record = scanInstanceHeader(bytes.data(), bytes.size());
        BOOST_REQUIRE(record.has_value());
        BOOST_TEST(show(*record) == show(*before));
    }
}

BOOST_AUTO_TEST_CASE(the_meta_reader_takes_the_uids_from_the_walk) {
    const auto odd = writeFile([](DcmDataset& ds) { ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.45"); },
                               EXS_LittleEndianImplicit);
    const auto uids = tcia::InstanceMetaReader::read(odd.data(), odd.size());
    BOOST_REQUIRE(uids.has_value());
    BOOST_TEST(uids->sopInstanceUid == "1.2.3.45");  // NUL padding dropped
    BOOST_TEST(uids->sopClassUid == UID_CTImageStorage);
    BOOST_TEST(uids->transferSyntaxUid == UID_LittleEndianImplicitTransferSyntax);
    BOOST_TEST(tcia::scanPart10(odd.data(), odd.size(), {}, true)->mediaSopInstanceUid == "1.2.3.45");
}

BOOST_AUTO_TEST_SUITE_END()
