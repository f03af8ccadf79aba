// routeLabel: the bounded set of route names used by metrics and the audit trail.
#include <boost/test/unit_test.hpp>

#include "web/WebRoute.h"

using bridge::web::routeLabel;

BOOST_AUTO_TEST_SUITE(RouteLabel)

BOOST_AUTO_TEST_CASE(every_route_has_a_name) {
    const std::vector<std::pair<std::string, std::string>> table{
        {"/", "landing"},
        {"/collections", "collections"},
        {"/health", "health"},
        {"/ready", "ready"},
        {"/metrics", "metrics"},
        {"/wado", "wado-uri"},
        {"/dicom-web/wado", "wado-uri"},
        {"/dicom-web/studies", "qido-studies"},
        {"/dicom-web/studies/1.2/series", "qido-series"},
        {"/dicom-web/studies/1.2/series/3.4/instances", "qido-instances"},
        {"/dicom-web/studies/1.2", "wado-study"},
        {"/dicom-web/studies/1.2/series/3.4", "wado-series"},
        {"/dicom-web/studies/1.2/series/3.4/instances/5.6", "wado-instance"},
        {"/dicom-web/studies/1.2/metadata", "metadata"},
        {"/dicom-web/studies/1.2/series/3.4/instances/5.6/frames/1", "frames"},
        {"/dicom-web/studies/1.2/series/3.4/rendered", "rendered"},
        {"/dicom-web/studies/1.2/series/3.4/thumbnail", "thumbnail"},
        {"/dicom-web/studies/1.2/series/3.4/instances/5.6/frames/x", "other"},  // malformed: no throw
        {"/dicom-web/nothing", "other"},
        {"/etc/passwd", "other"},
    };
    for (const auto& [path, label] : table) BOOST_TEST(routeLabel(path) == label, path);
}

BOOST_AUTO_TEST_SUITE_END()
