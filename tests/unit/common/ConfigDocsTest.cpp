// docs/configuration.md documents every key parseConfig accepts: each `s.on("key"` handler in
// bridge/common/Config.cpp must appear in the page (as `section.key` or `key`).
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ConfigDocs)

BOOST_AUTO_TEST_CASE(every_parsed_key_is_documented) {
    const std::string code = slurp(std::string(BRIDGE_SOURCE_DIR) + "/bridge/common/Config.cpp");
    const std::string docs = slurp(std::string(BRIDGE_SOURCE_DIR) + "/docs/configuration.md");
    const std::regex handler(R"re(s\.on\("([^"]+)")re");
    std::set<std::string> keys;
    for (auto it = std::sregex_iterator(code.begin(), code.end(), handler); it != std::sregex_iterator();
         ++it)
        keys.insert((*it)[1]);
    BOOST_TEST(keys.size() > 40u);
    for (const auto& key : keys) {
        const bool documented = docs.find("." + key + "`") != std::string::npos ||
                                docs.find("`" + key + "`") != std::string::npos;
        BOOST_TEST(documented, "docs/configuration.md lacks `" << key << "`");
    }
}

BOOST_AUTO_TEST_SUITE_END()
