// QIDO's answer cache and C-FIND's share the query part of their keys (bridge/query/
// FindAnswerCache.h queryCacheKey): QIDO's key is that key behind the DICOMweb root.
#include "bridge/query/FindAnswerCache.h"
#include "bridge/query/Query.h"
#include "web/QidoResponseCache.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

using namespace bridge;

BOOST_AUTO_TEST_SUITE(QidoKeyShared)

BOOST_AUTO_TEST_CASE(qido_key_is_the_root_then_the_shared_query_key) {
    Query q;
    q.level = QueryLevel::Study;
    q.keys.push_back({DCM_PatientName, EVR_PN, "DOE*"});
    q.limit = 101;
    q.scope.denied = {"Restricted-Demo"};
    const std::string root = "http://127.0.0.1:8080/dicom-web";
    const std::string k = queryCacheKey(q);
    BOOST_TEST(web::QidoResponseCache::key(q, root) == std::to_string(root.size()) + ":" + root + k);
    Query other = q;
    other.scope.denied.clear();
    BOOST_TEST(web::QidoResponseCache::key(other, root) != web::QidoResponseCache::key(q, root));
}

BOOST_AUTO_TEST_SUITE_END()
