// The C-FIND answer cache on a real socket: the real DimseServer over the real core
// (makeBridgeServices: catalog + emulator), driven by DcmSCU. A second identical C-FIND is
// answered from the cache (no TCIA call, the cache's hit count grows, same responses); a
// different scope (collection AE), a catalog generation change, a truncated answer are not.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include <boost/test/unit_test.hpp>

#include "bridge/retrieve/BridgeServices.h"
#include "dimse/BridgeDimse.h"
#include "dimse/DimseServer.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;
using namespace std::chrono_literals;

namespace {

struct CacheFixture {
    EmulatorProcess emulator;
    TempDir cache;
    std::unique_ptr<BridgeServices> services;
    std::shared_ptr<FindAnswerCache> findCache;
    dimse::DimseDependencies deps;
    std::unique_ptr<dimse::DimseServer> server;

    explicit CacheFixture(std::size_t maxResults = 10'000) {
        Config config;
        config.tcia = singleRetrySettings(emulator);
        config.cache.directory = cache.path();
        config.dimse.aeTitle = "TCIA";
        config.dimse.port = 0;
        config.dimse.collectionAets["TCIA-MR"] = {"RIDER-Demo-MR"};
        config.query.maxResults = maxResults;
        services = makeBridgeServices(config);
        deps = dimse::makeDimseDependencies(*services);
        // The product wiring made a cache (query.findCacheMegabytes defaults to 64) bound to
        // the catalog's generation ...
        BOOST_REQUIRE(deps.findCache);
        BOOST_REQUIRE(deps.generation);
        BOOST_REQUIRE(deps.generation().has_value());
        // ... replaced by one with a long maxAge, so that a loaded machine cannot turn a hit
        // into an age miss (the 2 s age bound is unit-tested).
        findCache = std::make_shared<FindAnswerCache>(64u << 20, std::chrono::minutes(10));
        deps.findCache = findCache;
        server = std::make_unique<dimse::DimseServer>(config.dimse, deps);
        server->start();
    }
};

struct Scu : DcmSCU {
    OFCondition connect(unsigned short port, const char* called = "TCIA") {
        return connectToBridge(*this, port, UID_FINDStudyRootQueryRetrieveInformationModel, called);
    }
};

/// Status of the final response and the StudyInstanceUID + PatientName of every Pending one.
struct Answer {
    std::uint16_t status = 0xFFFF;
    std::vector<std::string> rows;
    bool operator==(const Answer& o) const { return status == o.status && rows == o.rows; }
};

Answer studiesOf(Scu& scu, const char* patientId) {
    auto responses = runFind(scu, UID_FINDStudyRootQueryRetrieveInformationModel,
                             {{DCM_QueryRetrieveLevel, "STUDY"},
                              {DCM_PatientID, patientId},
                              {DCM_StudyInstanceUID, ""},
                              {DCM_PatientName, ""},
                              {DCM_ClinicalTrialProtocolID, ""}});
    Answer a;
    for (auto* r : responses) {
        if (r->m_status == STATUS_Pending && r->m_dataset) {
            OFString uid, name, coll;
            r->m_dataset->findAndGetOFString(DCM_StudyInstanceUID, uid);
            r->m_dataset->findAndGetOFString(DCM_PatientName, name);
            r->m_dataset->findAndGetOFString(DCM_ClinicalTrialProtocolID, coll);
            a.rows.push_back(std::string(uid.c_str()) + "|" + name.c_str() + "|" + coll.c_str());
        }
        a.status = r->m_status;
    }
    freeList(responses);
    return a;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(DimseFindCache)

BOOST_AUTO_TEST_CASE(second_identical_find_is_answered_from_the_cache) {
    CacheFixture f;
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port()).good());
    // Warm-up: the catalog fills the patient lazily DURING this search, so its answer is kept
    // under the generation read before it and is stale at once (never served).
    BOOST_REQUIRE(studiesOf(scu, "TCGA-DM-0001").status == 0x0000);
    const Answer first = studiesOf(scu, "TCGA-DM-0001");
    BOOST_REQUIRE(first.status == 0x0000);
    BOOST_REQUIRE(!first.rows.empty());
    BOOST_TEST(f.findCache->size() == 1u);
    BOOST_TEST(f.findCache->hits() == 0u);

    resetStats(f.emulator);
    const Answer second = studiesOf(scu, "TCGA-DM-0001");
    BOOST_TEST((second == first));
    BOOST_TEST(f.findCache->hits() == 1u);
    BOOST_TEST(totalCalls(f.emulator) == 0);  // not even a catalog refetch

    // Another association of the same caller (same scope) hits too.
    scu.releaseAssociation();
    Scu again;
    BOOST_REQUIRE(again.connect(f.server->port()).good());
    BOOST_TEST((studiesOf(again, "TCGA-DM-0001") == first));
    BOOST_TEST(f.findCache->hits() == 2u);
    again.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(a_different_scope_is_not_answered_from_the_cache) {
    CacheFixture f;
    Scu main;
    BOOST_REQUIRE(main.connect(f.server->port()).good());
    // SHARED-0007 has a study in RIDER-Demo-MR and one in Phantom-Mixed. Warm-up first (lazy
    // fill, see above), then the answer of the main AE's scope is cached.
    BOOST_REQUIRE(studiesOf(main, "SHARED-0007").status == 0x0000);
    const Answer all = studiesOf(main, "SHARED-0007");
    BOOST_REQUIRE(all.status == 0x0000);
    BOOST_REQUIRE(all.rows.size() == 2u);
    main.releaseAssociation();

    // The collection AE sees RIDER-Demo-MR only: same identifier, other scope, own answer.
    Scu scoped;
    BOOST_REQUIRE(scoped.connect(f.server->port(), "TCIA-MR").good());
    const std::size_t hitsBefore = f.findCache->hits(), missesBefore = f.findCache->misses();
    const Answer mr = studiesOf(scoped, "SHARED-0007");
    BOOST_TEST(f.findCache->hits() == hitsBefore);
    BOOST_TEST(f.findCache->misses() == missesBefore + 1);
    BOOST_REQUIRE(mr.status == 0x0000);
    BOOST_REQUIRE(mr.rows.size() == 1u);  // the main AE's cached 2-row answer would show 2
    BOOST_TEST(mr.rows[0].find("|RIDER-Demo-MR") != std::string::npos);
    // Repeats in this scope are served from its own entry (the first repeat may still miss if
    // the scoped search filled the catalog), and keep the scoped answer.
    BOOST_TEST((studiesOf(scoped, "SHARED-0007") == mr));
    BOOST_TEST((studiesOf(scoped, "SHARED-0007") == mr));
    BOOST_TEST(f.findCache->hits() >= hitsBefore + 1);
    // And the main AE still gets its own, wider answer.
    scoped.releaseAssociation();
    Scu main2;
    BOOST_REQUIRE(main2.connect(f.server->port()).good());
    BOOST_TEST((studiesOf(main2, "SHARED-0007") == all));
    main2.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(a_generation_change_is_not_answered_from_the_cache) {
    CacheFixture f;
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port()).good());
    BOOST_REQUIRE(studiesOf(scu, "TCGA-DM-0001").status == 0x0000);  // warm-up (lazy fill)
    const Answer first = studiesOf(scu, "TCGA-DM-0001");
    BOOST_REQUIRE(first.status == 0x0000);
    BOOST_REQUIRE(f.findCache->size() >= 1u);
    const std::uint64_t generation = *f.deps.generation();

    // Another patient: the catalog fills it lazily from TCIA -- a write, a new generation.
    BOOST_REQUIRE(studiesOf(scu, "SHARED-0007").status == 0x0000);
    BOOST_REQUIRE(*f.deps.generation() != generation);

    const std::size_t hits = f.findCache->hits(), misses = f.findCache->misses();
    const Answer again = studiesOf(scu, "TCGA-DM-0001");
    BOOST_TEST((again == first));  // same answer, but searched again
    BOOST_TEST(f.findCache->hits() == hits);
    BOOST_TEST(f.findCache->misses() == misses + 1);
    // Stored anew under the new generation: the next repeat hits.
    BOOST_TEST((studiesOf(scu, "TCGA-DM-0001") == first));
    BOOST_TEST(f.findCache->hits() == hits + 1);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_CASE(a_truncated_answer_is_never_cached) {
    CacheFixture f(1);  // query.maxResults 1: SHARED-0007's two studies are truncated (A700)
    Scu scu;
    BOOST_REQUIRE(scu.connect(f.server->port()).good());
    const Answer first = studiesOf(scu, "SHARED-0007");
    BOOST_TEST(first.status == 0xA700);
    BOOST_TEST(first.rows.size() == 1u);
    BOOST_TEST(f.findCache->size() == 0u);
    const Answer second = studiesOf(scu, "SHARED-0007");
    BOOST_TEST(second.status == 0xA700);
    BOOST_TEST(f.findCache->hits() == 0u);
    scu.releaseAssociation();
}

BOOST_AUTO_TEST_SUITE_END()
