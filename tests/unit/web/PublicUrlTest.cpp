#include "web/PublicUrl.h"

#include <boost/test/unit_test.hpp>

using namespace bridge::web;

BOOST_AUTO_TEST_SUITE(PublicUrlTest)

BOOST_AUTO_TEST_CASE(table) {
    struct Row {
        std::string configured;
        ForwardingHeaders h;
        std::string expected;
    };
    const Row rows[] = {
        {"", {"", "", "", "", "127.0.0.1:8080", "127.0.0.1:8080"}, "http://127.0.0.1:8080"},
        {"", {"", "", "", "", "", "127.0.0.1:9000"}, "http://127.0.0.1:9000"},
        {"https://bridge.example.org/", {"", "evil", "http", "", "x", "y"}, "https://bridge.example.org"},
        {"", {"for=1.2.3.4;host=pacs.example.org;proto=https", "", "", "", "127.0.0.1", ""}, "https://pacs.example.org"},
        {"", {"host=\"a.example:8443\";proto=https, host=b", "", "", "", "127.0.0.1", ""}, "https://a.example:8443"},
        {"", {"", "proxy.example, inner", "https, http", "", "127.0.0.1:8080", ""}, "https://proxy.example"},
        {"", {"", "proxy.example", "", "/tcia/", "127.0.0.1:8080", ""}, "http://proxy.example/tcia"},
        {"", {"", "bad host/with/path", "gopher", "", "127.0.0.1:8080", ""}, "http://127.0.0.1:8080"},
        {"", {"", "", "", "", "h.example\r\nX: y", "10.0.0.1:80"}, "http://10.0.0.1:80"},
        {"", {"", "proxy.example", "HTTPS", "", "127.0.0.1:8080", ""}, "https://proxy.example"},  // proto case
        {"", {"For=1.2.3.4; Host=pacs.example.org; Proto=HTTPS", "", "", "", "127.0.0.1", ""}, "https://pacs.example.org"},
        {"", {"", " \tproxy.example\t ", "", "", "127.0.0.1:8080", ""}, "http://proxy.example"},  // blanks trimmed
        {"", {"", "", "", "", " 127.0.0.1:8080\t", ""}, "http://127.0.0.1:8080"},
    };
    for (const auto& row : rows) BOOST_TEST(publicBaseUrl(row.configured, row.h) == row.expected);
}

BOOST_AUTO_TEST_SUITE_END()
