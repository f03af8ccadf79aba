// Issue 9, finding 1: restricted data must not leak when credentials are added to a cache that
// an anonymous bridge filled, nor through a PostgreSQL catalog shared by an anonymous and a
// credentialed replica. The whole real core (makeBridgeServices: TciaClient, Catalog,
// QueryEngine, AccessPolicy, RetrieveEngine) against the real emulator on loopback, whose
// token-only collection Restricted-Demo holds patient RESTR-0001 and series ...2.13.
#include "bridge/common/Error.h"
#include "bridge/query/AccessPolicy.h"
#include "bridge/retrieve/BridgeServices.h"
#include "tests/protocol/catalog/PostgresServer.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/QueryBuilders.h"
#include "tests/support/TestSupport.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

using namespace bridge;
using namespace bridge::test;

namespace {

const char* const kUser = "emulator-user";
const char* const kPassword = "emulator-password";
const char* const kRestrictedPatient = "RESTR-0001";
const char* const kRestrictedSeries = "1.2.826.0.1.3680043.10.1234.2.13";
const char* const kGrantedToken = "granted-token";
const char* const kGrantedAet = "GRANTED";

Config anonymousConfig(const EmulatorProcess& emulator, const std::string& cacheDir) {
    Config c;
    c.tcia = singleRetrySettings(emulator);
    c.cache.directory = cacheDir;
    c.catalog.ttl = std::chrono::seconds(3600);
    c.catalog.refreshInterval = std::chrono::seconds(0);
    // Grants exist (so a leak is not hidden behind "nobody may see anything"), for others only.
    c.access.grantsByToken["Restricted-Demo"] = {kGrantedToken};
    c.access.grantsByAet["Restricted-Demo"] = {kGrantedAet};
    return c;
}

Config credentialedConfig(const EmulatorProcess& emulator, const std::string& cacheDir) {
    Config c = anonymousConfig(emulator, cacheDir);
    c.tcia.tokenUrl = "http://127.0.0.1:" + std::to_string(emulator.port()) + "/nbia-api/oauth/token";
    c.tcia.username = kUser;
    c.tcia.password = kPassword;
    return c;
}

/// SERIES-level search by PatientID in `scope`: the SeriesInstanceUIDs found.
std::vector<std::string> seriesOfPatient(BridgeServices& s, const CollectionScope& scope, const std::string& patientId) {
    Query q = makeQuery(QueryLevel::Series, {K(DCM_PatientID, patientId), K(DCM_SeriesInstanceUID)});
    q.scope = scope;
    std::vector<std::string> out;
    auto cursor = s.query->find(q, RequestContext());
    while (auto r = cursor->next()) out.push_back(r->get(DCM_SeriesInstanceUID));
    return out;
}

/// WADO-RS /metadata and C-MOVE/C-GET start with this plan: NotFound (0 series) when hidden.
std::size_t plannedSeries(BridgeServices& s, const CollectionScope& scope) {
    RetrieveRequest r;
    r.level = QueryLevel::Series;
    r.seriesInstanceUids = {kRestrictedSeries};
    r.scope = scope;
    try {
        return s.retrieve->plan(r, RequestContext()).series.size();
    } catch (const BridgeError& e) {
        if (e.code() == ErrorCode::NotFound) return 0;
        throw;
    }
}

/// What the /collections landing page does on an anonymous bridge.
void browseCollections(BridgeServices& s) {
    BOOST_REQUIRE(!s.metadata->collections(RequestContext()).empty());
    s.metadata->restrictedCollections(RequestContext());
}

void expectHiddenFromUngranted(BridgeServices& s) {
    const CollectionScope anonymousHttp = s.access->forHttp(std::nullopt);
    const CollectionScope wrongToken = s.access->forHttp(std::string("some-other-token"));
    const CollectionScope ungrantedAe = s.access->forDimse("UNGRANTED", "TCIA");
    BOOST_TEST(seriesOfPatient(s, anonymousHttp, kRestrictedPatient).empty());
    BOOST_TEST(seriesOfPatient(s, wrongToken, kRestrictedPatient).empty());
    BOOST_TEST(seriesOfPatient(s, ungrantedAe, kRestrictedPatient).empty());
    BOOST_TEST(plannedSeries(s, anonymousHttp) == 0u);
    BOOST_TEST(plannedSeries(s, ungrantedAe) == 0u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(RestrictedCacheIdentity)

BOOST_AUTO_TEST_CASE(credentials_added_to_an_anonymous_cache_directory_leak_nothing) {
    EmulatorProcess emulator({"--quiet", "--token-user", kUser, "--token-password", kPassword});
    TempDir dir;
    {
        auto anonymous = makeBridgeServices(anonymousConfig(emulator, dir.path()));
        browseCollections(*anonymous);
    }
    auto credentialed = makeBridgeServices(credentialedConfig(emulator, dir.path()));
    expectHiddenFromUngranted(*credentialed);
    // Control: the bridge's own credentials do reach the series, and a granted caller sees it.
    const std::vector<std::string> expected{kRestrictedSeries};
    BOOST_TEST(seriesOfPatient(*credentialed, credentialed->access->forHttp(std::string(kGrantedToken)),
                               kRestrictedPatient) == expected);
    BOOST_TEST(seriesOfPatient(*credentialed, credentialed->access->forDimse(kGrantedAet, "TCIA"),
                               kRestrictedPatient) == expected);
    BOOST_TEST(plannedSeries(*credentialed, credentialed->access->forHttp(std::string(kGrantedToken))) == 1u);
    // ... and after that lazy fill stored the restricted rows, the ungranted still see nothing.
    expectHiddenFromUngranted(*credentialed);
    // Public data is unaffected for the anonymous caller.
    BOOST_TEST(!seriesOfPatient(*credentialed, credentialed->access->forHttp(std::nullopt), "TCGA-DM-0001").empty());
}

BOOST_AUTO_TEST_CASE(restarting_without_credentials_hides_what_the_credentialed_run_stored) {
    EmulatorProcess emulator({"--quiet", "--token-user", kUser, "--token-password", kPassword});
    TempDir dir;
    {
        auto credentialed = makeBridgeServices(credentialedConfig(emulator, dir.path()));
        BOOST_TEST(seriesOfPatient(*credentialed, credentialed->access->forHttp(std::string(kGrantedToken)),
                                   kRestrictedPatient)
                       .size() == 1u);
    }
    auto anonymous = makeBridgeServices(anonymousConfig(emulator, dir.path()));
    expectHiddenFromUngranted(*anonymous);
}

#ifdef BRIDGE_HAVE_POSTGRESQL
constexpr bool kBuiltWithPostgres = true;
#else
constexpr bool kBuiltWithPostgres = false;
#endif

BOOST_AUTO_TEST_CASE(postgres_catalog_shared_by_anonymous_and_credentialed_replicas_leaks_nothing) {
    // Not a silent pass: this machine's CI installs PostgreSQL; without it the case fails.
    BOOST_REQUIRE_MESSAGE(kBuiltWithPostgres && PostgresServer::available(),
                          "needs BRIDGE_HAVE_POSTGRESQL and the postgresql server package");
    EmulatorProcess emulator({"--quiet", "--token-user", kUser, "--token-password", kPassword});
    PostgresServer postgres;
    BOOST_REQUIRE(postgres.started());
    TempDir anonymousDir, credentialedDir;
    Config a = anonymousConfig(emulator, anonymousDir.path());
    a.catalog.connector = "postgresql";
    a.catalog.connection = postgres.connection();
    Config b = credentialedConfig(emulator, credentialedDir.path());
    b.catalog.connector = "postgresql";
    b.catalog.connection = postgres.connection();

    auto anonymousReplica = makeBridgeServices(a);
    browseCollections(*anonymousReplica);
    auto credentialedReplica = makeBridgeServices(b);
    expectHiddenFromUngranted(*credentialedReplica);
    // The credentialed replica fills the shared catalog with the restricted rows...
    BOOST_TEST(seriesOfPatient(*credentialedReplica, credentialedReplica->access->forHttp(std::string(kGrantedToken)),
                               kRestrictedPatient)
                   .size() == 1u);
    // ... which neither replica shows to the ungranted.
    expectHiddenFromUngranted(*credentialedReplica);
    expectHiddenFromUngranted(*anonymousReplica);
}

BOOST_AUTO_TEST_SUITE_END()
