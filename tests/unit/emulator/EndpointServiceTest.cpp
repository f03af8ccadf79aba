#include "emulator/EndpointService.h"
#include "emulator/JettisonJson.h"

#include <boost/test/unit_test.hpp>

using namespace emulator;

namespace {

SeriesRecord makeSeries(const std::string& collection, const std::string& patient, const std::string& study,
                        const std::string& series, const std::string& modality, const std::string& bodyPart,
                        const std::string& released, bool restricted = false) {
    SeriesRecord r;
    r.collection = collection;
    r.licenseName = "Creative Commons Attribution 3.0 Unported License";
    r.licenseUri = "http://creativecommons.org/licenses/by/3.0/";
    r.doi = "https://doi.org/10.7937/TCIA.DEMO.X";
    r.restricted = restricted;
    r.patientId = patient;
    r.patientName = patient;
    r.patientSex = "M";
    r.studyUid = study;
    r.studyDate = "20000101";
    r.studyDescription = "CT CHEST/ABD";
    r.seriesUid = series;
    r.modality = modality;
    r.bodyPart = bodyPart;
    r.seriesNumber = 3;
    r.manufacturer = "GE MEDICAL SYSTEMS";
    r.imageCount = 2;
    r.fileSize = 1000;
    r.dateReleased = released;
    r.maxSubmissionTimestamp = released;
    return r;
}

std::shared_ptr<const DataIndex> smallIndex() {
    std::vector<CollectionInfo> collections{{"Beta", "", "", "", "20150101000000", "", false},
                                            {"alpha", "", "", "", "20150101000000", "", false},
                                            {"Secret", "", "", "", "20150101000000", "", true}};
    std::vector<SeriesRecord> series{
        makeSeries("Beta", "P1", "1.1", "1.1.1", "CT", "chest", "20150527171221"),
        makeSeries("Beta", "P1", "1.1", "1.1.2", "MR", "", "20150527171221"),
        makeSeries("Beta", "P1", "1.2", "1.2.1", "CT", "CHEST", "20170310120000"),
        makeSeries("alpha", "P1", "2.1", "2.1.1", "ct", "Abdomen", "20160101000000"),
        makeSeries("Secret", "S1", "3.1", "3.1.1", "CT", "HEAD", "20200101000000", true),
    };
    std::map<std::string, std::vector<InstanceRecord>> instances;
    instances["1.1.1"] = {{"9.1", "1.2.840.10008.5.1.4.1.1.2", "/dev/null", 2, 1, 10, "aa"},
                          {"9.2", "1.2.840.10008.5.1.4.1.1.2", "/dev/null", 1, 1, 10, "bb"}};
    return std::make_shared<DataIndex>(collections, series, instances);
}

ApiResponse call(const std::string& version, const std::string& endpoint,
                 std::vector<std::pair<std::string, std::string>> params = {}, bool authorized = false) {
    static EndpointService service(smallIndex());
    ApiRequest r;
    r.version = version;
    r.endpoint = endpoint;
    r.params = std::move(params);
    r.authorized = authorized;
    ApiResponse answer = service.handle(r);
    if (answer.stream) {  // large-answer endpoints stream their body
        answer.stream([&](const std::string& piece) { answer.body += piece; });
        answer.stream = nullptr;
    }
    return answer;
}

std::vector<std::string> keys(const JsonRow& row) {
    std::vector<std::string> out;
    for (const auto& [k, v] : row) out.push_back(k);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(EndpointServiceSuite)

BOOST_AUTO_TEST_CASE(get_series_columns_per_version) {
    const SeriesRecord r = makeSeries("C", "P", "1", "1.1", "CT", "CHEST", "20150527171221");
    const std::vector<std::string> v1{"SeriesInstanceUID", "StudyInstanceUID", "Modality", "ProtocolName", "SeriesDate",
                                      "SeriesDescription", "BodyPartExamined", "SeriesNumber", "AnnotationsFlag",
                                      "Collection", "PatientID", "Manufacturer", "ManufacturerModelName",
                                      "SoftwareVersions", "ImageCount", "TimeStamp", "LicenseName", "LicenseURI",
                                      "CollectionURI", "FileSize", "DateReleased", "StudyDesc", "StudyDate",
                                      "ThirdPartyAnalysis"};
    BOOST_TEST(keys(EndpointService::seriesRow("v1", r)) == v1, boost::test_tools::per_element());
    const auto v4 = keys(EndpointService::seriesRow("v4", r));
    BOOST_TEST(v4.size() == 30u);
    BOOST_TEST(v4[10] == "Site");
    BOOST_TEST(v4[19] == "MaxSubmissionTimestamp");
    BOOST_TEST(v4[22] == "DataDescriptionURI");
    BOOST_TEST(v4.back() == "Authorized");
    const auto updated = keys(EndpointService::updatedSeriesRowV1(r));
    BOOST_TEST(updated.size() == 16u);
    BOOST_TEST(updated[14] == "ImageCount");
    BOOST_TEST(updated[15] == "DateReleased");
    BOOST_TEST(keys(EndpointService::seriesMetaDataRowV1(r)).size() == 27u);
    BOOST_TEST(keys(EndpointService::seriesMetadataRowV4(r)).size() == 40u);
    BOOST_TEST(keys(EndpointService::patientRow("v1", r))[0] == "PatientId");
    BOOST_TEST(keys(EndpointService::studyRow("v1", r, 1)).size() == 15u);
    BOOST_TEST(keys(EndpointService::studyRow("v4", r, 1)).size() == 15u);  // -PatientBirthDate +Authorized
}

BOOST_AUTO_TEST_CASE(dates_and_escaping_on_the_wire) {
    const auto v1 = call("v1", "getSeries", {{"SeriesInstanceUID", "1.1.1"}}).body;
    BOOST_TEST(v1.find(R"("StudyDate":"2000-01-01 00:00:00.0")") != std::string::npos);
    BOOST_TEST(v1.find(R"("TimeStamp":"2015-05-27 17:12:21.0")") != std::string::npos);
    BOOST_TEST(v1.find(R"("LicenseURI":"http:\/\/creativecommons.org\/licenses\/by\/3.0\/")") != std::string::npos);
    BOOST_TEST(v1.find(R"("StudyDesc":"CT CHEST\/ABD")") != std::string::npos);
    BOOST_TEST(v1.find("ProtocolName") == std::string::npos);  // NULL => key absent
    const auto v4 = call("v4", "getSeries", {{"SeriesInstanceUID", "1.1.1"}}).body;
    BOOST_TEST(v4.find(R"("StudyDate":"01-01-2000")") != std::string::npos);
    BOOST_TEST(v4.find(R"("Authorized":1)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(filters_are_exact_and_case_insensitive) {
    BOOST_TEST(!call("v1", "getSeries", {{"Collection", "BETA"}, {"Modality", "ct"}}).body.empty());
    BOOST_TEST(call("v1", "getSeries", {{"Collection", "BET"}}).body.empty());  // no wildcard, no prefix
    const auto r = call("v1", "getSeries", {{"Collection", "zzz"}});
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body.empty());
}

BOOST_AUTO_TEST_CASE(value_lists_sorted_with_null_first) {
    BOOST_TEST(call("v1", "getCollectionValues").body == R"([{"Collection":"Beta"},{"Collection":"alpha"}])");
    // v1 upper-cases body parts; the NULL body part comes first as {}.
    BOOST_TEST(call("v1", "getBodyPartValues").body == R"([{},{"BodyPartExamined":"ABDOMEN"},{"BodyPartExamined":"CHEST"}])");
    // v1 modality values are not upper-cased; v4 ones are.
    BOOST_TEST(call("v1", "getModalityValues", {{"Collection", "alpha"}}).body == R"([{"Modality":"ct"}])");
    BOOST_TEST(call("v4", "getModalityValues", {{"Collection", "alpha"}}).body == R"([{"Modality":"CT"}])");
}

BOOST_AUTO_TEST_CASE(restricted_collection_only_with_authorization) {
    BOOST_TEST(call("v4", "getCollectionValues").body.find("Secret") == std::string::npos);
    BOOST_TEST(call("v4", "getCollectionValues", {}, true).body.find("Secret") != std::string::npos);
    BOOST_TEST(call("v4", "getSeries", {{"PatientID", "S1"}}).body.empty());
    BOOST_TEST(!call("v4", "getSeries", {{"PatientID", "S1"}}, true).body.empty());
    BOOST_TEST(call("v4", "getImage", {{"SeriesInstanceUID", "3.1.1"}}).status == 400);
}

BOOST_AUTO_TEST_CASE(duplicate_patient_across_collections_gives_two_rows) {
    const auto body = call("v1", "getPatient", {{"PatientId", "P1"}}).body;
    BOOST_TEST(body.find(R"("Collection":"Beta")") != std::string::npos);
    BOOST_TEST(body.find(R"("Collection":"alpha")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(object_lists_are_shuffled_deterministically) {
    const auto a = call("v1", "getSeries", {{"PatientID", "P1"}}).body;
    BOOST_TEST(a == call("v1", "getSeries", {{"PatientID", "P1"}}).body);
}

BOOST_AUTO_TEST_CASE(release_date_filters_strict_and_inclusive) {
    // v1 NewStudiesInPatientCollection: date_released > Date (strict).
    auto r = call("v1", "NewStudiesInPatientCollection", {{"Collection", "Beta"}, {"Date", "2017/03/10"}});
    BOOST_TEST(r.body.find("\"1.2\"") != std::string::npos);  // released 2017-03-10 12:00 > 2017-03-10 00:00
    r = call("v1", "NewStudiesInPatientCollection", {{"Collection", "Beta"}, {"Date", "2017/03/11"}});
    BOOST_TEST(r.body.empty());
    // Unparsable v1 date: empty answer, not an error.
    r = call("v1", "NewPatientsInCollection", {{"Collection", "Beta"}, {"Date", "03-10-2017"}});
    BOOST_TEST(r.status == 200);
    BOOST_TEST(r.body.empty());
    // v1 getUpdatedSeries takes dd/MM/yyyy; v4 takes MM-dd-yyyy.
    BOOST_TEST(call("v1", "getUpdatedSeries", {{"fromDate", "01/01/2017"}}).body.find("1.2.1") != std::string::npos);
    BOOST_TEST(call("v1", "getUpdatedSeries", {{"fromDate", "01/01/2017"}}).body.find("1.1.1") == std::string::npos);
    BOOST_TEST(call("v4", "getUpdatedSeries", {{"fromDate", "01-01-2017"}}).body.find("1.2.1") != std::string::npos);
    BOOST_TEST(call("v4", "NewPatientsInCollection", {{"Collection", "Beta"}, {"fromDate", "03-10-2017"}}).body.find("P1") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(study_rows_count_series) {
    const auto body = call("v1", "getPatientStudy", {{"Collection", "beta"}, {"PatientID", "P1"}}).body;
    BOOST_TEST(body.find(R"("StudyInstanceUID":"1.1","StudyDate")") != std::string::npos);
    BOOST_TEST(body.find(R"("SeriesCount":2)") != std::string::npos);
    BOOST_TEST(body.find(R"("SeriesCount":1)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sizes_and_error_texts) {
    BOOST_TEST(call("v1", "getSeriesSize", {{"SeriesInstanceUID", "1.1.1"}}).body ==
               R"([{"TotalSizeInBytes":1000,"ObjectCount":2}])");
    BOOST_TEST(call("v1", "getSeriesSize", {{"SeriesInstanceUID", "nope"}}).body == R"([{"ObjectCount":0}])");
    auto r = call("v1", "getSeriesSize");
    BOOST_TEST(r.status == 400);
    BOOST_TEST(r.contentType == "application/json");  // plain text labelled JSON
    BOOST_TEST(r.body == "A parameter, SeriesInstanceUID is required for this API call.");
    r = call("v1", "getImage", {{"SeriesInstanceUID", "9.9"}});
    BOOST_TEST(r.status == 400);
    BOOST_TEST(r.body == "Image with given SeriesInstanceUID,9.9, is not in public domain.");
    r = call("v4", "getImage", {{"SeriesInstanceUID", "9.9"}});
    BOOST_TEST(r.body.find("The user has not been granted the access to image with given SeriesInstanceUID,9.9.") == 0);
    BOOST_TEST(call("v1", "getSeriesMetaData", {{"SeriesInstanceUID", "9.9"}}).status == 204);
    r = call("v4", "getSingleImage", {{"SeriesInstanceUID", "1.1.1"}, {"SOPInstanceUID", "nope"}});
    BOOST_TEST(r.status == 500);
    BOOST_TEST(r.body.rfind("Server was not able to process your request\n", 0) == 0);
    // v1 silently ignores unknown (or miss-cased) parameters: the filter is lost.
    BOOST_TEST(call("v1", "getSeries", {{"collection", "alpha"}}).body.find("Beta") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(zip_plan_license_first_and_md5_last) {
    auto r = call("v4", "getImage", {{"SeriesInstanceUID", "1.1.1"}, {"IncludeMD5", "Yes"}, {"NewFileNames", "yes"}});
    BOOST_REQUIRE(r.isZip);
    BOOST_REQUIRE(r.zip.size() == 4u);
    BOOST_TEST(r.zip[0].name == "LICENSE");
    BOOST_TEST(r.zip[0].data.find("http://creativecommons.org/licenses/by/3.0/") != std::string::npos);
    BOOST_TEST(r.zip[1].name == "1-1.dcm");
    BOOST_TEST(r.zip[3].name == "md5hashes.csv");
    BOOST_TEST(r.zip[3].data == "Filename,MD5Hash\n1-1.dcm,bb\n1-2.dcm,aa\n");
    r = call("v1", "getImageWithMD5Hash", {{"SeriesInstanceUID", "1.1.1"}});
    BOOST_TEST(r.zip.front().name == "00000001.dcm");  // no LICENSE in getImageWithMD5Hash
    BOOST_TEST(r.zip.back().name == "md5hashes.csv");
    // v1 getImage: IncludeMD5 is a v4 parameter, ignored.
    BOOST_TEST(call("v1", "getImage", {{"SeriesInstanceUID", "1.1.1"}, {"IncludeMD5", "Yes"}}).zip.size() == 3u);
}

BOOST_AUTO_TEST_CASE(new_file_names_follow_acquisitions) {
    std::vector<InstanceRecord> list;
    for (int i = 1; i <= 12; ++i) list.push_back({"s" + std::to_string(i), "", "", 13 - i, i > 6 ? 2 : 1, 0, ""});
    const auto names = EndpointService::zipNames(list, true, "x");
    BOOST_TEST(names.front().first == "1-1.dcm");
    BOOST_TEST(names.front().second->instanceNumber == 1);
    BOOST_TEST(names[6].first == "2-1.dcm");
    BOOST_TEST(names.back().first == "2-6.dcm");
    const auto plain = EndpointService::zipNames(list, false, "x");
    BOOST_TEST(plain.front().first == "00000001.dcm");
    BOOST_TEST(plain.back().first == "00000012.dcm");
}

BOOST_AUTO_TEST_CASE(unknown_versions_and_endpoints_are_404) {
    BOOST_TEST(call("v3", "getSeries").status == 404);
    BOOST_TEST(call("v4", "getSeriesMetaData").status == 404);  // v4 spells it getSeriesMetadata
    BOOST_TEST(call("v1", "getSeriesMetadata").status == 404);
    BOOST_TEST(call("v4", "getM5HashForImage").status == 404);
    BOOST_TEST(call("v2", "getSeries", {{"SeriesInstanceUID", "1.1.1"}}).body.find("TimeStamp") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(csv_format_for_value_and_object_lists) {
    auto r = call("v1", "getModalityValues", {{"format", "csv"}});
    BOOST_TEST(r.contentType == "text/csv");
    BOOST_TEST(r.body == "Modality\nCT\nct\nMR\n");  // DISTINCT value ORDER BY upper(value)
    r = call("v1", "getSeries", {{"SeriesInstanceUID", "1.1.1"}, {"format", "CSV"}});
    BOOST_TEST(r.body.rfind("\"SeriesInstanceUID\",\"StudyInstanceUID\",", 0) == 0);
    BOOST_TEST(r.body.find("\"1.1.1\",\"1.1\",\"CT\",\"\",") != std::string::npos);  // NULL => empty cell
}

BOOST_AUTO_TEST_CASE(v4_series_metadata_is_a_form_list_with_csv_default) {
    auto r = call("v4", "getSeriesMetadata", {{"list", "1.1.1,1.2.1"}, {"list", "2.1.1"}});
    BOOST_TEST(r.contentType == "text/csv");
    BOOST_TEST(std::count(r.body.begin(), r.body.end(), '\n') == 4);  // header + 3 series
    BOOST_TEST(r.headers.front().second == "attachment; filename=\"SeriesMetaData.csv\"");
    r = call("v4", "getSeriesMetadata", {{"list", "1.1.1"}, {"format", "json"}});
    BOOST_TEST(r.contentType == "application/json");
    BOOST_TEST(r.body.find(R"("SeriesNumber":"3.000000")") != std::string::npos);
    BOOST_TEST(r.body.find(R"("ImageCount":2,)") != std::string::npos);
    BOOST_TEST(r.body.find(R"("Authorized":"1"})") != std::string::npos);
    // Restricted series are left out without authorization.
    BOOST_TEST(call("v4", "getSeriesMetadata", {{"list", "3.1.1"}, {"format", "json"}}).body.empty());
}

BOOST_AUTO_TEST_SUITE_END()
