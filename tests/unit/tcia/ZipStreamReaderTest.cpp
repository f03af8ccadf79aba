// ZipStreamReader + InstanceMetaReader on ZIPs built in memory the way TCIA writes them:
// streamed entries with data descriptors (libarchive's writer sets flag bit 3 when an entry's size
// is unknown, like java.util.zip.ZipOutputStream), DEFLATE, LICENSE first, md5hashes.csv last.
#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>
#include <Poco/TemporaryFile.h>
#include <archive.h>
#include <archive_entry.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "bridge/common/Error.h"
#include "bridge/tcia/InstanceMetaReader.h"
#include "bridge/tcia/ZipStreamReader.h"

using namespace bridge;
using namespace bridge::tcia;

namespace {

std::vector<std::uint8_t> makeDicom(const std::string& sopInstanceUid,
                                    E_TransferSyntax xfer = EXS_LittleEndianExplicit, bool withMeta = true,
                                    std::size_t pixelBytes = 4096) {
    DcmFileFormat ff;
    DcmDataset* ds = ff.getDataset();
    ds->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ds->putAndInsertString(DCM_SOPInstanceUID, sopInstanceUid.c_str());
    ds->putAndInsertString(DCM_PatientID, "P1");
    ds->putAndInsertUint16(DCM_Rows, 32);
    ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(pixelBytes / 64));
    std::vector<Uint16> pixels(pixelBytes / 2);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<Uint16>(i * 7);
    ds->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
    Poco::TemporaryFile tmp;
    OFCondition c = withMeta ? ff.saveFile(tmp.path().c_str(), xfer) : ds->saveFile(tmp.path().c_str(), xfer);
    BOOST_REQUIRE_MESSAGE(c.good(), c.text());
    std::ifstream in(tmp.path(), std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string md5Hex(const std::vector<std::uint8_t>& bytes) {
    Poco::MD5Engine md5;
    md5.update(bytes.data(), bytes.size());
    return Poco::DigestEngine::digestToHex(md5.digest());
}

la_ssize_t appendToString(archive*, void* out, const void* buf, size_t n) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
}

struct Member {
    std::string name;
    std::vector<std::uint8_t> bytes;
};

/// A ZIP written as a stream: every entry without a size => data descriptors (flag bit 3).
std::string makeZip(const std::vector<Member>& members, bool zip64 = false) {
    std::string out;
    archive* a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_set_options(a, "zip:compression=deflate");
    if (zip64) archive_write_set_options(a, "zip:zip64");  // force ZIP64 extra fields and descriptors
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, &out, nullptr, appendToString, nullptr);
    for (const auto& m : members) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, m.name.c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        // No archive_entry_set_size: the writer must stream with a data descriptor.
        BOOST_REQUIRE_EQUAL(archive_write_header(a, e), ARCHIVE_OK);
        archive_write_data(a, m.bytes.data(), m.bytes.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

std::vector<std::uint8_t> text(const std::string& s) { return std::vector<std::uint8_t>(s.begin(), s.end()); }

/// LICENSE, n DICOM files, md5hashes.csv (optionally with one wrong hash).
std::string makeSeriesZip(int n, std::vector<std::vector<std::uint8_t>>* files = nullptr,
                          bool withMd5 = true) {
    std::vector<Member> members{{"LICENSE", text("Creative Commons Attribution 3.0\n")}};
    std::string csv = "Filename,MD5Hash\n";
    for (int i = 1; i <= n; ++i) {
        auto bytes = makeDicom("1.2.3.4." + std::to_string(i));
        std::string name = "1-" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".dcm";
        csv += name + "," + md5Hex(bytes) + "\n";
        if (files) files->push_back(bytes);
        members.push_back({name, std::move(bytes)});
    }
    if (withMd5) members.push_back({"md5hashes.csv", text(csv)});
    return makeZip(members);
}

bool isBadResponse(const BridgeError& e) { return e.code() == ErrorCode::UpstreamBadResponse; }

}  // namespace

BOOST_AUTO_TEST_SUITE(ZipStream)

BOOST_AUTO_TEST_CASE(dataDescriptorZipDeliversEveryInstanceAndTheManifest) {
    std::vector<std::vector<std::uint8_t>> files;
    std::string zip = makeSeriesZip(5, &files);
    BOOST_REQUIRE(zip.size() > 100);
    BOOST_TEST((static_cast<unsigned char>(zip[6]) & 0x08) != 0,
               "first local header has the data-descriptor flag");

    std::istringstream in(zip);
    ZipStreamReader reader(in, nullptr);
    std::vector<ZipStreamReader::Entry> got;
    std::size_t n = reader.readAll([&](ZipStreamReader::Entry&& e) { got.push_back(std::move(e)); });
    BOOST_TEST(n == 5u);
    BOOST_REQUIRE_EQUAL(got.size(), 5u);
    BOOST_TEST(reader.hasMd5Manifest());
    BOOST_TEST(reader.md5Manifest().size() == 5u);
    for (std::size_t i = 0; i < got.size(); ++i) {
        BOOST_TEST(got[i].bytes == files[i]);
        BOOST_TEST(got[i].md5Hex == md5Hex(files[i]));
        BOOST_TEST(reader.md5Manifest().at(got[i].name) == got[i].md5Hex);
        auto uids = InstanceMetaReader::read(got[i].bytes.data(), got[i].bytes.size());
        BOOST_REQUIRE(uids.has_value());
        BOOST_TEST(uids->sopInstanceUid == "1.2.3.4." + std::to_string(i + 1));
        BOOST_TEST(uids->sopClassUid == UID_CTImageStorage);
        BOOST_TEST(uids->transferSyntaxUid == UID_LittleEndianExplicitTransferSyntax);
    }
}

BOOST_AUTO_TEST_CASE(everyTruncationIsDetectedAndDeliversOnlyWholeEntries) {
    std::vector<std::vector<std::uint8_t>> files;
    std::string zip = makeSeriesZip(3, &files, false);
    // Cut the stream at many offsets, including exactly between entries (where libarchive alone
    // would report a clean EOF) and inside the central directory.
    for (std::size_t cut = 0; cut < zip.size(); cut += std::max<std::size_t>(1, zip.size() / 97)) {
        std::istringstream in(zip.substr(0, cut));
        ZipStreamReader reader(in, nullptr);
        std::vector<ZipStreamReader::Entry> got;
        bool threw = false;
        try {
            reader.readAll([&](ZipStreamReader::Entry&& e) { got.push_back(std::move(e)); });
        } catch (const BridgeError& e) {
            threw = e.code() == ErrorCode::UpstreamBadResponse;
        }
        BOOST_TEST(threw, "cut " << cut << " of " << zip.size() << " not reported");
        for (std::size_t i = 0; i < got.size(); ++i) BOOST_TEST(got[i].bytes == files[i], "cut " << cut);
    }
    // Exactly after the last entry's data descriptor, before the central directory.
    auto cd = zip.find(std::string("PK\x01\x02", 4));
    BOOST_REQUIRE(cd != std::string::npos);
    std::istringstream in(zip.substr(0, cd));
    ZipStreamReader reader(in, nullptr);
    std::size_t count = 0;
    BOOST_CHECK_EXCEPTION(reader.readAll([&](ZipStreamReader::Entry&&) { ++count; }), BridgeError,
                          isBadResponse);
    BOOST_TEST(count == 3u);
}

BOOST_AUTO_TEST_CASE(zip64ArchivesAreRead) {
    // java.util.zip switches to ZIP64 for > 4 GiB or > 65,535 entries (API.md 8.5): same reader.
    std::vector<Member> members{{"LICENSE", text("x")}};
    for (int i = 1; i <= 3; ++i)
        members.push_back({"0000000" + std::to_string(i) + ".dcm", makeDicom("1.2.64." + std::to_string(i))});
    std::string zip = makeZip(members, true);
    BOOST_TEST(zip.find(std::string("PK\x06\x06", 4)) != std::string::npos,
               "has a ZIP64 end-of-central-directory record");
    std::istringstream in(zip);
    ZipStreamReader reader(in, nullptr);
    std::vector<std::string> uids;
    reader.readAll([&](ZipStreamReader::Entry&& e) {
        auto meta = InstanceMetaReader::read(e.bytes.data(), e.bytes.size());
        BOOST_REQUIRE(meta.has_value());
        uids.push_back(meta->sopInstanceUid);
    });
    BOOST_TEST(uids == (std::vector<std::string>{"1.2.64.1", "1.2.64.2", "1.2.64.3"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(corruptDeflateDataIsAnError) {
    std::string zip = makeSeriesZip(2, nullptr, false);
    auto second = zip.find(std::string("PK\x03\x04", 4), 10);  // LICENSE, then the first DICOM entry
    BOOST_REQUIRE(second != std::string::npos);
    for (std::size_t i = second + 120; i < second + 160; ++i) zip[i] = static_cast<char>(zip[i] ^ 0x5a);
    std::istringstream in(zip);
    ZipStreamReader reader(in, nullptr);
    BOOST_CHECK_EXCEPTION(reader.readAll([](ZipStreamReader::Entry&&) {}), BridgeError, isBadResponse);
}

BOOST_AUTO_TEST_CASE(garbageIsAnError) {
    for (const char* body :
         {"", "not a zip at all", "Image with given SeriesInstanceUID,1.2, is not in public domain."}) {
        std::istringstream in(body);
        ZipStreamReader reader(in, nullptr);
        BOOST_CHECK_EXCEPTION(reader.readAll([](ZipStreamReader::Entry&&) {}), BridgeError, isBadResponse);
    }
}

BOOST_AUTO_TEST_CASE(cancelStopsBetweenEntries) {
    std::string zip = makeSeriesZip(4, nullptr, false);
    std::istringstream in(zip);
    RequestContext context;
    ZipStreamReader reader(in, &context);
    int seen = 0;
    BOOST_CHECK_EXCEPTION(reader.readAll([&](ZipStreamReader::Entry&&) {
        if (++seen == 2) context.cancel();
    }),
                          BridgeError, [](const BridgeError& e) { return e.code() == ErrorCode::Cancelled; });
    BOOST_TEST(seen == 2);
}

BOOST_AUTO_TEST_CASE(sinkExceptionsPropagateUnchanged) {
    std::string zip = makeSeriesZip(2, nullptr, false);
    std::istringstream in(zip);
    ZipStreamReader reader(in, nullptr);
    BOOST_CHECK_THROW(reader.readAll([](ZipStreamReader::Entry&&) { throw std::logic_error("sink full"); }),
                      std::logic_error);
}

BOOST_AUTO_TEST_CASE(md5CsvShapes) {
    auto m = ZipStreamReader::parseMd5Csv(
        "Filename,MD5Hash\n00000001.dcm,ABCDEF\r\n\"1-02.dcm\",\"0123\"\n\nbroken line\n");
    BOOST_REQUIRE_EQUAL(m.size(), 2u);
    BOOST_TEST(m["00000001.dcm"] == "abcdef");
    BOOST_TEST(m["1-02.dcm"] == "0123");
    BOOST_TEST(ZipStreamReader::parseMd5Csv("").empty());
    BOOST_TEST(ZipStreamReader::parseMd5Csv("a.dcm,ff").size() == 1u);  // no header
}

BOOST_AUTO_TEST_CASE(skippedEntries) {
    for (const char* n : {"LICENSE", "license", "md5hashes.csv", "dir/", "", "sub/LICENSE"})
        BOOST_TEST(ZipStreamReader::isSkippedEntry(n), n);
    for (const char* n : {"1-001.dcm", "00000001.dcm", "LICENSE.dcm"})
        BOOST_TEST(!ZipStreamReader::isSkippedEntry(n), n);
}

// Issue 9, finding 10c: entries were read whole with no size cap (zip bomb).
BOOST_AUTO_TEST_CASE(entryInflatingBeyondTheCapIsRefusedBeforeItIsBuffered) {
    const auto small = makeDicom("1.2.3.4.1");
    // 64 MiB of zeros deflates to ~64 KiB: the bomb.
    const std::vector<std::uint8_t> bomb(64u << 20, 0);
    const std::string zip = makeZip({{"LICENSE", text("x\n")}, {"1-01.dcm", small}, {"1-02.dcm", bomb}});
    BOOST_TEST(zip.size() < (1u << 20));
    std::istringstream in(zip);
    ZipStreamReader reader(in, nullptr, 1u << 20);
    std::vector<std::string> got;
    BOOST_CHECK_EXCEPTION(reader.readAll([&](ZipStreamReader::Entry&& e) { got.push_back(e.name); }), BridgeError,
                          [](const BridgeError& e) {
                              return e.code() == ErrorCode::UpstreamBadResponse &&
                                     std::string(e.what()).find("maxZipEntryBytes") != std::string::npos &&
                                     std::string(e.what()).find("1-02.dcm") != std::string::npos;
                          });
    BOOST_TEST(reader.entryTooLarge());
    BOOST_TEST(got == std::vector<std::string>{"1-01.dcm"});  // whole entries before it still arrive
}

BOOST_AUTO_TEST_CASE(entryExactlyAtTheCapIsAccepted) {
    const std::vector<std::uint8_t> exact(1u << 20, 7);
    std::istringstream in(makeZip({{"a.bin", exact}}));
    ZipStreamReader reader(in, nullptr, 1u << 20);
    std::size_t bytes = 0;
    BOOST_TEST(reader.readAll([&](ZipStreamReader::Entry&& e) { bytes = e.bytes.size(); }) == 1u);
    BOOST_TEST(bytes == exact.size());
    BOOST_TEST(!reader.entryTooLarge());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(MetaReader)

BOOST_AUTO_TEST_CASE(uidsFromTheMetaHeaderInSeveralTransferSyntaxes) {
    for (E_TransferSyntax xfer :
         {EXS_LittleEndianExplicit, EXS_LittleEndianImplicit, EXS_BigEndianExplicit}) {
        auto bytes = makeDicom("1.2.826.0.1.3680043.9.1", xfer);
        auto uids = InstanceMetaReader::read(bytes.data(), bytes.size());
        BOOST_REQUIRE(uids.has_value());
        BOOST_TEST(uids->sopInstanceUid == "1.2.826.0.1.3680043.9.1");
        BOOST_TEST(uids->sopClassUid == UID_CTImageStorage);
        BOOST_TEST(uids->transferSyntaxUid == DcmXfer(xfer).getXferID());
    }
}

BOOST_AUTO_TEST_CASE(datasetWithoutMetaFallsBack) {
    auto bytes = makeDicom("1.2.826.0.1.3680043.9.2", EXS_LittleEndianImplicit, false);
    auto uids = InstanceMetaReader::read(bytes.data(), bytes.size());
    BOOST_REQUIRE(uids.has_value());
    BOOST_TEST(uids->sopInstanceUid == "1.2.826.0.1.3680043.9.2");
    BOOST_TEST(uids->transferSyntaxUid == "");
}

BOOST_AUTO_TEST_CASE(nonDicomIsNullopt) {
    std::string junk = "Creative Commons Attribution 3.0 Unported License\nblah blah blah";
    BOOST_TEST(!InstanceMetaReader::read(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size())
                    .has_value());
    BOOST_TEST(!InstanceMetaReader::read(nullptr, 0).has_value());
    std::vector<std::uint8_t> fakePreamble(200, 0);
    std::memcpy(fakePreamble.data() + 128, "DICM", 4);
    BOOST_TEST(!InstanceMetaReader::read(fakePreamble.data(), fakePreamble.size()).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
