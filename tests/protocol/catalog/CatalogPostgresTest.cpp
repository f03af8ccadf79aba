// The same catalog code on PostgreSQL (Poco::Data PostgreSQL connector) against a throw-away
// server: schema, harvest, lazy fill within TTL, scans through the real QueryEngine -- and the
// answers equal those of the SQLite catalog on the same data.
#include "PostgresServer.h"
#include "bridge/catalog/Catalog.h"
#include "bridge/catalog/CatalogSync.h"
#include "bridge/query/QueryEngine.h"
#include "bridge/tcia/TciaClient.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

using namespace bridge;
using namespace bridge::test;

namespace {

#ifdef BRIDGE_HAVE_POSTGRESQL
constexpr bool kBuiltWithPostgres = true;
#else
constexpr bool kBuiltWithPostgres = false;
#endif

boost::test_tools::assertion_result postgresAvailable(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(kBuiltWithPostgres && PostgresServer::available());
    r.message() << "needs BRIDGE_HAVE_POSTGRESQL and the postgresql server package";
    return r;
}

/// Counts the TciaApi calls that reach the real client.
class CountingApi : public tcia::TciaApi {
public:
    explicit CountingApi(tcia::TciaApi& inner) : inner_(inner) {}
    int calls = 0;
    std::vector<std::string> collections(const RequestContext& context) override { ++calls; return inner_.collections(RequestContext()); }
    std::vector<std::string> modalityValues(const tcia::ValueFilter& f, const RequestContext& context) override { ++calls; return inner_.modalityValues(f, RequestContext()); }
    std::vector<std::string> bodyPartValues(const tcia::ValueFilter& f, const RequestContext& context) override { ++calls; return inner_.bodyPartValues(f, RequestContext()); }
    std::vector<std::string> manufacturerValues(const tcia::ValueFilter& f, const RequestContext& context) override { ++calls; return inner_.manufacturerValues(f, RequestContext()); }
    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& f, const RequestContext& context) override { ++calls; return inner_.patients(f, RequestContext()); }
    std::vector<tcia::PatientRecord> patientsByCollectionAndModality(const std::string& c, const std::string& m, const RequestContext& context) override {
        ++calls;
        return inner_.patientsByCollectionAndModality(c, m, RequestContext());
    }
    std::vector<tcia::PatientRecord> newPatientsInCollection(const std::string& c, const std::string& d, const RequestContext& context) override {
        ++calls;
        return inner_.newPatientsInCollection(c, d, RequestContext());
    }
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& f, const RequestContext& context) override { ++calls; return inner_.studies(f, RequestContext()); }
    std::vector<tcia::StudyRecord> newStudiesInPatientCollection(const std::string& c, const std::string& p,
                                                                 const std::string& d, const RequestContext& context) override {
        ++calls;
        return inner_.newStudiesInPatientCollection(c, p, d, RequestContext());
    }
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& f, const RequestContext& context) override { ++calls; return inner_.series(f, RequestContext()); }
    std::vector<tcia::SeriesRecord> updatedSeries(const std::string& d, const RequestContext& context) override { ++calls; return inner_.updatedSeries(d, RequestContext()); }
    tcia::SeriesSize seriesSize(const std::string& uid, const RequestContext& context) override { ++calls; return inner_.seriesSize(uid, RequestContext()); }
    std::vector<std::string> sopInstanceUids(const std::string& uid, const RequestContext& context) override { ++calls; return inner_.sopInstanceUids(uid, RequestContext()); }
    std::size_t downloadSeries(const std::string& uid, const tcia::DownloadOptions& o, const tcia::InstanceSink& s,
                               const RequestContext& c) override {
        ++calls;
        return inner_.downloadSeries(uid, o, s, c);
    }
    std::vector<std::uint8_t> singleImage(const std::string& se, const std::string& sop, const RequestContext& context) override {
        ++calls;
        return inner_.singleImage(se, sop, RequestContext());
    }

private:
    tcia::TciaApi& inner_;
};

std::vector<std::string> studyUids(QueryService& engine, const Query& q) {
    std::vector<std::string> out;
    auto cursor = engine.find(q, RequestContext());
    while (auto r = cursor->next()) out.push_back(r->get(DCM_StudyInstanceUID));
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(CatalogOnPostgres)

BOOST_AUTO_TEST_CASE(same_answers_as_sqlite, *boost::unit_test::precondition(postgresAvailable)) {
    PostgresServer server;
    BOOST_REQUIRE(server.started());
    EmulatorProcess emulator({"--quiet"});
    tcia::TciaClient client(singleRetrySettings(emulator));
    CountingApi counting(client);
    TempDir dir;
    CacheSettings cache;
    cache.directory = dir.path();

    CatalogSettings pgSettings;
    pgSettings.connector = "postgresql";
    pgSettings.connection = server.connection();
    Catalog pg(pgSettings, cache, counting);
    BOOST_TEST((pg.dialect() == SqlDialect::PostgreSql));
    Catalog sqlite(CatalogSettings{}, cache, client);

    const auto pgSync = runSync(pg, counting, SyncOptions{}, RequestContext());
    const auto sqliteSync = runSync(sqlite, client, SyncOptions{}, RequestContext());
    BOOST_TEST(pgSync.failures.empty());
    BOOST_TEST(pgSync.series == sqliteSync.series);
    const auto a = pg.counts(), b = sqlite.counts();
    BOOST_TEST(a.series == b.series);
    BOOST_TEST(a.studies == b.studies);
    BOOST_TEST(a.patients == b.patients);
    BOOST_TEST(a.harvestedCollections == b.harvestedCollections);

    // Records survive PostgreSQL's types (BOOLEAN, BIGINT, DOUBLE PRECISION, NULLs).
    const auto names = pg.collections(RequestContext());
    for (const auto& c : names) {
        tcia::SeriesFilter sf;
        sf.collection = c;
        auto x = pg.series(sf, RequestContext()), y = sqlite.series(sf, RequestContext());
        BOOST_REQUIRE_EQUAL(x.size(), y.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            BOOST_TEST(x[i].seriesInstanceUid == y[i].seriesInstanceUid);
            BOOST_TEST(x[i].imageCount.has_value() == y[i].imageCount.has_value());
            BOOST_TEST(x[i].annotationsFlag.has_value() == y[i].annotationsFlag.has_value());
            BOOST_TEST(x[i].authorized.value_or(false) == y[i].authorized.value_or(false));
            BOOST_TEST(x[i].dateReleased == y[i].dateReleased);
        }
    }

    const int callsBeforeQueries = counting.calls;
    QueryEngine onPg(pg, nullptr, QuerySettings{});
    QueryEngine onSqlite(sqlite, nullptr, QuerySettings{});
    for (const std::string pattern : {"*", "A*", "*e*", "?*", "Z*"}) {
        Query q;
        q.level = QueryLevel::Study;
        q.keys = {{DCM_PatientName, EVR_PN, pattern}, {DCM_StudyInstanceUID, EVR_UI, ""}, {DCM_PatientID, EVR_LO, ""}};
        BOOST_TEST(studyUids(onPg, q) == studyUids(onSqlite, q), pattern);
        q.limit = 3;
        q.offset = 1;
        BOOST_TEST(studyUids(onPg, q) == studyUids(onSqlite, q), pattern << " paged");
    }
    BOOST_TEST(counting.calls == callsBeforeQueries);  // all from the catalog

    // Lazy fill + TTL bookkeeping on PostgreSQL.
    const auto sopsFirst = pg.sopInstanceUids(pg.series({}, RequestContext()).front().seriesInstanceUid, RequestContext());
    const int afterFirst = counting.calls;
    BOOST_TEST(pg.sopInstanceUids(pg.series({}, RequestContext()).front().seriesInstanceUid, RequestContext()) == sopsFirst);
    BOOST_TEST(counting.calls == afterFirst);
    const auto refresh = pg.refreshIncremental();
    BOOST_TEST(refresh.series == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
