// Regression (fuzz/dicom_json_record): a non-finite FL/FD value in a record -- TCIA text such as
// "1e999" put into an FD -- made DCMTK 3.6.7 write a bare `inf`, which is not JSON: OHIF's
// JSON.parse then fails on the whole QIDO response. (A NaN stored in an instance's binary FD made
// DCMTK refuse datasetToJson altogether: tests/protocol/web/MetadataNonFiniteTest.cpp.)
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <json/json.h>

#include <boost/test/unit_test.hpp>

#include "tests/support/JsonAsserts.h"
#include "web/DicomJson.h"

using namespace bridge;
using namespace bridge::web;
using namespace bridge::test;

BOOST_AUTO_TEST_CASE(dicom_json_of_a_non_finite_float_is_null_not_a_bare_inf) {
    DicomRecord record;
    record.set(DCM_LongitudinalTemporalOffsetFromEvent, "1e999");  // FD
    record.set(DCM_PatientName, "inf^nan");                         // text stays text
    record.set(DCM_SliceLocation, "1e5");                           // DS stays a number
    const Json::Value json = strictParseJson(recordToJson(record));
    BOOST_TEST(json["00120052"]["Value"][0].isNull());
    BOOST_TEST(json["00100010"]["Value"][0]["Alphabetic"].asString() == "inf^nan");
    BOOST_TEST(json["00201041"]["Value"][0].asDouble() == 1e5);
}
