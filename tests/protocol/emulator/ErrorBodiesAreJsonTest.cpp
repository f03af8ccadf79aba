// The emulator's error answers (admin endpoint, OAuth token endpoint) are valid JSON whatever
// the client sent: the fault spec and the grant type used to be pasted between quotes
// unescaped, so a '"' or '\' in them made the 400 body unparseable.
#include "tests/protocol/emulator/HttpProbe.h"
#include "tests/support/TestSupport.h"

#include <boost/test/unit_test.hpp>

using namespace emulator::test;
using bridge::test::EmulatorProcess;

namespace {

std::string url(const EmulatorProcess& p, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(p.port()) + path;
}

Poco::JSON::Object::Ptr object(const std::string& body) {
    return parseOrdered(body).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(EmulatorErrorBodiesAreJson)

BOOST_AUTO_TEST_CASE(error_bodies_parse_as_json) {
    EmulatorProcess emu({"--quiet"});
    struct Row {
        std::string path, method, body;
        int status;
        std::string field, mustContain;
    };
    const Row rows[] = {
        {"/emulator/faults?spec=getImage%3A%22quoted%22%5Cslash", "POST", "", 400, "error", "\"quoted\"\\slash"},
        {"/emulator/faults?spec=getImage:explode:1", "POST", "", 400, "error", "getImage:explode:1"},
        {"/emulator/nowhere", "GET", "", 404, "error", "unknown admin path"},
        {"/nbia-api/oauth/token", "POST", "grant_type=a%22b%5Cc&client_id=NBIA", 400, "error_description", "a\"b\\c"},
        {"/nbia-api/oauth/token", "POST", "grant_type=password&username=x&password=y&client_id=NBIA", 401, "error", "invalid_grant"},
    };
    for (const auto& row : rows) {
        const auto r = http(url(emu, row.path), row.method, {}, row.body);
        BOOST_TEST(r.status == row.status, row.path);
        Poco::JSON::Object::Ptr json;
        BOOST_CHECK_NO_THROW(json = object(r.body));
        if (!json) {
            BOOST_ERROR("not JSON: " << r.body);
            continue;
        }
        BOOST_TEST(json->getValue<std::string>(row.field).find(row.mustContain) != std::string::npos, r.body);
    }
}

BOOST_AUTO_TEST_SUITE_END()
