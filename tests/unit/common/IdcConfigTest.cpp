// The `source` and `idc` configuration (issue 12, docs/idc.md): defaults, parsing, and one clear
// error naming the key for each bad value.
#include <boost/test/unit_test.hpp>

#include "bridge/common/Config.h"
#include "bridge/common/Error.h"

using namespace bridge;

namespace {

std::string errorOf(const std::string& json) {
    try {
        parseConfig(json);
    } catch (const BridgeError& e) {
        return e.what();
    }
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(IdcConfig)

BOOST_AUTO_TEST_CASE(defaults_keep_nbia_and_point_at_the_real_idc) {
    const Config c = parseConfig("{}");
    BOOST_TEST(c.source == "nbia");
    BOOST_TEST(c.idc.apiUrl == "https://api.imaging.datacommons.cancer.gov/v3");
    BOOST_TEST(c.idc.bucketUrl == "https://{bucket}.s3.amazonaws.com");
    BOOST_TEST(c.idc.sqlPageRows == 10000);
    BOOST_TEST(c.idc.maxParallelGets == 8);
}

BOOST_AUTO_TEST_CASE(every_key_parses) {
    const Config c = parseConfig(R"({"source": "idc", "idc": {"apiUrl": "http://127.0.0.1:9/v3",
        "bucketUrl": "http://127.0.0.1:9/s3/{bucket}", "maxParallelGets": 3, "sqlPageRows": 500,
        "maxHeaderBytes": 1048576, "maxObjectBytes": 10485760, "seriesCacheEntries": 10}})");
    BOOST_TEST(c.source == "idc");
    BOOST_TEST(c.idc.apiUrl == "http://127.0.0.1:9/v3");
    BOOST_TEST(c.idc.bucketUrl == "http://127.0.0.1:9/s3/{bucket}");
    BOOST_TEST(c.idc.maxParallelGets == 3);
    BOOST_TEST(c.idc.sqlPageRows == 500);
    BOOST_TEST(c.idc.maxHeaderBytes == 1048576u);
    BOOST_TEST(c.idc.maxObjectBytes == 10485760u);
    BOOST_TEST(c.idc.seriesCacheEntries == 10);
}

BOOST_AUTO_TEST_CASE(each_error_names_its_key) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {R"({"source": "gcs"})", "config.source: must be \"nbia\" or \"idc\""},
        {R"({"source": 1})", "config.source: must be a string"},
        {R"({"idc": {"sqlPageRows": 20000}})", "config.idc.sqlPageRows: must be between 1 and 10000"},
        {R"({"idc": {"maxParallelGets": 0}})", "config.idc.maxParallelGets: must be between"},
        {R"({"idc": {"maxHeaderBytes": 100}})", "config.idc.maxHeaderBytes: must be between"},
        {R"({"idc": {"bucket": "x"}})", "config.idc.bucket: unknown key"},
        {R"({"source": "idc", "idc": {"apiUrl": "ftp://x/v3"}})", "config.idc.apiUrl: must be an http"},
        {R"({"source": "idc", "idc": {"bucketUrl": "s3://{bucket}"}})",
         "config.idc.bucketUrl: must be an http"},
    };
    for (const auto& [json, expected] : cases) {
        const std::string error = errorOf(json);
        BOOST_TEST(error.find(expected) != std::string::npos, json << " -> '" << error << "'");
    }
    // The URLs are checked only when IDC is the source.
    BOOST_TEST(errorOf(R"({"idc": {"apiUrl": "ftp://x/v3"}})") == "");
}

BOOST_AUTO_TEST_SUITE_END()
