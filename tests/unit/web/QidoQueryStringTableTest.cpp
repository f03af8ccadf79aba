// QIDO query strings as clients send them, decoded the way WebExchange decodes them
// (Poco::URI::getQueryParameters) and parsed by parseQidoParameters: the whole path from the
// request line to the parameters, one row per input that broke another server.
#include "bridge/common/Error.h"
#include "web/QidoParameters.h"

#include <Poco/URI.h>
#include <boost/test/unit_test.hpp>
#include <dcmtk/dcmdata/dcdeftag.h>

using namespace bridge;
using namespace bridge::web;

namespace {

QidoParameters parseUri(const std::string& uri) { return parseQidoParameters(Poco::URI(uri).getQueryParameters()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(QidoQueryStringTableTest)

BOOST_AUTO_TEST_CASE(valid_query_strings) {
    struct Row {
        const char* uri;
        std::size_t matchKeys, includeFields;
        bool includeAll, fuzzy;
        const char* firstValue;
        const char* why;
    };
    const Row rows[] = {
        {"/dicom-web/studies?&includefield=", 0, 0, false, false, "", "Weasis: leading & and an empty includefield"},
        {"/dicom-web/studies?&includefield=&PatientID=P1", 1, 0, false, false, "P1", "Weasis with a match key"},
        {"/dicom-web/studies?", 0, 0, false, false, "", "a bare ?"},
        {"/dicom-web/studies?limit=10&&offset=5", 0, 0, false, false, "", "doubled &"},
        {"/dicom-web/studies?includefield=ALL", 0, 0, true, false, "", "includefield=all in any case"},
        {"/dicom-web/studies?IncludeField=00081030%2C00080060", 0, 2, false, false, "", "%2C splits like a comma"},
        {"/dicom-web/studies?includefield=00081030,00080060&includefield=00081030", 0, 2, false, false, "",
         "list and repeat, deduplicated"},
        {"/dicom-web/studies?PatientName=DOE%5EJ*", 1, 0, false, false, "DOE^J*", "%5E is the PN caret"},
        {"/dicom-web/studies?PatientName=DOE^J*&fuzzymatching=True", 1, 0, false, true, "DOE^J*", "fuzzymatching in any case"},
        {"/dicom-web/studies?ModalitiesInStudy=CT%2CMR", 1, 0, false, false, "CT\\MR", "encoded comma is a multi-value"},
        {"/dicom-web/studies?StudyDate=20200101-&limit=101&offset=0", 1, 0, false, false, "20200101-", "OHIF work list"},
        {"/dicom-web/studies?0020000D=1.2.3", 1, 0, false, false, "1.2.3", "tag in upper-case hex"},
    };
    for (const auto& row : rows) {
        const auto p = parseUri(row.uri);
        BOOST_TEST(p.matchKeys.size() == row.matchKeys, row.why);
        BOOST_TEST(p.includeFields.size() == row.includeFields, row.why);
        BOOST_TEST(p.includeAll == row.includeAll, row.why);
        BOOST_TEST(p.fuzzyMatching == row.fuzzy, row.why);
        if (!p.matchKeys.empty()) BOOST_TEST(p.matchKeys[0].value == row.firstValue, row.why);
    }
    const auto limited = parseUri("/dicom-web/studies?limit=10&&offset=5");
    BOOST_TEST(limited.limit.value_or(0) == 10u);
    BOOST_TEST(limited.offset == 5u);
}

BOOST_AUTO_TEST_CASE(invalid_query_strings) {
    const char* rows[] = {
        "/dicom-web/studies?PatientNmae=x",
        "/dicom-web/studies?limit=%2D1",
        "/dicom-web/studies?fuzzymatching=yes",
        "/dicom-web/studies?includefield=NoSuchThing",
        "/dicom-web/studies?PatientID=a&00100020=b",
    };
    for (const char* uri : rows) {
        try {
            parseUri(uri);
            BOOST_ERROR("accepted " << uri);
        } catch (const BridgeError& e) {
            BOOST_TEST((e.code() == ErrorCode::InvalidArgument), uri);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
