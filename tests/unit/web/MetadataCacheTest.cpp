#include "web/MetadataCache.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

using namespace bridge::web;

BOOST_AUTO_TEST_SUITE(MetadataCacheTest)

BOOST_AUTO_TEST_CASE(gzip_round_trip_and_lru_bound) {
    const std::string json = "[" + std::string(5000, ' ') + "]";
    BOOST_TEST(MetadataCache::gunzip(MetadataCache::gzip(json)) == json);
    const std::size_t entry = MetadataCache::gzip(std::string(1000, 'a')).size();
    MetadataCache cache(2 * entry + entry / 2);  // room for two entries
    cache.store("a", std::string(1000, 'a'));
    cache.store("b", std::string(1000, 'b'));
    cache.store("c", std::string(1000, 'c'));
    BOOST_TEST(!cache.find("a"));  // evicted, least recently used
    BOOST_TEST(cache.find("b") != nullptr);
    BOOST_TEST(cache.find("c") != nullptr);
}

BOOST_AUTO_TEST_CASE(concurrent_requests_build_once) {
    MetadataCache cache;
    std::atomic<int> builds{0};
    auto build = [&]() -> std::pair<std::string, bool> {
        ++builds;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return {"[{\"x\":1}]", true};
    };
    std::shared_ptr<const std::string> r1, r2;
    std::thread t1([&] { r1 = cache.findOrBuild("k", build); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::thread t2([&] { r2 = cache.findOrBuild("k", build); });
    t1.join();
    t2.join();
    BOOST_TEST(builds == 1);
    BOOST_TEST(MetadataCache::gunzip(*r1) == "[{\"x\":1}]");
    BOOST_TEST(*r1 == *r2);
    BOOST_TEST(cache.find("k") != nullptr);
}

BOOST_AUTO_TEST_CASE(incomplete_results_and_failures_are_not_cached) {
    MetadataCache cache;
    auto partial = cache.findOrBuild("p", [] { return std::make_pair(std::string("[]"), false); });
    BOOST_TEST(MetadataCache::gunzip(*partial) == "[]");
    BOOST_TEST(!cache.find("p"));
    BOOST_CHECK_THROW(cache.findOrBuild("e", []() -> std::pair<std::string, bool> { throw std::runtime_error("boom"); }),
                      std::runtime_error);
    auto retry = cache.findOrBuild("e", [] { return std::make_pair(std::string("[1]"), true); });
    BOOST_TEST(MetadataCache::gunzip(*retry) == "[1]");
}

BOOST_AUTO_TEST_SUITE_END()
