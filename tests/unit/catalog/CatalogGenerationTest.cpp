// Catalog::generation(): what the DICOMweb QIDO response cache keys on. Every write of metadata
// (lazy fill, TTL-driven refetch, harvest, restriction mark) must change it; answers served
// from the database without a write must not.
#include "CatalogFixture.h"

#include <boost/test/unit_test.hpp>

using namespace bridge;
using test::seriesOf;

namespace {

struct GenerationFixture : test::CatalogFixture {
    std::uint64_t generation() {
        auto g = catalog->generation();
        BOOST_REQUIRE(g.has_value());  // the catalog tracks its changes
        return *g;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(CatalogGeneration)

BOOST_AUTO_TEST_CASE(every_metadata_write_changes_the_generation_and_reads_do_not) {
    GenerationFixture f;
    const auto g0 = f.generation();

    f.catalog->series(seriesOf("coll-1"), RequestContext());  // lazy fill from TCIA: a write
    BOOST_TEST(f.fake.calls("series") == 1);
    const auto g1 = f.generation();
    BOOST_TEST(g1 != g0);

    f.catalog->series(seriesOf("coll-1"), RequestContext());  // fresh call answered from the database
    BOOST_TEST(f.fake.calls("series") == 1);
    BOOST_TEST(f.generation() == g1);

    f.clock += 3601;  // TTL over: refetched and upserted
    f.catalog->series(seriesOf("coll-1"), RequestContext());
    BOOST_TEST(f.fake.calls("series") == 2);
    const auto g2 = f.generation();
    BOOST_TEST(g2 != g1);

    f.catalog->storeCollectionHarvest("coll-1", f.fake.patients({"coll-1", ""}, RequestContext()), f.fake.studies({"coll-1", "", ""}, RequestContext()),
                                      f.fake.series(seriesOf("coll-1"), RequestContext()));
    const auto g3 = f.generation();
    BOOST_TEST(g3 != g2);

    f.catalog->markRestricted("Secret-Trial");
    const auto g4 = f.generation();
    BOOST_TEST(g4 != g3);

    f.catalog->counts();  // a read
    BOOST_TEST(f.generation() == g4);
}

BOOST_AUTO_TEST_SUITE_END()
