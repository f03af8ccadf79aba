// QidoResponseCache: keys separate scopes, queries and base URLs; a generation change or age
// beyond maxAge misses; the byte budget evicts least recently used answers.
#include "bridge/query/Query.h"
#include "web/MetadataCache.h"
#include "web/QidoResponseCache.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

using namespace bridge;
using bridge::web::QidoResponseCache;

namespace {

Query studyQuery() {
    Query q;
    q.level = QueryLevel::Study;
    q.keys.push_back({DCM_StudyDescription, EVR_LO, ""});
    q.keys.push_back({DCM_PatientName, EVR_PN, "DOE*"});
    q.limit = 101;
    return q;
}

std::shared_ptr<QidoResponseCache::Answer> answer(const std::string& json) {
    auto a = std::make_shared<QidoResponseCache::Answer>();
    a->json = json;
    return a;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(QidoResponseCacheSuite)

BOOST_AUTO_TEST_CASE(key_separates_scope_query_and_root) {
    const std::string root = "http://127.0.0.1:8080/dicom-web";
    Query anonymous = studyQuery();
    anonymous.scope.denied = {"Restricted-Demo"};
    Query granted = studyQuery();  // nothing denied: sees the restricted collection
    Query onlyA = studyQuery();
    onlyA.scope.only = std::set<std::string>{"A"};
    Query onlyB = studyQuery();
    onlyB.scope.only = std::set<std::string>{"B"};
    Query onlyNone = studyQuery();
    onlyNone.scope.only = std::set<std::string>{};

    const auto k = QidoResponseCache::key(anonymous, root);
    BOOST_TEST(k != QidoResponseCache::key(granted, root));
    BOOST_TEST(QidoResponseCache::key(onlyA, root) != QidoResponseCache::key(onlyB, root));
    BOOST_TEST(QidoResponseCache::key(onlyNone, root) != QidoResponseCache::key(granted, root));
    BOOST_TEST(k != QidoResponseCache::key(anonymous, "https://proxy.example/p/dicom-web"));

    // Case of collection names does not matter to CollectionScope, nor to the key.
    Query anonymousLower = studyQuery();
    anonymousLower.scope.denied = {"restricted-demo"};
    BOOST_TEST(k == QidoResponseCache::key(anonymousLower, root));

    Query other = anonymous;
    other.offset = 101;
    BOOST_TEST(k != QidoResponseCache::key(other, root));
    other = anonymous;
    other.limit.reset();
    BOOST_TEST(k != QidoResponseCache::key(other, root));
    other = anonymous;
    other.fuzzyMatching = true;
    BOOST_TEST(k != QidoResponseCache::key(other, root));
    other = anonymous;
    other.keys[1].value = "DOE";
    BOOST_TEST(k != QidoResponseCache::key(other, root));
    other = anonymous;
    other.level = QueryLevel::Series;
    BOOST_TEST(k != QidoResponseCache::key(other, root));
    // A value cannot impersonate the next field.
    Query a = studyQuery(), b = studyQuery();
    a.keys[1].value = "X|only*";
    b.keys[1].value = "X";
    BOOST_TEST(QidoResponseCache::key(a, root) != QidoResponseCache::key(b, root));
}

BOOST_AUTO_TEST_CASE(generation_change_and_age_miss) {
    auto now = std::chrono::steady_clock::now();
    QidoResponseCache cache(1 << 20, std::chrono::milliseconds(2000));
    cache.setClock([&] { return now; });
    cache.store("k", 7, answer("[1]"));
    auto hit = cache.find("k", 7);
    BOOST_REQUIRE(hit);
    BOOST_TEST(hit->json == "[1]");
    BOOST_TEST(cache.hits() == 1u);

    BOOST_TEST(!cache.find("k", 8));  // the catalog changed
    BOOST_TEST(cache.size() == 0u);   // and the stale entry is gone
    BOOST_TEST(!cache.find("k", 7));

    cache.store("k", 8, answer("[2]"));
    now += std::chrono::milliseconds(1999);
    BOOST_TEST(cache.find("k", 8));
    now += std::chrono::milliseconds(1);
    BOOST_TEST(!cache.find("k", 8));  // too old: another process may have written
    BOOST_TEST(cache.misses() == 3u);
}

BOOST_AUTO_TEST_CASE(byte_budget_evicts_least_recently_used) {
    // Each entry costs key + 2 x JSON (room for its gzip) + 128: 1 + 600 + 128 = 729 bytes.
    QidoResponseCache cache(4000, std::chrono::milliseconds(60000));
    const std::string body(300, 'x');
    for (const char* k : {"a", "b", "c", "d", "e"}) cache.store(k, 1, answer(body));
    BOOST_TEST(cache.size() == 5u);
    BOOST_TEST(cache.find("a", 1));  // a is now the most recent; b the least
    cache.store("f", 1, answer(body));
    BOOST_TEST(cache.size() == 5u);
    BOOST_TEST(cache.find("a", 1));
    BOOST_TEST(!cache.find("b", 1));
    BOOST_TEST(cache.find("f", 1));
    // An answer above a quarter of the budget is not kept at all.
    cache.store("big", 1, answer(std::string(500, 'y')));
    BOOST_TEST(!cache.find("big", 1));
}

BOOST_AUTO_TEST_CASE(gzip_is_made_once_and_round_trips) {
    auto a = answer(std::string(2000, 'z'));
    const std::string& gz = a->gzip();
    BOOST_TEST(gz.size() < 2000u);
    BOOST_TEST(&a->gzip() == &gz);
    BOOST_TEST(bridge::web::MetadataCache::gunzip(gz) == a->json);
}

BOOST_AUTO_TEST_SUITE_END()
