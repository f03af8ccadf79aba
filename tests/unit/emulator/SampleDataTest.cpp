#include "emulator/DataIndex.h"
#include "emulator/SampleDataGenerator.h"
#include "emulator/SyntheticCatalog.h"
#include "tests/support/TestSupport.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <set>

using namespace emulator;

BOOST_AUTO_TEST_SUITE(SampleDataSuite)

BOOST_AUTO_TEST_CASE(generated_set_has_the_promised_variety) {
    bridge::test::TempDir dir;
    GenerateOptions options;
    options.outDir = dir.path();
    const std::size_t files = SampleDataGenerator::generate(options);
    BOOST_TEST(files > 50u);
    BOOST_TEST(std::filesystem::exists(dir.path() + "/.complete"));
    auto index = DataIndex::load(dir.path());
    BOOST_TEST(index->collections().size() == 4u);
    std::set<std::string> syntaxes, modalities, sopClasses, collectionsOfShared;
    std::size_t multiframe = 0;
    bool utf8Name = false, restricted = false;
    index->forEachSeries({}, [&](const SeriesRecord& r) {
        modalities.insert(r.modality);
        sopClasses.insert(r.sopClassUid);
        if (r.patientId == "SHARED-0007") collectionsOfShared.insert(r.collection);
        if (r.patientId == "RIDER-D-1003") utf8Name = r.patientName == "M\xC3\xBCller^J\xC3\xBCrgen";
        else if (r.patientId == "PHANTOM-ACR-01") BOOST_CHECK(r.patientName == std::string());  // kept as ""
        else BOOST_CHECK(r.patientName == r.patientId);
        restricted = restricted || r.restricted;
        for (const auto& inst : index->instances(r.seriesUid)) {
            DcmFileFormat ff;
            BOOST_REQUIRE(ff.loadFile(inst.path.c_str()).good());
            const E_TransferSyntax xfer = ff.getDataset()->getOriginalXfer();
            syntaxes.insert(DcmXfer(xfer).getXferID());
            DcmDataset& ds = *ff.getDataset();
            OFString value;
            BOOST_TEST(ds.findAndGetOFString(DCM_PatientIdentityRemoved, value).good());
            BOOST_TEST(value == "YES");
            BOOST_TEST(ds.findAndGetOFString(DCM_ClinicalTrialProtocolID, value).good());
            BOOST_TEST(value.c_str() == r.collection);
            // CTP private block; in Implicit VR files without a private dictionary it reads as UN.
            BOOST_TEST(ds.findAndGetOFString(DcmTagKey(0x0013, 0x0010), value).good());
            if (xfer != EXS_LittleEndianImplicit) {
                BOOST_TEST(ds.findAndGetOFString(DcmTagKey(0x0013, 0x1010), value).good());
                BOOST_TEST(value.c_str() == r.collection);
            }
            Sint32 frames = 1;
            if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1) ++multiframe;
        }
    });
    BOOST_TEST(syntaxes.count(UID_LittleEndianExplicitTransferSyntax) == 1u);
    BOOST_TEST(syntaxes.count(UID_LittleEndianImplicitTransferSyntax) == 1u);
    BOOST_TEST(syntaxes.count(UID_JPEGProcess14SV1TransferSyntax) == 1u);
    BOOST_TEST(syntaxes.count(UID_JPEGLSLosslessTransferSyntax) == 1u);
    BOOST_TEST(modalities.count("CT") == 1u);
    BOOST_TEST(modalities.count("MR") == 1u);
    BOOST_TEST(sopClasses.count(UID_BasicTextSRStorage) == 1u);
    BOOST_TEST(multiframe == 1u);
    BOOST_TEST(collectionsOfShared.size() == 2u);
    BOOST_TEST(utf8Name);
    BOOST_TEST(restricted);
}

BOOST_AUTO_TEST_CASE(generation_is_deterministic) {
    bridge::test::TempDir a, b;
    GenerateOptions options;
    options.outDir = a.path();
    SampleDataGenerator::generate(options);
    options.outDir = b.path();
    SampleDataGenerator::generate(options);
    auto ia = DataIndex::load(a.path()), ib = DataIndex::load(b.path());
    std::vector<std::string> ma, mb;
    ia->forEachSeries({}, [&](const SeriesRecord& r) {
        for (const auto& i : ia->instances(r.seriesUid)) ma.push_back(i.sopInstanceUid + i.md5);
    });
    ib->forEachSeries({}, [&](const SeriesRecord& r) {
        for (const auto& i : ib->instances(r.seriesUid)) mb.push_back(i.sopInstanceUid + i.md5);
    });
    BOOST_TEST(ma == mb, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(synthetic_catalog_narrows_by_hint) {
    SyntheticCatalog catalog(1000, 10, 10);
    std::size_t all = 0;
    catalog.forEachSeries({}, [&](const SeriesRecord&) { ++all; });
    BOOST_TEST(all == 10000u);
    std::size_t one = 0;
    SeriesHint hint;
    hint.collection = "synthetic-03";
    catalog.forEachSeries(hint, [&](const SeriesRecord& r) {
        ++one;
        BOOST_TEST(r.collection == "Synthetic-03");
    });
    BOOST_TEST(one == 1000u);
    const SeriesRecord r = catalog.makeSeries(42, 7);
    SeriesHint bySeries;
    bySeries.seriesUid = r.seriesUid;
    std::vector<std::string> found;
    catalog.forEachSeries(bySeries, [&](const SeriesRecord& s) { found.push_back(s.seriesUid); });
    BOOST_TEST(found == std::vector<std::string>{r.seriesUid}, boost::test_tools::per_element());
    SeriesHint byPatient;
    byPatient.patientId = r.patientId;
    std::size_t ofPatient = 0;
    catalog.forEachSeries(byPatient, [&](const SeriesRecord& s) { ofPatient += s.patientId == r.patientId; });
    BOOST_TEST(ofPatient == 40u);  // 4 studies x 10 series
}

BOOST_AUTO_TEST_SUITE_END()
