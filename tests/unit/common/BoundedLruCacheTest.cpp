// bridge/common/BoundedLruCache: table-driven sequences of operations, each followed by the
// cache's contents from the most recent entry to the least recent one.
#include "bridge/common/BoundedLruCache.h"

#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace bridge;

namespace {

/// "k:v ..." from the most recent entry to the least recent, then the byte total.
std::string contents(const BoundedLruCache<std::string, int>& cache) {
    std::ostringstream out;
    cache.forEach([&](const std::string& k, int v, std::size_t) { out << k << ":" << v << " "; });
    out << "bytes=" << cache.bytes();
    return out.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(BoundedLruCacheTest)

BOOST_AUTO_TEST_CASE(operation_table) {
    struct Op {
        char what;  ///< 'i' insert, 'f' find, 'e' erase
        std::string key;
        int value;
        std::size_t bytes;
        bool result;  ///< insert kept / find found / erase erased
    };
    struct Row {
        const char* why;
        std::size_t maxBytes;
        std::vector<Op> ops;
        const char* after;
    };
    const Row rows[] = {
        {"fits", 10, {{'i', "a", 1, 4, true}, {'i', "b", 2, 4, true}}, "b:2 a:1 bytes=8"},
        {"least recent goes first", 10, {{'i', "a", 1, 4, true}, {'i', "b", 2, 4, true}, {'i', "c", 3, 4, true}}, "c:3 b:2 bytes=8"},
        {"find makes an entry recent", 10,
         {{'i', "a", 1, 4, true}, {'i', "b", 2, 4, true}, {'f', "a", 1, 0, true}, {'i', "c", 3, 4, true}}, "c:3 a:1 bytes=8"},
        {"several go for one big entry", 10,
         {{'i', "a", 1, 3, true}, {'i', "b", 2, 3, true}, {'i', "c", 3, 3, true}, {'i', "d", 4, 9, true}}, "d:4 bytes=9"},
        {"exactly the budget is kept", 10, {{'i', "a", 1, 10, true}}, "a:1 bytes=10"},
        {"larger than the budget is not kept, and drops the old value", 10,
         {{'i', "a", 1, 4, true}, {'i', "a", 2, 11, false}, {'f', "a", 0, 0, false}}, "bytes=0"},
        {"replace updates bytes and value", 10, {{'i', "a", 1, 4, true}, {'i', "a", 5, 6, true}}, "a:5 bytes=6"},
        {"erase", 10, {{'i', "a", 1, 4, true}, {'e', "a", 0, 0, true}, {'e', "a", 0, 0, false}}, "bytes=0"},
        {"zero budget keeps only empty entries", 0, {{'i', "a", 1, 0, true}, {'i', "b", 2, 1, false}}, "a:1 bytes=0"},
        {"find of a missing key", 10, {{'f', "x", 0, 0, false}}, "bytes=0"},
    };
    for (const auto& row : rows) {
        BoundedLruCache<std::string, int> cache(row.maxBytes);
        for (const auto& op : row.ops) {
            if (op.what == 'i') {
                BOOST_TEST(cache.insert(op.key, op.value, op.bytes) == op.result, row.why);
            } else if (op.what == 'f') {
                int* v = cache.find(op.key);
                BOOST_TEST((v != nullptr) == op.result, row.why);
                if (v && op.result) BOOST_TEST(*v == op.value, row.why);
            } else {
                BOOST_TEST(cache.erase(op.key) == op.result, row.why);
            }
        }
        BOOST_TEST(contents(cache) == row.after, row.why);
        BOOST_TEST(cache.bytes() <= row.maxBytes, row.why);
    }
}

BOOST_AUTO_TEST_CASE(eviction_order_over_many_entries) {
    BoundedLruCache<int, int> cache(100);
    for (int i = 0; i < 1000; ++i) {
        cache.insert(i, i, 10);
        if (i % 2 == 0) cache.find(i / 2);  // touch an older one now and then
        BOOST_TEST(cache.bytes() <= 100u);
        BOOST_TEST(cache.size() <= 10u);
    }
    BOOST_TEST(cache.find(999) != nullptr);  // the most recent always stays
}

BOOST_AUTO_TEST_SUITE_END()
