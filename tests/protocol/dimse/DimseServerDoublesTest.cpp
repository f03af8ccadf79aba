// The real DimseServer on a free loopback port over test doubles of the core, driven by DCMTK's
// own DcmSCU, with a real storescp process as C-MOVE destination.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <signal.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "bridge/common/Error.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    FakeQueryService query;
    FakeRetrieveService retrieve;
    DimseSettings settings;
    std::unique_ptr<dimse::DimseServer> server;
    std::vector<std::pair<std::string, std::string>> scopeCalls;
    std::mutex scopeMutex;
    // Declared after server so that, as test-local objects did, storescp stops before the server.
    TempDir destDir;
    std::unique_ptr<StoreScpProcess> dest;

    Fixture() {
        settings.aeTitle = "TCIA";
        settings.port = 0;
        settings.pendingInterval = std::chrono::seconds(1);
        settings.networkTimeout = std::chrono::seconds(30);
    }
    /// Runs a real storescp (files under destDir) as C-MOVE peer "DEST"; call before start().
    const StoreScpProcess& addStoreScpDestination() {
        dest = std::make_unique<StoreScpProcess>("DEST", destDir.path());
        settings.peers["DEST"] = DicomPeer{"DEST", "127.0.0.1", dest->port()};
        return *dest;
    }
    void start() {
        dimse::DimseDependencies deps;
        deps.query = &query;
        deps.retrieve = &retrieve;
        deps.isKnownCalledAet = [](const std::string& aet) { return aet == "TCIA-COLL"; };
        deps.scopeFor = [this](const std::string& calling, const std::string& called, const RequestContext&) {
            std::lock_guard<std::mutex> lock(scopeMutex);
            scopeCalls.emplace_back(calling, called);
            CollectionScope s;
            if (called == "TCIA-COLL") s.only = std::set<std::string>{"LIDC-IDRI"};
            return s;
        };
        deps.maxResults = 2;
        server = std::make_unique<dimse::DimseServer>(settings, deps);
        server->start();
    }
};

/// A DcmSCU connected to the server with the given contexts.
struct Scu : DcmSCU {
    OFCondition connect(unsigned short port, const std::vector<std::string>& sopClasses,
                        const std::string& called = "TCIA", T_ASC_SC_ROLE role = ASC_SC_ROLE_DEFAULT,
                        const std::vector<std::string>& storageClasses = {}) {
        setAETitle("TESTSCU");
        setPeerAETitle(called.c_str());
        setPeerHostName("127.0.0.1");
        setPeerPort(port);
        setACSETimeout(10);
        setDIMSETimeout(30);
        setDIMSEBlockingMode(DIMSE_BLOCKING);
        OFList<OFString> ts;
        ts.push_back(UID_LittleEndianExplicitTransferSyntax);
        ts.push_back(UID_LittleEndianImplicitTransferSyntax);
        for (const auto& s : sopClasses) addPresentationContext(s.c_str(), ts);
        for (const auto& s : storageClasses) addPresentationContext(s.c_str(), ts, role);
        OFCondition cond = initNetwork();
        if (cond.bad()) return cond;
        return negotiateAssociation();
    }
    bool cancelAfterFirstPending = false;
    int pendings = 0;
    OFCondition handleFINDResponse(const T_ASC_PresentationContextID presID, QRResponse* response,
                                   OFBool& waitForNextResponse) override {
        if (response->m_status == 0xFF00 && ++pendings == 1 && cancelAfterFirstPending)
            sendCANCELRequest(presID);
        return DcmSCU::handleFINDResponse(presID, response, waitForNextResponse);
    }
    OFCondition handleMOVEResponse(const T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                   OFBool& waitForNextResponse) override {
        if (response->m_status == 0xFF00 && ++pendings == 1 && cancelAfterFirstPending)
            sendCANCELRequest(presID);
        return DcmSCU::handleMOVEResponse(presID, response, waitForNextResponse);
    }
};

std::string errorCommentOf(const QRResponse* r) {
    OFString v;
    if (r->m_statusDetail) r->m_statusDetail->findAndGetOFString(DCM_ErrorComment, v);
    return v.c_str();
}

DicomRecord studyRecord(const std::string& uid, const std::string& name) {
    DicomRecord r;
    r.set(DCM_StudyInstanceUID, uid);
    r.set(DCM_PatientName, name);
    r.set(DCM_QueryRetrieveLevel, "STUDY");
    r.set(DCM_InstanceAvailability, "ONLINE");
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DimseServerOverDoubles)

BOOST_AUTO_TEST_CASE(echo_and_bound_to_loopback) {
    Fixture f;
    f.start();
    BOOST_TEST(f.server->port() != 0);
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_VerificationSOPClass}).good());
    BOOST_TEST(scu.sendECHORequest(0).good());
    scu.releaseAssociation();
    // Listening only on 127.0.0.1: /proc/net/tcp shows the local address of the listener.
    std::ifstream tcp("/proc/net/tcp");
    std::string line;
    char portHex[8];
    std::snprintf(portHex, sizeof portHex, "%04X", f.server->port());
    bool found = false;
    while (std::getline(tcp, line)) {
        if (line.find(std::string(":") + portHex + " 00000000:0000 0A") != std::string::npos) {
            found = true;
            BOOST_TEST(line.find("0100007F:" + std::string(portHex)) != std::string::npos, line);
        }
    }
    BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(find_streams_matches_with_retrieve_aet_and_scope) {
    Fixture f;
    f.query.records = {studyRecord("1.2.1", "DOE^JOHN"), studyRecord("1.2.2", "DOE^JANE")};
    f.start();
    Scu scu;
    BOOST_REQUIRE(
        scu.connect(f.server->port(), {UID_FINDStudyRootQueryRetrieveInformationModel}, "TCIA-COLL").good());
    DcmDataset req;
    req.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
    req.putAndInsertString(DCM_PatientName, "DOE*");
    req.putAndInsertString(DCM_StudyInstanceUID, "");
    OFList<QRResponse*> responses;
    T_ASC_PresentationContextID pc =
        scu.findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, "");
    BOOST_REQUIRE(scu.sendFINDRequest(pc, &req, &responses).good());
    BOOST_REQUIRE_EQUAL(responses.size(), 3u);
    auto it = responses.begin();
    for (int i = 0; i < 2; ++i, ++it) {
        BOOST_TEST((*it)->m_status == 0xFF00);
        OFString v;
        BOOST_REQUIRE((*it)->m_dataset);
        (*it)->m_dataset->findAndGetOFString(DCM_RetrieveAETitle, v);
        BOOST_TEST(v == "TCIA-COLL");
        (*it)->m_dataset->findAndGetOFString(DCM_StudyInstanceUID, v);
        BOOST_TEST(v == (i == 0 ? "1.2.1" : "1.2.2"));
    }
    BOOST_TEST((*it)->m_status == 0x0000);
    freeList(responses);
    scu.releaseAssociation();
    std::lock_guard<std::mutex> lock(f.query.mutex);
    BOOST_REQUIRE(f.query.lastQuery.has_value());
    BOOST_TEST(f.query.lastQuery->value(DCM_PatientName) == "DOE*");
    BOOST_TEST(f.query.lastQuery->scope.only.has_value());
    BOOST_TEST(f.scopeCalls.front().first == "TESTSCU");
}

BOOST_AUTO_TEST_CASE(find_truncated_ends_with_a700_and_comment) {
    Fixture f;
    f.query.records = {studyRecord("1.2.1", "A"), studyRecord("1.2.2", "B")};
    f.query.truncate = true;
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_FINDStudyRootQueryRetrieveInformationModel}).good());
    auto responses = runFind(scu, UID_FINDStudyRootQueryRetrieveInformationModel,
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, ""}});
    BOOST_REQUIRE_EQUAL(responses.size(), 3u);
    BOOST_TEST(responses.back()->m_status == 0xA700);
    BOOST_TEST(errorCommentOf(responses.back()) == "more than 2 matches; narrow the query");
    freeList(responses);
}

BOOST_AUTO_TEST_CASE(find_cancel_stops_matching_with_fe00) {
    Fixture f;
    for (int i = 0; i < 50; ++i) f.query.records.push_back(studyRecord("1.2.100." + std::to_string(i), "X"));
    f.query.delayPerRecord = 20ms;
    f.start();
    Scu scu;
    scu.cancelAfterFirstPending = true;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_FINDStudyRootQueryRetrieveInformationModel}).good());
    auto responses = runFind(scu, UID_FINDStudyRootQueryRetrieveInformationModel,
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, ""}});
    BOOST_TEST(responses.back()->m_status == 0xFE00);
    BOOST_TEST(responses.size() < 10u);
    freeList(responses);
    // The association is still usable after the cancel.
    BOOST_TEST(scu.sendECHORequest(0).bad());  // no Verification context proposed: refused locally
    f.query.delayPerRecord = 0ms;
    f.query.records.resize(1);
    scu.cancelAfterFirstPending = false;
    responses = runFind(scu, UID_FINDStudyRootQueryRetrieveInformationModel,
                        {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, ""}});
    BOOST_TEST(responses.back()->m_status == 0x0000);
    freeList(responses);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(find_bad_identifier_and_core_failures_map_to_statuses) {
    Fixture f;
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_FINDPatientRootQueryRetrieveInformationModel}).good());
    auto pc = scu.findPresentationContextID(UID_FINDPatientRootQueryRetrieveInformationModel, "");
    DcmDataset noLevel;
    noLevel.putAndInsertString(DCM_PatientID, "");
    OFList<QRResponse*> responses;
    BOOST_REQUIRE(scu.sendFINDRequest(pc, &noLevel, &responses).good());
    BOOST_TEST(responses.back()->m_status == 0xA900);
    BOOST_TEST(errorCommentOf(responses.back()).find("QueryRetrieveLevel") != std::string::npos);
    freeList(responses);

    f.query.failWith = ErrorCode::UpstreamUnavailable;
    DcmDataset ok;
    ok.putAndInsertString(DCM_QueryRetrieveLevel, "PATIENT");
    ok.putAndInsertString(DCM_PatientID, "");
    BOOST_REQUIRE(scu.sendFINDRequest(pc, &ok, &responses).good());
    BOOST_TEST(responses.back()->m_status == 0xC001);
    freeList(responses);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(unknown_called_ae_is_rejected) {
    Fixture f;
    f.start();
    Scu scu;
    BOOST_TEST(scu.connect(f.server->port(), {UID_VerificationSOPClass}, "NOT-ME").bad());
}

BOOST_AUTO_TEST_CASE(calling_ae_allow_list_with_host_check) {
    Fixture f;
    f.settings.allowedCallingAets = {"TESTSCU"};
    f.settings.checkCallerHost = true;
    f.settings.peers["TESTSCU"] = DicomPeer{"TESTSCU", "10.9.9.9", 104};  // not where we call from
    f.start();
    Scu wrongHost;
    BOOST_TEST(wrongHost.connect(f.server->port(), {UID_VerificationSOPClass}).bad());
    f.server->stop();
    f.settings.peers["TESTSCU"].host = "localhost";
    f.start();
    Scu allowed;
    BOOST_TEST(allowed.connect(f.server->port(), {UID_VerificationSOPClass}).good());
    allowed.releaseAssociation();
    f.settings.allowedCallingAets = {"SOMEONE-ELSE"};
    f.server->stop();
    f.start();
    Scu notListed;
    BOOST_TEST(notListed.connect(f.server->port(), {UID_VerificationSOPClass}).bad());
}

BOOST_AUTO_TEST_CASE(association_limit_rejects_the_extra_one) {
    Fixture f;
    f.settings.maxAssociations = 1;
    f.start();
    Scu first;
    BOOST_REQUIRE(first.connect(f.server->port(), {UID_VerificationSOPClass}).good());
    std::this_thread::sleep_for(100ms);
    BOOST_TEST(f.server->activeAssociations() == 1);
    Scu second;
    BOOST_TEST(second.connect(f.server->port(), {UID_VerificationSOPClass}).bad());
    first.releaseAssociation();
    std::this_thread::sleep_for(300ms);
    Scu third;
    BOOST_TEST(third.connect(f.server->port(), {UID_VerificationSOPClass}).good());
    third.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(move_delivers_every_instance_with_same_pixels_and_transcodes) {
    Fixture f;
    // One uncompressed and two JPEG lossless instances: default storescp accepts only
    // uncompressed syntaxes, so the JPEG ones must be decoded on the way.
    f.retrieve.instances = {makeCtInstance("1.2.9", "1.2.9.1", "1.2.9.1.1"),
                            makeCtInstance("1.2.9", "1.2.9.1", "1.2.9.1.2", EXS_JPEGProcess14SV1),
                            makeCtInstance("1.2.9", "1.2.9.1", "1.2.9.1.3", EXS_JPEGProcess14SV1)};
    const StoreScpProcess& dest = f.addStoreScpDestination();
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_MOVEStudyRootQueryRetrieveInformationModel}).good());
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                             {{DCM_QueryRetrieveLevel, "SERIES"},
                              {DCM_StudyInstanceUID, "1.2.9"},
                              {DCM_SeriesInstanceUID, "1.2.9.1"}});
    BOOST_REQUIRE(!responses.empty());
    // First Pending announces the sub-operation count.
    BOOST_TEST(responses.front()->m_status == 0xFF00);
    BOOST_TEST(responses.front()->m_numberOfRemainingSubops == 3);
    RetrieveResponse* last = responses.back();
    BOOST_TEST(last->m_status == 0x0000);
    BOOST_TEST(last->m_numberOfCompletedSubops == 3);
    BOOST_TEST(last->m_numberOfFailedSubops == 0);
    freeList(responses);
    scu.releaseAssociation();

    auto files = dest.files();
    BOOST_REQUIRE_EQUAL(files.size(), 3u);
    std::set<std::string> received;
    for (const auto& path : files) {
        DcmFileFormat ff;
        BOOST_REQUIRE(ff.loadFile(path.c_str()).good());
        OFString sop, ts;
        ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop);
        ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, ts);
        BOOST_TEST(
            (ts == UID_LittleEndianExplicitTransferSyntax || ts == UID_LittleEndianImplicitTransferSyntax));
        received.insert(sop.c_str());
        auto original = std::find_if(f.retrieve.instances.begin(), f.retrieve.instances.end(),
                                     [&](const DicomInstance& i) { return i.sopInstanceUid == sop.c_str(); });
        BOOST_REQUIRE(original != f.retrieve.instances.end());
        BOOST_TEST((pixelDataOfFile(path) == pixelDataOfInstance(*original)));
    }
    BOOST_TEST((received == std::set<std::string>{"1.2.9.1.1", "1.2.9.1.2", "1.2.9.1.3"}));
    std::lock_guard<std::mutex> lock(f.retrieve.mutex);
    BOOST_TEST(f.retrieve.lastRequest->seriesInstanceUids.front() == "1.2.9.1");
}

BOOST_AUTO_TEST_CASE(move_new_sop_class_midway_reopens_the_destination_association) {
    Fixture f;
    f.retrieve.instances = {
        makeCtInstance("1.2.10", "1.2.10.1", "1.2.10.1.1"),
        makeCtInstance("1.2.10", "1.2.10.2", "1.2.10.2.1", EXS_LittleEndianExplicit, UID_MRImageStorage),
        makeCtInstance("1.2.10", "1.2.10.1", "1.2.10.1.2", EXS_JPEGProcess14SV1)};
    const StoreScpProcess& dest = f.addStoreScpDestination();
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_MOVEStudyRootQueryRetrieveInformationModel}).good());
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.2.10"}});
    BOOST_TEST(responses.back()->m_status == 0x0000);
    BOOST_TEST(responses.back()->m_numberOfCompletedSubops == 3);
    freeList(responses);
    BOOST_TEST(dest.files().size() == 3u);
}

BOOST_AUTO_TEST_CASE(move_unknown_destination_is_a801) {
    Fixture f;
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_MOVEPatientRootQueryRetrieveInformationModel}).good());
    auto responses = runMove(scu, UID_MOVEPatientRootQueryRetrieveInformationModel, "NOWHERE",
                             {{DCM_QueryRetrieveLevel, "PATIENT"}, {DCM_PatientID, "P1"}});
    BOOST_REQUIRE_EQUAL(responses.size(), 1u);
    BOOST_TEST(responses.front()->m_status == 0xA801);
    freeList(responses);
}

BOOST_AUTO_TEST_CASE(move_partial_failure_is_b000_with_failed_list) {
    Fixture f;
    f.retrieve.instances = {makeCtInstance("1.3", "1.3.1", "1.3.1.1")};
    f.retrieve.failUids = {"1.3.1.2"};
    const StoreScpProcess& dest = f.addStoreScpDestination();
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_MOVEStudyRootQueryRetrieveInformationModel}).good());
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.3"}});
    RetrieveResponse* last = responses.back();
    BOOST_TEST(last->m_status == 0xB000);
    BOOST_TEST(last->m_numberOfCompletedSubops == 1);
    BOOST_TEST(last->m_numberOfFailedSubops == 1);
    OFString failed;
    BOOST_REQUIRE(last->m_dataset);
    last->m_dataset->findAndGetOFStringArray(DCM_FailedSOPInstanceUIDList, failed);
    BOOST_TEST(failed == "1.3.1.2");
    freeList(responses);
    BOOST_TEST(dest.files().size() == 1u);
}

BOOST_AUTO_TEST_CASE(move_to_dead_destination_is_a702) {
    Fixture f;
    f.retrieve.instances = {makeCtInstance("1.4", "1.4.1", "1.4.1.1"),
                            makeCtInstance("1.4", "1.4.1", "1.4.1.2")};
    f.settings.peers["DEAD"] = DicomPeer{"DEAD", "127.0.0.1", freePort()};
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_MOVEStudyRootQueryRetrieveInformationModel}).good());
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEAD",
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.4"}});
    RetrieveResponse* last = responses.back();
    BOOST_TEST(last->m_status == 0xA702);
    BOOST_TEST(last->m_numberOfFailedSubops == 2);
    BOOST_TEST(last->m_numberOfCompletedSubops == 0);
    BOOST_TEST(!errorCommentOf(last).empty());
    freeList(responses);
}

BOOST_AUTO_TEST_CASE(move_waiting_sends_pendings_and_cancel_gives_fe00) {
    Fixture f;
    f.retrieve.instances = {makeCtInstance("1.5", "1.5.1", "1.5.1.1")};
    f.retrieve.delayBeforeFirst = 20s;  // a slow TCIA download
    const StoreScpProcess& dest = f.addStoreScpDestination();
    f.start();
    Scu scu;
    scu.cancelAfterFirstPending = true;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_MOVEStudyRootQueryRetrieveInformationModel}).good());
    auto t0 = std::chrono::steady_clock::now();
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.5"}});
    auto elapsed = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(responses.back()->m_status == 0xFE00);
    BOOST_TEST(responses.back()->m_numberOfCompletedSubops == 0);
    BOOST_TEST((elapsed < 5s));
    BOOST_TEST(f.retrieve.streamCancelled.load());
    freeList(responses);
    BOOST_TEST(dest.files().empty());
}

BOOST_AUTO_TEST_CASE(move_keepalive_pendings_while_waiting) {
    Fixture f;
    f.retrieve.instances = {makeCtInstance("1.6", "1.6.1", "1.6.1.1")};
    f.retrieve.delayBeforeFirst = 2500ms;
    f.addStoreScpDestination();
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_MOVEStudyRootQueryRetrieveInformationModel}).good());
    auto responses = runMove(scu, UID_MOVEStudyRootQueryRetrieveInformationModel, "DEST",
                             {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.6"}});
    // announce + at least two keep-alive Pendings (interval 1 s) + after the store + final.
    BOOST_TEST(responses.size() >= 4u);
    BOOST_TEST(responses.back()->m_status == 0x0000);
    freeList(responses);
}

BOOST_AUTO_TEST_CASE(get_returns_instances_over_the_same_association) {
    Fixture f;
    f.retrieve.instances = {makeCtInstance("1.7", "1.7.1", "1.7.1.1"),
                            makeCtInstance("1.7", "1.7.1", "1.7.1.2", EXS_JPEGProcess14SV1)};
    f.start();
    TempDir out;
    Scu scu;
    scu.setStorageDir(out.path().c_str());
    scu.setStorageMode(DCMSCU_STORAGE_DISK);
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_GETStudyRootQueryRetrieveInformationModel}, "TCIA",
                              ASC_SC_ROLE_SCP, {UID_CTImageStorage})
                      .good());
    auto responses = runGet(scu, UID_GETStudyRootQueryRetrieveInformationModel,
                            {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.7"}});
    BOOST_REQUIRE(!responses.empty());
    BOOST_TEST(responses.back()->m_status == 0x0000);
    BOOST_TEST(responses.back()->m_numberOfCompletedSubops == 2);
    freeList(responses);
    scu.releaseAssociation();
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(out.path())) {
        ++files;
        auto original = std::find_if(
            f.retrieve.instances.begin(), f.retrieve.instances.end(), [&](const DicomInstance& i) {
                return e.path().filename().string().find(i.sopInstanceUid) != std::string::npos;
            });
        if (original != f.retrieve.instances.end())
            BOOST_TEST((pixelDataOfFile(e.path().string()) == pixelDataOfInstance(*original)));
    }
    BOOST_TEST(files == 2u);
}

BOOST_AUTO_TEST_CASE(get_without_storage_context_fails_sub_operations) {
    Fixture f;
    f.retrieve.instances = {makeCtInstance("1.8", "1.8.1", "1.8.1.1")};
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_GETStudyRootQueryRetrieveInformationModel}).good());
    auto responses = runGet(scu, UID_GETStudyRootQueryRetrieveInformationModel,
                            {{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.8"}});
    BOOST_TEST(responses.back()->m_status == 0xA702);
    BOOST_TEST(responses.back()->m_numberOfFailedSubops == 1);
    freeList(responses);
}

BOOST_AUTO_TEST_CASE(stop_is_clean_with_an_open_association) {
    Fixture f;
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_VerificationSOPClass}).good());
    auto t0 = std::chrono::steady_clock::now();
    f.server->stop();
    BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));
    BOOST_TEST(f.server->activeAssociations() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// stop() is signalled to every wait (dimse/StopSignal.h), none of which sleeps in slices: an
// association waiting for its next request, a C-FIND waiting on a slow search and a C-MOVE
// waiting for its first instance all end at once. Before, the request wait slept in 1 s slices,
// and searches and downloads did not stop with the server (they ran to their end or to the next
// pendingInterval).
BOOST_AUTO_TEST_SUITE(DimseServerStop)

template <class Pred>
bool eventually(Pred pred, std::chrono::seconds budget = 20s) {
    const auto until = std::chrono::steady_clock::now() + budget;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(5ms);  // polls a test-side predicate with a deadline
    }
    return true;
}

/// A study-level C-MOVE to DEST on its own thread (which ends when the server answers or goes).
std::thread moveInBackground(Scu& scu, std::string studyUid) {
    return std::thread([&scu, studyUid] {
        DcmDataset keys;
        keys.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
        keys.putAndInsertString(DCM_StudyInstanceUID, studyUid.c_str());
        OFList<RetrieveResponse*> responses;
        scu.sendMOVERequest(scu.findPresentationContextID(UID_MOVEStudyRootQueryRetrieveInformationModel, ""),
                            "DEST", &keys, &responses);
        freeList(responses);
    });
}

/// Stops the server and returns how long stop() took.
std::chrono::steady_clock::duration timedStop(dimse::DimseServer& server) {
    const auto t0 = std::chrono::steady_clock::now();
    server.stop();
    return std::chrono::steady_clock::now() - t0;
}

BOOST_AUTO_TEST_CASE(an_idle_association_does_not_delay_stop) {
    Fixture f;
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_VerificationSOPClass}).good());
    BOOST_REQUIRE(scu.sendECHORequest(0).good());  // the association thread now waits for the next request
    BOOST_REQUIRE(eventually([&] { return f.server->activeAssociations() == 1; }));
    const auto took = timedStop(*f.server);
    BOOST_TEST((took < 500ms), "stop() took " << std::chrono::duration<double>(took).count() << " s");
    BOOST_TEST(f.server->activeAssociations() == 0);
}

BOOST_AUTO_TEST_CASE(stop_ends_a_cfind_waiting_on_a_slow_search) {
    Fixture f;
    f.query.records = {studyRecord("1.9", "SLOW^SEARCH")};
    f.query.delayPerRecord = 60s;  // TCIA answering slowly
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_FINDStudyRootQueryRetrieveInformationModel}).good());
    std::thread requester([&] {
        DcmDataset keys;
        keys.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
        keys.putAndInsertString(DCM_StudyInstanceUID, "");
        OFList<QRResponse*> responses;
        scu.sendFINDRequest(scu.findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, ""),
                            &keys, &responses);
        freeList(responses);
    });
    BOOST_REQUIRE(eventually([&] {
        std::lock_guard<std::mutex> lock(f.query.mutex);
        return f.query.lastQuery.has_value();
    }));
    const auto took = timedStop(*f.server);
    requester.join();
    BOOST_TEST((took < 3s), "stop() took " << std::chrono::duration<double>(took).count() << " s");
}

BOOST_AUTO_TEST_CASE(stop_ends_a_cmove_waiting_for_its_first_instance) {
    Fixture f;
    f.settings.pendingInterval = 30s;  // nothing else would wake the wait for half a minute
    f.retrieve.instances = {makeCtInstance("1.10", "1.10.1", "1.10.1.1")};
    f.retrieve.delayBeforeFirst = 60s;  // a slow TCIA download
    const StoreScpProcess& dest = f.addStoreScpDestination();
    f.start();
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_MOVEStudyRootQueryRetrieveInformationModel}).good());
    std::thread requester = moveInBackground(scu, "1.10");
    BOOST_REQUIRE(eventually([&] {
        std::lock_guard<std::mutex> lock(f.retrieve.mutex);
        return f.retrieve.lastRequest.has_value();
    }));
    const auto took = timedStop(*f.server);
    requester.join();
    BOOST_TEST((took < 3s), "stop() took " << std::chrono::duration<double>(took).count() << " s");
    BOOST_TEST(f.retrieve.streamCancelled.load());
    BOOST_TEST(dest.files().empty());
}

BOOST_AUTO_TEST_CASE(stop_ends_a_cmove_whose_destination_stopped_answering) {
    Fixture f;
    f.settings.dimseTimeout = 120s;  // the C-STORE-RSP wait nothing else would end
    for (int i = 1; i <= 5; ++i)
        f.retrieve.instances.push_back(makeCtInstance("1.11", "1.11.1", "1.11.1." + std::to_string(i)));
    f.retrieve.delayBetween = 1s;  // time to freeze the destination between instances 1 and 2
    const StoreScpProcess& dest = f.addStoreScpDestination();
    f.start();
    struct Resume {  // a stopped storescp would not see the fixture's SIGTERM
        int pid;
        ~Resume() { ::kill(pid, SIGCONT); }
    } resume{dest.pid()};
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port(), {UID_MOVEStudyRootQueryRetrieveInformationModel}).good());
    std::thread requester = moveInBackground(scu, "1.11");
    struct Join {  // a failed check must not leave a joinable thread (std::terminate)
        std::thread& thread;
        dimse::DimseServer& server;
        ~Join() {
            if (!thread.joinable()) return;
            server.stop();
            thread.join();
        }
    } join{requester, *f.server};
    // The first instance is stored and answered (the C-MOVE asks for the second), then the
    // destination freezes (SIGSTOP: its socket stays open, nothing answers); the second is
    // handed to the sub-association a second later, and its C-STORE-RSP never comes. (Freezing
    // it as soon as the first file appeared could stop storescp before it answered the first:
    // the second was then never asked for.)
    BOOST_REQUIRE(eventually([&] { return f.retrieve.requested.load() >= 2; }));
    BOOST_REQUIRE(::kill(dest.pid(), SIGSTOP) == 0);
    BOOST_REQUIRE(eventually([&] { return f.retrieve.delivered.load() >= 2; }));
    const auto took = timedStop(*f.server);
    requester.join();
    BOOST_TEST((took < 3s), "stop() took " << std::chrono::duration<double>(took).count() << " s");
}

BOOST_AUTO_TEST_SUITE_END()
