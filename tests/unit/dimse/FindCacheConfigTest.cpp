// query.findCacheMegabytes (the C-FIND answer cache budget): default, range, and the wiring of
// makeDimseDependencies-like code is covered by DimseFindCache (protocol).
#include <boost/test/unit_test.hpp>

#include "bridge/common/Config.h"
#include "bridge/common/Error.h"

using namespace bridge;

BOOST_AUTO_TEST_SUITE(FindCacheConfig)

BOOST_AUTO_TEST_CASE(find_cache_megabytes_default_range_and_off) {
    BOOST_TEST(parseConfig("{}").query.findCacheMegabytes == 64u);
    BOOST_TEST(parseConfig(R"({"query": {"findCacheMegabytes": 0}})").query.findCacheMegabytes == 0u);
    BOOST_TEST(parseConfig(R"({"query": {"findCacheMegabytes": 4096}})").query.findCacheMegabytes == 4096u);
    for (const char* bad : {R"({"query": {"findCacheMegabytes": 4097}})", R"({"query": {"findCacheMegabytes": -1}})",
                            R"({"query": {"findCacheMegabytes": "64"}})"}) {
        try {
            parseConfig(bad);
            BOOST_ERROR("accepted " << bad);
        } catch (const BridgeError& e) {
            BOOST_TEST((e.code() == ErrorCode::InvalidArgument));
            BOOST_TEST(std::string(e.what()).find("findCacheMegabytes") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
