// The TCIA JSON parsers against every captured sample (shared/tcia/samples, copied into
// tests/data/tcia-samples so the test does not depend on a path outside the tree) and the drift
// cases of API.md section 11.
#include <json/json.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "bridge/common/Error.h"
#include "bridge/tcia/TciaJsonParser.h"
#include "bridge/tcia/TokenProvider.h"
#include "bridge/tcia/ZipStreamReader.h"

using namespace bridge;
using namespace bridge::tcia;

namespace {

std::string sample(const std::string& name) {
    std::ifstream in(std::string(BRIDGE_SOURCE_DIR) + "/tests/data/tcia-samples/" + name, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "missing sample " << name);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool isBadResponse(const BridgeError& e) { return e.code() == ErrorCode::UpstreamBadResponse; }

}  // namespace

BOOST_AUTO_TEST_SUITE(Samples)

BOOST_AUTO_TEST_CASE(valueListsFromEverySample) {
    const struct {
        const char* file;
        const char* column;
        std::size_t count;
        const char* first;
        const char* last;
    } cases[] = {
        {"v1.getCollectionValues.json", "Collection", 0, "4D-Lung", nullptr},
        {"v2.getCollectionValues.json", "Collection", 0, "4D-Lung", nullptr},
        {"v1.getModalityValues.json", "Modality", 18, "CR", "XA"},
        {"v1.getBodyPartValues.json", "BodyPartExamined", 0, "ABD", nullptr},  // leading {} skipped
        {"v1.getManufacturerValues.json", "Manufacturer", 0, "\"GE Healthcare\"", nullptr},
        {"v1.getSOPInstanceUIDs.json", "SOPInstanceUID", 2,
         "1.3.6.1.4.1.14519.5.2.1.6279.6001.307896144859643716158189196068",
         "1.3.6.1.4.1.14519.5.2.1.6279.6001.257944242390114100388269195181"},
    };
    for (const auto& c : cases) {
        auto values = parseValues(sample(c.file), c.column);
        BOOST_TEST_CONTEXT(c.file) {
            BOOST_TEST(!values.empty());
            if (c.count) BOOST_TEST(values.size() == c.count);
            BOOST_TEST(values.front() == c.first);
            if (c.last) BOOST_TEST(values.back() == c.last);
            for (const auto& v : values) BOOST_TEST(!v.empty());
        }
    }
    BOOST_TEST(parseSopInstanceUids(sample("v1.getSOPInstanceUIDs.json")).size() == 2u);
    // Value with trailing spaces kept verbatim (API.md 3.1: "CHEST (THORAX) ").
    auto bodyParts = parseValues(sample("v1.getBodyPartValues.json"), "BodyPartExamined");
    BOOST_TEST((std::find(bodyParts.begin(), bodyParts.end(), "CHEST (THORAX) ") != bodyParts.end()));
}

BOOST_AUTO_TEST_CASE(patientsV1) {
    auto patients = parsePatients(sample("v1.getPatient.trimmed.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(patients.size(), 2u);
    BOOST_TEST(patients[0].patientId == "LIDC-IDRI-0001");  // "PatientId" with lower-case d
    BOOST_TEST(patients[0].patientName == "");
    BOOST_TEST(patients[0].collection == "LIDC-IDRI");
    BOOST_TEST(patients[0].phantom == "NO");
    BOOST_TEST(patients[0].speciesCode == "337915000");
    BOOST_TEST(patients[0].speciesDescription == "Homo sapiens");
    BOOST_TEST(!patients[0].authorized.has_value());

    auto fresh = parsePatients(sample("v1.NewPatientsInCollection.first5.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(fresh.size(), 5u);
    BOOST_TEST(fresh[0].patientId == "Mass-Training_P_01009_RIGHT_CC_1");
    BOOST_TEST(fresh[0].collection == "CBIS-DDSM");

    auto byModality =
        parsePatients(sample("v1.getPatientByCollectionAndModality.first10.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(byModality.size(), 10u);
    BOOST_TEST(byModality[0].patientId == "1215936303");
    BOOST_TEST(byModality[9].patientId == "1964161783");
}

BOOST_AUTO_TEST_CASE(studiesV1) {
    auto studies = parseStudies(sample("v1.getPatientStudy.trimmed.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(studies.size(), 2u);
    BOOST_TEST(studies[0].studyInstanceUid ==
               "1.3.6.1.4.1.14519.5.2.1.6279.6001.175012972118199124641098335511");
    BOOST_TEST(studies[0].studyDate == "20000101");
    BOOST_TEST(studies[0].patientId == "LIDC-IDRI-0001");
    BOOST_TEST(studies[1].seriesCount.value_or(-1) == 9);

    auto fresh = parseStudies(sample("v1.NewStudiesInPatientCollection.first5.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(fresh.size(), 5u);
    BOOST_TEST(fresh[0].studyDate == "20160721");
    BOOST_TEST(fresh[0].studyId == "DDSM");
    BOOST_TEST(fresh[0].seriesCount.value_or(-1) == 1);
}

BOOST_AUTO_TEST_CASE(seriesV1AprilCapture) {
    auto series = parseSeries(sample("v1.getSeries.json"), ApiVersion::V1);
    BOOST_REQUIRE(series.size() >= 3u);
    const auto& s = series[0];
    BOOST_TEST(s.seriesInstanceUid == "1.3.6.1.4.1.9328.50.1.48441840081578419409180519840073808100");
    BOOST_TEST(s.modality == "CT");
    BOOST_TEST(s.seriesNumber == "8");
    BOOST_TEST(s.imageCount.value_or(-1) == 213);
    BOOST_TEST(s.maxSubmissionTimestamp == "2011-11-08 08:08:01.0");  // v1 TimeStamp, as sent
    BOOST_TEST(s.seriesDate == "");                                   // omitted NULL
    BOOST_TEST(series[2].seriesDate == "20141106");
    BOOST_TEST(series[2].modality == "SEG");
    BOOST_TEST(series[2].seriesNumber == "1000");
}

BOOST_AUTO_TEST_CASE(seriesV1LidcAndV2) {
    auto lidc = parseSeries(sample("v1.getSeries.LIDC.trimmed.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(lidc.size(), 1u);
    BOOST_TEST(lidc[0].annotationsFlag.value_or(false) == true);
    BOOST_TEST(lidc[0].fileSize.value_or(-1) == 16357620);
    BOOST_TEST(lidc[0].dataDescriptionUri ==
               "https://doi.org/10.7937/K9/TCIA.2015.LO9QL9SX");  // CollectionURI
    BOOST_TEST(lidc[0].licenseUri == "http://creativecommons.org/licenses/by/3.0/");
    BOOST_TEST(lidc[0].seriesNumber == "3000923");

    auto v2 = parseSeries(sample("v2.getSeries.first5.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(v2.size(), 5u);
    BOOST_TEST(v2[0].studyDescription == "MRI LT LEG +C");  // StudyDesc
    BOOST_TEST(v2[0].studyDate == "20031212");
    BOOST_TEST(v2[0].dateReleased == "20150527");
    BOOST_TEST(v2[0].fileSize.value_or(-1) == 25273786);
    BOOST_TEST(v2[0].dataDescriptionUri == "https://doi.org/10.7937/K9/TCIA.2015.7GO2GSKS");

    auto cart = parseSeries(sample("v1.getContentsByName.first5.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(cart.size(), 5u);
    BOOST_TEST(cart[0].protocolName == "iCAD PROSTATE WITH DIFF/");
    BOOST_TEST(cart[0].imageCount.value_or(-1) == 52);
}

BOOST_AUTO_TEST_CASE(seriesMetaDataSpacedNames) {
    auto meta = parseSeries(sample("v1.getSeriesMetaData.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(meta.size(), 1u);
    BOOST_TEST(meta[0].seriesInstanceUid ==
               "1.3.6.1.4.1.9590.100.1.2.374115997511889073021386151921807063992");
    BOOST_TEST(meta[0].patientId == "Calc-Test_P_00038_LEFT_CC");
    BOOST_TEST(meta[0].studyDate == "20170829");
    BOOST_TEST(meta[0].seriesNumber == "1");                // "1.000000"
    BOOST_TEST(meta[0].imageCount.value_or(-1) == 1);       // "1"
    BOOST_TEST(meta[0].fileSize.value_or(-1) == 27844690);  // "27844690"
    BOOST_TEST(meta[0].licenseUri == "http://creativecommons.org/licenses/by/3.0/");
    BOOST_TEST(meta[0].dataDescriptionUri == "https://doi.org/10.7937/K9/TCIA.2016.7O02S9CY");

    auto lidc = parseSeries(sample("v1.getSeriesMetaData.LIDC.trimmed.json"), ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(lidc.size(), 1u);
    BOOST_TEST(lidc[0].seriesNumber == "3000923");
    BOOST_TEST(lidc[0].imageCount.value_or(-1) == 2);
}

BOOST_AUTO_TEST_CASE(seriesV4SwaggerExamples) {
    auto series = parseSeries(sample("v4.getSeries.swagger-example.json"), ApiVersion::V4);
    BOOST_REQUIRE_EQUAL(series.size(), 1u);
    const auto& s = series[0];
    BOOST_TEST(s.site == "FDA");
    BOOST_TEST(s.patientSex == "F");
    BOOST_TEST(s.maxSubmissionTimestamp == "02-25-2019");
    BOOST_TEST(s.dataDescriptionUri == "https://doi.org/10.7937/TCIA.2019.ho23nxaw");
    BOOST_TEST(s.releasedStatus == "Yes");
    BOOST_TEST(s.dateReleased == "20190308");
    BOOST_TEST(s.studyDate == "20180106");
    BOOST_TEST(s.authorized.value_or(false) == true);  // 1
    BOOST_TEST(s.seriesNumber == "");                  // omitted

    auto updated = parseSeries(sample("v4.getUpdatedSeries.swagger-example.json"), ApiVersion::V4);
    BOOST_REQUIRE_EQUAL(updated.size(), 1u);
    BOOST_TEST(updated[0].seriesDate == "19900619");
    BOOST_TEST(updated[0].maxSubmissionTimestamp == "08-04-2023");  // TimeStamp in a v4 example
    BOOST_TEST(updated[0].thirdPartyAnalysis == "NO");
}

BOOST_AUTO_TEST_CASE(seriesSizeSample) {
    auto size = parseSeriesSize(sample("v1.getSeriesSize.json"));
    BOOST_TEST(size.totalSizeInBytes.value_or(-1) == 16357620);
    BOOST_TEST(size.objectCount.value_or(-1) == 2);
}

BOOST_AUTO_TEST_CASE(tokenSamples) {
    auto token = TokenProvider::parseTokenResponse(sample("auth.oauth-token.spring-era.wiki-sample.json"));
    BOOST_TEST(token.accessToken == "f7889076-b3e4-4768-9419-3cd973adda76");
    BOOST_TEST(token.refreshToken == "671bb72b-f929-4ef5-a4d7-b52341a6007a");
    BOOST_TEST(token.expiresIn.count() == 7199);
    auto refreshed =
        TokenProvider::parseTokenResponse(sample("auth.oauth-token-refresh.spring-era.wiki-sample.json"));
    BOOST_TEST(refreshed.accessToken == "bbe4aa2c-7235-41ad-9770-31619d3dbd15");
    BOOST_TEST(refreshed.expiresIn.count() == 119);
}

BOOST_AUTO_TEST_CASE(zipEntryNameSamples) {
    // The real getImage / getImageWithMD5Hash listings: only LICENSE and md5hashes.csv are furniture.
    for (const char* file :
         {"v1.getImage.zip-entry-names.json", "v1.getImageWithMD5Hash.zip-entry-names.json"}) {
        std::string text = sample(file);
        Json::Value names;
        std::istringstream(text) >> names;
        BOOST_REQUIRE(names.isArray());
        int instances = 0, skipped = 0;
        for (const auto& n : names) (ZipStreamReader::isSkippedEntry(n.asString()) ? skipped : instances)++;
        BOOST_TEST_CONTEXT(file) {
            BOOST_TEST(skipped == 1);
            BOOST_TEST(instances == static_cast<int>(names.size()) - 1);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(Drift)

BOOST_AUTO_TEST_CASE(emptyBodiesAreEmptyResults) {
    for (const char* body : {"", "  \n", "[]"}) {
        BOOST_TEST(parseSeries(body, ApiVersion::V4).empty());
        BOOST_TEST(parsePatients(body, ApiVersion::V1).empty());
        BOOST_TEST(parseStudies(body, ApiVersion::V4).empty());
        BOOST_TEST(parseValues(body, "Collection").empty());
        BOOST_TEST(!parseSeriesSize(body).objectCount.has_value());
    }
    auto unknownUid = parseSeriesSize("[{}]");  // aggregate over nothing (API.md 3.9)
    BOOST_TEST(!unknownUid.totalSizeInBytes.has_value());
    BOOST_TEST(!unknownUid.objectCount.has_value());
}

BOOST_AUTO_TEST_CASE(plainTextErrorBodiesBecomeUpstreamBadResponse) {
    const char* bodies[] = {
        "A parameter, SeriesInstanceUID is required for this API call.",
        "Invalid query parameter: 'collection'. Allowed parameters are: [Collection, format]",
        "Server was not able to process your request\nnull",
        "<html><body>502 Bad Gateway</body></html>",
        "[{\"Collection\": \"x\"",  // truncated JSON
        "{\"errorMessage\":\"java.lang.IndexOutOfBoundsException: Index: 0, Size: 0\"}",
        "\"just a string\"",
    };
    for (const char* body : bodies) {
        BOOST_CHECK_EXCEPTION(parseSeries(body, ApiVersion::V4), BridgeError, isBadResponse);
        BOOST_CHECK_EXCEPTION(parseValues(body, "Collection"), BridgeError, isBadResponse);
    }
    try {
        parseValues("A parameter, SeriesInstanceUID is required for this API call.", "SOPInstanceUID");
    } catch (const BridgeError& e) {
        BOOST_TEST(std::string(e.what()).find("SeriesInstanceUID is required") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(numbersAsStringsAndBooleansInEveryShape) {
    auto s = parseSeries(R"([{"SeriesInstanceUID":"1.2","SeriesNumber":"4.000000","ImageCount":"27",
        "FileSize":"27844690","AnnotationsFlag":"1","Authorized":"YES"},
      {"SeriesInstanceUID":"1.3","SeriesNumber":4.0,"ImageCount":27.0,"FileSize":1.0E3,
        "AnnotationsFlag":false,"Authorized":0},
      {"SeriesInstanceUID":"1.4","SeriesNumber":"7","ImageCount":"n/a","AnnotationsFlag":"NO","Authorized":true},
      {"SeriesInstanceUID":"1.5","SeriesNumber":"4.5","AnnotationsFlag":"maybe"}])",
                         ApiVersion::V4);
    BOOST_REQUIRE_EQUAL(s.size(), 4u);
    BOOST_TEST(s[0].seriesNumber == "4");
    BOOST_TEST(s[0].imageCount.value_or(-1) == 27);
    BOOST_TEST(s[0].fileSize.value_or(-1) == 27844690);
    BOOST_TEST(s[0].annotationsFlag.value_or(false) == true);
    BOOST_TEST(s[0].authorized.value_or(false) == true);
    BOOST_TEST(s[1].seriesNumber == "4");
    BOOST_TEST(s[1].imageCount.value_or(-1) == 27);
    BOOST_TEST(s[1].fileSize.value_or(-1) == 1000);
    BOOST_TEST(s[1].annotationsFlag.value_or(true) == false);
    BOOST_TEST(s[1].authorized.value_or(true) == false);
    BOOST_TEST(s[2].seriesNumber == "7");
    BOOST_TEST(!s[2].imageCount.has_value());
    BOOST_TEST(s[2].annotationsFlag.value_or(true) == false);
    BOOST_TEST(s[2].authorized.value_or(false) == true);
    BOOST_TEST(s[3].seriesNumber == "4.5");  // not integral: kept as sent
    BOOST_TEST(!s[3].annotationsFlag.has_value());
}

BOOST_AUTO_TEST_CASE(nameDriftResolved) {
    auto p = parsePatients(R"([{"PatientID":"A"},{"PatientId":"B","Authorized":1}])", ApiVersion::V4);
    BOOST_REQUIRE_EQUAL(p.size(), 2u);
    BOOST_TEST(p[0].patientId == "A");
    BOOST_TEST(p[1].patientId == "B");
    BOOST_TEST(p[1].authorized.value_or(false));

    auto st =
        parseStudies(R"([{"StudyInstanceUID":"1","StudyDesc":"short","AdmittingDiagnosisDescription":"x",
        "LongitudinalTemporalOffsetFromEvent":"12.5","SeriesCount":"3"},
      {"StudyInstanceUID":"2","StudyDescription":"long","AdmittingDiagnosesDescription":"y","StudyDate":"06-19-1990",
        "LongitudinalTemporalOffsetFromEvent":-3}])",
                     ApiVersion::V4);
    BOOST_REQUIRE_EQUAL(st.size(), 2u);
    BOOST_TEST(st[0].studyDescription == "short");
    BOOST_TEST(st[0].admittingDiagnosesDescription == "x");
    BOOST_TEST(st[0].longitudinalTemporalOffsetFromEvent.value_or(0) == 12.5);
    BOOST_TEST(st[0].seriesCount.value_or(0) == 3);
    BOOST_TEST(st[1].studyDescription == "long");
    BOOST_TEST(st[1].admittingDiagnosesDescription == "y");
    BOOST_TEST(st[1].studyDate == "19900619");
    BOOST_TEST(st[1].longitudinalTemporalOffsetFromEvent.value_or(0) == -3.0);

    auto se = parseSeries(R"([{"SeriesInstanceUID":"1","CollectionURI":"doi:a","TimeStamp":"t1",
        "AdmittingDiagnosesDescription":"d1","StudyDescription":"sd"},
      {"SeriesInstanceUID":"2","DataDescriptionURI":"doi:b","MaxSubmissionTimestamp":"t2",
        "AdmittingDiagnosisDescription":"d2","StudyDesc":"sd2"}])",
                          ApiVersion::V1);
    BOOST_REQUIRE_EQUAL(se.size(), 2u);
    BOOST_TEST(se[0].dataDescriptionUri == "doi:a");
    BOOST_TEST(se[0].maxSubmissionTimestamp == "t1");
    BOOST_TEST(se[0].admittingDiagnosisDescription == "d1");
    BOOST_TEST(se[0].studyDescription == "sd");
    BOOST_TEST(se[1].dataDescriptionUri == "doi:b");
    BOOST_TEST(se[1].maxSubmissionTimestamp == "t2");
    BOOST_TEST(se[1].admittingDiagnosisDescription == "d2");
    BOOST_TEST(se[1].studyDescription == "sd2");
}

BOOST_AUTO_TEST_CASE(unknownKeysIgnoredMissingKeysTolerated) {
    auto s =
        parseSeries(R"([{"SeriesInstanceUID":"1.2","NewColumn2030":{"nested":[1,2]},"Modality":null},{}])",
                    ApiVersion::V4);
    BOOST_REQUIRE_EQUAL(s.size(), 1u);  // the `{}` row skipped
    BOOST_TEST(s[0].seriesInstanceUid == "1.2");
    BOOST_TEST(s[0].modality == "");
    BOOST_TEST(!s[0].imageCount.has_value());
    BOOST_TEST(!s[0].fileSize.has_value());
}

BOOST_AUTO_TEST_CASE(valueListsSkipEmptyObjectsAndEscapedSlashes) {
    auto v = parseValues(R"([{},{"Manufacturer":"A\/B"},{"Other":"x"},{"Manufacturer":""},"bare"])",
                         "Manufacturer");
    BOOST_REQUIRE_EQUAL(v.size(), 2u);
    BOOST_TEST(v[0] == "A/B");  // Jettison escapes '/' (API.md 2.2)
    BOOST_TEST(v[1] == "bare");
    auto single = parseValues(R"({"Collection":"X"})", "Collection");  // a lone object
    BOOST_REQUIRE_EQUAL(single.size(), 1u);
    BOOST_TEST(single[0] == "X");
}

BOOST_AUTO_TEST_CASE(integerNormalisation) {
    BOOST_TEST(normalizeIntegerString("4.000000") == "4");
    BOOST_TEST(normalizeIntegerString(" 12 ") == "12");
    BOOST_TEST(normalizeIntegerString("500.000000") == "500");
    BOOST_TEST(normalizeIntegerString("-1.0") == "-1");
    BOOST_TEST(normalizeIntegerString("4.5") == "4.5");
    BOOST_TEST(normalizeIntegerString("abc") == "abc");
    BOOST_TEST(normalizeIntegerString("") == "");
}

BOOST_AUTO_TEST_SUITE_END()
