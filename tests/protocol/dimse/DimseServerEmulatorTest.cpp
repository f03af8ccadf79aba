// The real DimseServer over the real core (makeBridgeServices) and the TCIA emulator: what a
// PACS sees. DcmSCU drives it; a storescp process is the C-MOVE destination; pixel data is
// compared with the emulator's own files.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <set>

#include "bridge/retrieve/BridgeServices.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

const char* const kStudy = "1.2.826.0.1.3680043.10.1234.1.1";  // TCGA-DEMO-CT, TCGA-DM-0001, 2 CT series

struct CoreFixture : EmulatorDimseFixture {
    CoreFixture()
        : EmulatorDimseFixture({}, [](Config& config) {
              const std::string baseUrl = config.tcia.baseUrl;  // the emulator's v4; default retries
              config.tcia = TciaSettings{};
              config.tcia.baseUrl = baseUrl;
              config.tcia.apiVersion = "v4";
              config.tcia.retryBaseDelay = 20ms;
              config.dimse.collectionAets["TCIA-MR"] = {"RIDER-Demo-MR"};
          }) {}
};

struct Scu : DcmSCU {
    /// `sopClass` plus CT and MR Storage in the SCP role (C-GET answers on this association).
    OFCondition connect(unsigned short port, const char* sopClass, const char* called = "TCIA") {
        OFList<OFString> storeTs;
        storeTs.push_back(UID_LittleEndianExplicitTransferSyntax);
        storeTs.push_back(UID_LittleEndianImplicitTransferSyntax);
        addPresentationContext(UID_CTImageStorage, storeTs, ASC_SC_ROLE_SCP);
        addPresentationContext(UID_MRImageStorage, storeTs, ASC_SC_ROLE_SCP);
        return connectToBridge(*this, port, sopClass, called);
    }
};

/// SOP Instance UID -> emulator file, for a study.
std::map<std::string, std::string> emulatorFiles(const std::string& studyUid) {
    std::map<std::string, std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(sampleDataDir())) {
        if (!e.is_regular_file() || e.path().extension() != ".dcm") continue;
        if (e.path().string().find("/" + studyUid + "/") == std::string::npos) continue;
        DcmFileFormat ff;
        if (ff.loadFile(e.path().c_str()).bad()) continue;
        OFString sop;
        ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop);
        out[sop.c_str()] = e.path().string();
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DimseServerOverCore)

BOOST_AUTO_TEST_CASE(find_study_and_series_levels_against_emulator) {
    CoreFixture f;
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), UID_FINDStudyRootQueryRetrieveInformationModel).good());
    auto pc = scu.findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, "");
    DcmDataset req;
    req.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
    req.putAndInsertString(DCM_ClinicalTrialProtocolID, "TCGA-DEMO-CT");
    req.putAndInsertString(DCM_StudyInstanceUID, "");
    req.putAndInsertString(DCM_PatientID, "");
    OFList<QRResponse*> responses;
    BOOST_REQUIRE(scu.sendFINDRequest(pc, &req, &responses).good());
    BOOST_TEST(responses.back()->m_status == 0x0000);
    std::set<std::string> studies;
    for (auto* r : responses) {
        if (r->m_status != 0xFF00) continue;
        OFString v, aet;
        r->m_dataset->findAndGetOFString(DCM_StudyInstanceUID, v);
        r->m_dataset->findAndGetOFString(DCM_RetrieveAETitle, aet);
        BOOST_TEST(aet == "TCIA");
        studies.insert(v.c_str());
    }
    BOOST_TEST(studies.count(kStudy) == 1u);
    freeList(responses);

    DcmDataset series;
    series.putAndInsertString(DCM_QueryRetrieveLevel, "SERIES");
    series.putAndInsertString(DCM_StudyInstanceUID, kStudy);
    series.putAndInsertString(DCM_SeriesInstanceUID, "");
    series.putAndInsertString(DCM_Modality, "CT");
    BOOST_REQUIRE(scu.sendFINDRequest(pc, &series, &responses).good());
    BOOST_TEST(responses.size() == 3u);  // two CT series + final
    BOOST_TEST(responses.back()->m_status == 0x0000);
    freeList(responses);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(collection_ae_sees_only_its_collection) {
    CoreFixture f;
    Scu scu;
    BOOST_REQUIRE(
        scu.connect(f.server->port(), UID_FINDStudyRootQueryRetrieveInformationModel, "TCIA-MR").good());
    // kStudy: a TCGA-DEMO-CT study
    auto responses = runFind(scu, UID_FINDStudyRootQueryRetrieveInformationModel,
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, kStudy}});
    BOOST_TEST(responses.size() == 1u);  // no match, only the final response
    freeList(responses);
}

BOOST_AUTO_TEST_CASE(move_study_into_storescp_same_uids_same_pixels) {
    CoreFixture f;
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), UID_MOVEStudyRootQueryRetrieveInformationModel).good());
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, kStudy}});
    auto expected = emulatorFiles(kStudy);
    BOOST_REQUIRE(!expected.empty());
    BOOST_TEST(responses.front()->m_numberOfRemainingSubops == expected.size());
    BOOST_TEST(responses.back()->m_status == 0x0000);
    BOOST_TEST(responses.back()->m_numberOfCompletedSubops == expected.size());
    freeList(responses);
    auto files = f.dest.files();
    BOOST_TEST(files.size() == expected.size());
    for (const auto& path : files) {
        DcmFileFormat ff;
        BOOST_REQUIRE(ff.loadFile(path.c_str()).good());
        OFString sop;
        ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop);
        auto it = expected.find(sop.c_str());
        BOOST_REQUIRE(it != expected.end());
        BOOST_TEST((pixelDataOfFile(path) == pixelDataOfFile(it->second)));
    }
}

BOOST_AUTO_TEST_CASE(get_series_over_requester_association) {
    CoreFixture f;
    TempDir got;
    Scu scu;
    scu.setStorageDir(got.path().c_str());
    BOOST_REQUIRE(scu.connect(f.server->port(), UID_GETPatientRootQueryRetrieveInformationModel).good());
    auto responses = runGet(
        scu, UID_GETPatientRootQueryRetrieveInformationModel,
        {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_PatientID, "TCGA-DM-0001"}, {DCM_StudyInstanceUID, kStudy}});
    auto expected = emulatorFiles(kStudy);
    BOOST_TEST(responses.back()->m_status == 0x0000);
    BOOST_TEST(responses.back()->m_numberOfCompletedSubops == expected.size());
    freeList(responses);
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(got.path())) n += e.is_regular_file();
    BOOST_TEST(n == expected.size());
}

BOOST_AUTO_TEST_CASE(move_unknown_study_reports_failure_not_success) {
    CoreFixture f;
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), UID_MOVEStudyRootQueryRetrieveInformationModel).good());
    auto responses =
        runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.2.3.4.5.6.7.8.9"}});
    const Uint16 status = responses.back()->m_status;
    // Nothing matches: NotFound -> A701 per the error table, or success with zero sub-operations.
    BOOST_TEST((status == 0xA701 || (status == 0x0000 && responses.back()->m_numberOfCompletedSubops == 0)));
    freeList(responses);
    BOOST_TEST(f.dest.files().empty());
}

// Issue 8 item 6: PatientID is the PATIENT level's unique key (PS3.4 C.4.1.2.1). The emulator's
// SHARED-0007 is in RIDER-Demo-MR and Phantom-Mixed: ONE answer, counts over both.
BOOST_AUTO_TEST_CASE(patient_level_is_unique_by_patient_id_across_collections) {
    CoreFixture f;
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), UID_FINDPatientRootQueryRetrieveInformationModel).good());
    auto responses = runFind(scu, UID_FINDPatientRootQueryRetrieveInformationModel,
                             {{DCM_QueryRetrieveLevel, "PATIENT"},
                              {DCM_PatientID, "SHARED-0007"},
                              {DCM_ClinicalTrialProtocolID, ""},
                              {DCM_NumberOfPatientRelatedStudies, ""},
                              {DCM_NumberOfPatientRelatedSeries, ""},
                              {DCM_NumberOfPatientRelatedInstances, ""}});
    BOOST_REQUIRE(responses.size() == 2u);  // one Pending + final
    BOOST_TEST(responses.back()->m_status == 0x0000);
    auto value = [&](const DcmTagKey& tag) {
        OFString v;
        responses.front()->m_dataset->findAndGetOFString(tag, v);
        return std::string(v.c_str());
    };
    BOOST_TEST(value(DCM_ClinicalTrialProtocolID) == "Phantom-Mixed");  // first alphabetically
    BOOST_TEST(value(DCM_NumberOfPatientRelatedStudies) == "2");
    BOOST_TEST(value(DCM_NumberOfPatientRelatedSeries) == "2");
    BOOST_TEST(value(DCM_NumberOfPatientRelatedInstances) == "10");  // MR 5 + CT phantom 5
    freeList(responses);

    // Walking both collections by name (no exact PatientID) merges too.
    responses = runFind(scu, UID_FINDPatientRootQueryRetrieveInformationModel,
                        {{DCM_QueryRetrieveLevel, "PATIENT"},
                         {DCM_ClinicalTrialProtocolID, "RIDER-Demo-MR\\Phantom-Mixed"},
                         {DCM_PatientID, "SHARED*"}});
    BOOST_TEST(responses.size() == 2u);
    BOOST_TEST(responses.back()->m_status == 0x0000);
    freeList(responses);

    // A collection AE scoped to RIDER-Demo-MR sees its own SHARED-0007 only.
    scu.releaseAssociation();
    Scu scoped;
    BOOST_REQUIRE(
        scoped.connect(f.server->port(), UID_FINDPatientRootQueryRetrieveInformationModel, "TCIA-MR").good());
    responses = runFind(scoped, UID_FINDPatientRootQueryRetrieveInformationModel,
                        {{DCM_QueryRetrieveLevel, "PATIENT"},
                         {DCM_PatientID, "SHARED-0007"},
                         {DCM_ClinicalTrialProtocolID, ""},
                         {DCM_NumberOfPatientRelatedInstances, ""}});
    BOOST_REQUIRE(responses.size() == 2u);
    OFString coll, n;
    responses.front()->m_dataset->findAndGetOFString(DCM_ClinicalTrialProtocolID, coll);
    responses.front()->m_dataset->findAndGetOFString(DCM_NumberOfPatientRelatedInstances, n);
    BOOST_TEST(coll == "RIDER-Demo-MR");
    BOOST_TEST(n == "5");
    freeList(responses);
    scoped.releaseAssociation();
}

// Issue 8 item 6: IMAGE-level answers carry the real SOPClassUID and InstanceNumber of each
// instance even for a series not cached yet (the core fetches it, as QIDO-RS instance searches
// do through the same engine); values compared with the emulator's own files.
BOOST_AUTO_TEST_CASE(image_level_has_real_sop_class_and_instance_number_for_an_uncached_series) {
    CoreFixture f;  // fresh cache directory: nothing cached
    const std::string series = "1.2.826.0.1.3680043.10.1234.2.2";  // CT, JPEG lossless, 8 slices
    std::map<std::string, std::pair<std::string, std::string>> expected;  // SOP -> (class, number)
    for (const auto& [sop, path] : emulatorFiles(kStudy)) {
        DcmFileFormat ff;
        BOOST_REQUIRE(ff.loadFile(path.c_str()).good());
        OFString se, cls, num;
        ff.getDataset()->findAndGetOFString(DCM_SeriesInstanceUID, se);
        if (se != series.c_str()) continue;
        ff.getDataset()->findAndGetOFString(DCM_SOPClassUID, cls);
        ff.getDataset()->findAndGetOFString(DCM_InstanceNumber, num);
        expected[sop] = {cls.c_str(), num.c_str()};
    }
    BOOST_REQUIRE(expected.size() == 8u);
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), UID_FINDStudyRootQueryRetrieveInformationModel).good());
    auto responses = runFind(scu, UID_FINDStudyRootQueryRetrieveInformationModel,
                             {{DCM_QueryRetrieveLevel, "IMAGE"},
                              {DCM_StudyInstanceUID, kStudy},
                              {DCM_SeriesInstanceUID, series.c_str()},
                              {DCM_SOPInstanceUID, ""},
                              {DCM_SOPClassUID, ""},
                              {DCM_InstanceNumber, ""}});
    BOOST_TEST(responses.back()->m_status == 0x0000);
    std::size_t seen = 0;
    for (auto* r : responses) {
        if (r->m_status != 0xFF00) continue;
        OFString sop, cls, num;
        r->m_dataset->findAndGetOFString(DCM_SOPInstanceUID, sop);
        r->m_dataset->findAndGetOFString(DCM_SOPClassUID, cls);
        r->m_dataset->findAndGetOFString(DCM_InstanceNumber, num);
        auto it = expected.find(sop.c_str());
        BOOST_REQUIRE(it != expected.end());
        BOOST_TEST(std::string(cls.c_str()) == it->second.first);
        BOOST_TEST(std::string(num.c_str()) == it->second.second);
        ++seen;
    }
    BOOST_TEST(seen == expected.size());
    freeList(responses);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_SUITE_END()
