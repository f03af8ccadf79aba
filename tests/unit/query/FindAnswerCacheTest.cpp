// FindAnswerCache (the C-FIND answer cache) and queryCacheKey (the key QIDO's cache shares,
// tests/unit/web/QidoKeySharedTest.cpp):
// keys separate scopes and every query field; a generation change or an age beyond maxAge
// misses; the byte budget evicts least recently used answers; 0 MB disables it.
#include "bridge/query/FindAnswerCache.h"
#include "bridge/query/Query.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

using namespace bridge;

namespace {

Query studyQuery() {
    Query q;
    q.level = QueryLevel::Study;
    q.keys.push_back({DCM_StudyInstanceUID, EVR_UI, ""});
    q.keys.push_back({DCM_PatientName, EVR_PN, "DOE*"});
    return q;
}

std::shared_ptr<const FindAnswerCache::Records> records(std::size_t n, std::size_t valueBytes = 10) {
    auto out = std::make_shared<FindAnswerCache::Records>();
    for (std::size_t i = 0; i < n; ++i) {
        DicomRecord r;
        r.set(DCM_StudyInstanceUID, "1.2." + std::to_string(i));
        r.set(DCM_PatientName, std::string(valueBytes, 'x'));
        out->push_back(std::move(r));
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(FindAnswerCacheSuite)

BOOST_AUTO_TEST_CASE(key_separates_scope_and_every_query_field) {
    Query anonymous = studyQuery();
    anonymous.scope.denied = {"Restricted-Demo"};
    Query granted = studyQuery();  // nothing denied: sees the restricted collection
    Query onlyA = studyQuery();
    onlyA.scope.only = std::set<std::string>{"A"};
    Query onlyB = studyQuery();
    onlyB.scope.only = std::set<std::string>{"B"};
    Query visible = studyQuery();
    visible.scope.visible = std::set<std::string>{"A"};

    const std::string k = queryCacheKey(anonymous);
    BOOST_TEST(k != queryCacheKey(granted));
    BOOST_TEST(queryCacheKey(onlyA) != queryCacheKey(onlyB));
    BOOST_TEST(queryCacheKey(onlyA) != queryCacheKey(granted));
    BOOST_TEST(queryCacheKey(visible) != queryCacheKey(granted));
    BOOST_TEST(queryCacheKey(visible) != queryCacheKey(onlyA));

    Query lower = studyQuery();  // CollectionScope is case-insensitive; so is the key
    lower.scope.denied = {"restricted-demo"};
    BOOST_TEST(k == queryCacheKey(lower));

    Query other = anonymous;
    other.model = InformationModel::PatientRoot;
    BOOST_TEST(k != queryCacheKey(other));
    other = anonymous;
    other.caseSensitivePersonNames = true;
    BOOST_TEST(k != queryCacheKey(other));
    other = anonymous;
    other.keys[1].value = "DOE";
    BOOST_TEST(k != queryCacheKey(other));
    other = anonymous;
    other.keys[1].vr = EVR_LO;
    BOOST_TEST(k != queryCacheKey(other));
    other = anonymous;
    std::swap(other.keys[0], other.keys[1]);  // response order follows request order
    BOOST_TEST(k != queryCacheKey(other));
    other = anonymous;
    other.keys.push_back({DCM_StudyDate, EVR_DA, ""});  // one more return key
    BOOST_TEST(k != queryCacheKey(other));
    other = anonymous;
    other.level = QueryLevel::Series;
    BOOST_TEST(k != queryCacheKey(other));
    other = anonymous;
    other.limit = 5;
    BOOST_TEST(k != queryCacheKey(other));
    // A value cannot impersonate the next field.
    Query a = studyQuery(), b = studyQuery();
    a.keys[1].value = "X|only*";
    b.keys[1].value = "X";
    BOOST_TEST(queryCacheKey(a) != queryCacheKey(b));
}

BOOST_AUTO_TEST_CASE(generation_change_and_age_miss) {
    auto now = std::chrono::steady_clock::now();
    FindAnswerCache cache(1 << 20, std::chrono::milliseconds(2000));
    cache.setClock([&] { return now; });
    cache.store("k", 7, records(3));
    auto hit = cache.find("k", 7);
    BOOST_REQUIRE(hit);
    BOOST_TEST(hit->size() == 3u);
    BOOST_TEST((*hit)[2].get(DCM_StudyInstanceUID) == "1.2.2");
    BOOST_TEST(cache.hits() == 1u);

    BOOST_TEST(!cache.find("k", 8));  // the catalog changed
    BOOST_TEST(cache.size() == 0u);   // and the stale entry is gone
    BOOST_TEST(cache.bytes() == 0u);
    BOOST_TEST(!cache.find("k", 7));

    cache.store("k", 8, records(1));
    now += std::chrono::milliseconds(1999);
    BOOST_TEST(cache.find("k", 8));
    now += std::chrono::milliseconds(1);
    BOOST_TEST(!cache.find("k", 8));  // too old: another process may have written
    BOOST_TEST(cache.misses() == 3u);
}

BOOST_AUTO_TEST_CASE(an_empty_answer_is_an_answer) {
    FindAnswerCache cache;
    cache.store("none", 1, records(0));
    auto hit = cache.find("none", 1);
    BOOST_REQUIRE(hit);
    BOOST_TEST(hit->empty());
}

BOOST_AUTO_TEST_CASE(byte_budget_evicts_least_recently_used) {
    const std::size_t one = 1 + FindAnswerCache::estimateBytes(*records(2)) + 128;
    FindAnswerCache cache(5 * one + one / 2, std::chrono::milliseconds(60000));
    for (const char* k : {"a", "b", "c", "d", "e"}) cache.store(k, 1, records(2));
    BOOST_TEST(cache.size() == 5u);
    BOOST_TEST(cache.bytes() == 5 * one);
    BOOST_TEST(cache.find("a", 1));  // a is now the most recent; b the least
    cache.store("f", 1, records(2));
    BOOST_TEST(cache.size() == 5u);
    BOOST_TEST(cache.find("a", 1));
    BOOST_TEST(!cache.find("b", 1));
    BOOST_TEST(cache.find("f", 1));
    BOOST_TEST(cache.bytes() <= 5 * one + one / 2);
    // An answer above a quarter of the budget is not kept at all.
    BOOST_TEST(FindAnswerCache::estimateBytes(*records(2, 2 * one)) > cache.maxAnswerBytes());
    cache.store("big", 1, records(2, 2 * one));
    BOOST_TEST(!cache.find("big", 1));
}

BOOST_AUTO_TEST_CASE(zero_budget_disables) {
    FindAnswerCache cache(0);
    BOOST_TEST(!cache.enabled());
    cache.store("k", 1, records(1));
    BOOST_TEST(!cache.find("k", 1));
    BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
