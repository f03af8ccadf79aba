// The pure IDC pieces (bridge/idc/IdcParsers.h) against the shapes of shared/idc/API.md, including
// its drift and uncertainty cases (section 7): element order, &quot; ETags, zero-byte keys,
// multipart ETags, null/absent/extra JSON fields, numbers as strings.
#include <boost/test/unit_test.hpp>
#include <string>

#include "bridge/common/Error.h"
#include "bridge/idc/IdcClient.h"
#include "bridge/idc/IdcParsers.h"
#include "tests/support/ErrorCodeOf.h"

using namespace bridge;
using namespace bridge::idc;

namespace {
/// The ErrorCode a call fails with, as an int (printable by Boost.Test); Internal if it returned.
int codeOf(const std::function<void()>& f) { return static_cast<int>(bridge::test::codeOf(f)); }
int code(ErrorCode c) { return static_cast<int>(c); }
}  // namespace

BOOST_AUTO_TEST_SUITE(IdcParsers)

BOOST_AUTO_TEST_CASE(sql_literals_are_quoted) {
    const struct {
        const char* in;
        const char* out;
    } cases[] = {{"lidc_idri", "'lidc_idri'"},
                 {"O'Brien", "'O''Brien'"},
                 {"''", "''''''"},
                 {"", "''"},
                 {"x' OR '1'='1", "'x'' OR ''1''=''1'"}};
    for (const auto& c : cases) BOOST_TEST(sqlQuote(c.in) == c.out);
}

BOOST_AUTO_TEST_CASE(index_query_is_built_with_quoted_filters) {
    BOOST_TEST(
        IdcClient::indexQuery("a, b", {{"collection_id", "it's"}, {"PatientID", ""}, {"Modality", "CT"}},
                              "SeriesInstanceUID", 10000, 20000) ==
        "SELECT a, b FROM index WHERE collection_id = 'it''s' AND Modality = 'CT' ORDER BY SeriesInstanceUID "
        "LIMIT 10000 OFFSET 20000");
    BOOST_TEST(IdcClient::indexQuery("*", {}, "", 1, 0) == "SELECT * FROM index LIMIT 1 OFFSET 0");
}

BOOST_AUTO_TEST_CASE(sql_page_rows_tolerate_nulls_missing_and_extra_fields) {
    const std::string body = R"({"columns":["SeriesInstanceUID","instanceCount","StudyDate","x"],
        "rows":[{"SeriesInstanceUID":"1.2.3","instanceCount":133,"StudyDate":"2000-01-02","SeriesNumber":"4.000000",
                 "series_size_MB":69.8,"collection_id":"lidc_idri","source_DOI":"10.7937/K9/TCIA.2015.LO9QL9SX",
                 "license_short_name":"CC BY 3.0","brand_new_field":{"a":1},"PatientAge":null},
                {"SeriesInstanceUID":"1.2.4","instanceCount":"7"}],
        "row_count":2,"truncated":false,"max_rows":10000,"unknown":true})";
    SqlPage page = parseSqlPage(body);
    BOOST_REQUIRE_EQUAL(page.rows.size(), 2u);
    BOOST_TEST(!page.truncated);
    BOOST_TEST(column(page.rows[0], "PatientAge") == "");
    BOOST_TEST(column(page.rows[0], "nope") == "");
    auto s = seriesFromRow(page.rows[0], {{"lidc_idri", "LIDC-IDRI"}});
    BOOST_TEST(s.seriesInstanceUid == "1.2.3");
    BOOST_TEST(s.collection == "LIDC-IDRI");
    BOOST_TEST(s.studyDate == "20000102");
    BOOST_TEST(s.seriesNumber == "4");
    BOOST_TEST(s.imageCount.value_or(-1) == 133);
    BOOST_TEST(s.fileSize.value_or(-1) == 69800000);
    BOOST_TEST(s.licenseName == "CC BY 3.0");
    BOOST_TEST(s.dataDescriptionUri == "https://doi.org/10.7937/K9/TCIA.2015.LO9QL9SX");
    auto t = seriesFromRow(page.rows[1], {});
    BOOST_TEST(t.imageCount.value_or(-1) == 7);  // a number sent as a string
    BOOST_TEST(t.collection == "");
    BOOST_TEST(!t.fileSize.has_value());
    // Unknown collection ids keep the id.
    SqlRow row{{"collection_id", "new_coll"}};
    BOOST_TEST(studyFromRow(row, {}).collection == "new_coll");
    // Rows as arrays, matched to `columns` by position.
    auto arrays = parseSqlPage(R"({"columns":["PatientID","StudyDate"],"rows":[["P1","2001-12-31"]]})");
    BOOST_REQUIRE_EQUAL(arrays.rows.size(), 1u);
    BOOST_TEST(column(arrays.rows[0], "PatientID") == "P1");
    BOOST_TEST(parseSqlPage(R"({"rows":[],"truncated":true})").truncated);
    BOOST_TEST(parseSqlPage(R"({})").rows.empty());
}

BOOST_AUTO_TEST_CASE(sql_errors_map_to_the_error_vocabulary) {
    BOOST_TEST(codeOf([] { parseSqlPage(R"({"error":{"code":"query_timeout","message":"30 s"}})"); }) ==
               code(ErrorCode::UpstreamTimeout));
    BOOST_TEST(codeOf([] { parseSqlPage(R"({"error":{"code":"not_found","message":"x"}})"); }) ==
               code(ErrorCode::NotFound));
    BOOST_TEST(codeOf([] { parseSqlPage(R"({"error":{"code":"invalid_query","message":"x"}})"); }) ==
               code(ErrorCode::UpstreamBadResponse));
    BOOST_TEST(codeOf([] { parseSqlPage("<html>502</html>"); }) == code(ErrorCode::UpstreamBadResponse));
    BOOST_TEST(codeOf([] { parseSqlPage(R"({"rows":{"a":1}})"); }) == code(ErrorCode::UpstreamBadResponse));
    BOOST_TEST(describeApiError(R"({"error":{"code":"result_too_large","message":"too big"}})") ==
               "result_too_large: too big");
    BOOST_TEST(describeApiError(R"({"detail":[{"loc":["body","sql"]}]})").rfind("invalid request", 0) == 0);
}

BOOST_AUTO_TEST_CASE(version_and_collection_list) {
    BOOST_TEST(parseIdcVersion(R"({"idc_version":"v24","idc_index_data_version":"24.2.2","build":null})") ==
               "v24");
    BOOST_TEST(parseIdcVersion(R"({})") == "");
    auto list = parseCollectionList(
        R"([{"collection_id":"tcga_luad","collection_name":"TCGA-LUAD","species":"Human"},{"collection_name":"x"},
            {"collection_id":"only_id"}])");
    BOOST_REQUIRE_EQUAL(list.size(), 2u);
    BOOST_TEST(list[0].first == "TCGA-LUAD");
    BOOST_TEST(list[0].second == "tcga_luad");
    BOOST_TEST(list[1].first == "only_id");
}

BOOST_AUTO_TEST_CASE(list_objects_in_any_order_with_escaped_etags_and_zero_byte_keys) {
    const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>idc-open-data</Name><Prefix>SER/</Prefix>
  <IsTruncated>true</IsTruncated><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>
  <Contents><Key>SER/</Key><Size>0</Size><ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag></Contents>
  <Contents><ETag>&quot;0123456789abcdef0123456789ABCDEF&quot;</ETag><Size>525312</Size>
    <StorageClass>STANDARD</StorageClass><Key>SER/b.dcm</Key><LastModified>2024-03-29T16:12:02.000Z</LastModified></Contents>
  <Contents><Key>SER/a.dcm</Key><Size>10</Size><ETag>"abc-2"</ETag><Owner><ID>x</ID></Owner></Contents>
  <NextContinuationToken>tok/en+=</NextContinuationToken>
</ListBucketResult>)";
    ListPage page = parseListObjects(xml);
    BOOST_TEST(page.truncated);
    BOOST_TEST(page.nextContinuationToken == "tok/en+=");
    BOOST_REQUIRE_EQUAL(page.objects.size(), 3u);
    BOOST_TEST(!isInstanceObject(page.objects[0]));  // zero-byte "directory" key
    BOOST_TEST(page.objects[1].key == "SER/b.dcm");
    BOOST_TEST(page.objects[1].etag == "0123456789abcdef0123456789ABCDEF");
    BOOST_TEST(page.objects[1].size.value_or(0) == 525312u);
    BOOST_TEST(isInstanceObject(page.objects[1]));
    BOOST_TEST(isMd5Etag(page.objects[1].etag));
    BOOST_TEST(page.objects[2].etag == "abc-2");
    BOOST_TEST(!isMd5Etag(page.objects[2].etag));  // multipart: not an MD5

    // Last page: no token, no namespace.
    auto last = parseListObjects("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
    BOOST_TEST(!last.truncated);
    BOOST_TEST(last.objects.empty());
    // Truncated without a token would loop for ever: refused.
    BOOST_TEST(codeOf([] {
                   parseListObjects("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
               }) == code(ErrorCode::UpstreamBadResponse));
    BOOST_TEST(codeOf([] { parseListObjects("not xml"); }) == code(ErrorCode::UpstreamBadResponse));
    BOOST_TEST(codeOf([] {
                   parseListObjects("<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>");
               }) == code(ErrorCode::UpstreamBadResponse));
}

BOOST_AUTO_TEST_CASE(s3_errors) {
    auto e = parseS3Error(
        "<?xml version=\"1.0\"?><Error><Message>Please reduce your request "
        "rate.</Message><Code>SlowDown</Code>"
        "<RequestId>1</RequestId></Error>");
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->code == "SlowDown");
    BOOST_TEST(e->message == "Please reduce your request rate.");
    BOOST_TEST(!parseS3Error("<ListBucketResult/>").has_value());
    BOOST_TEST(!parseS3Error("plain text").has_value());
}

BOOST_AUTO_TEST_CASE(md5_etags) {
    BOOST_TEST(isMd5Etag("d41d8cd98f00b204e9800998ecf8427e"));
    BOOST_TEST(!isMd5Etag("d41d8cd98f00b204e9800998ecf8427"));
    BOOST_TEST(!isMd5Etag("d41d8cd98f00b204e9800998ecf8427e-3"));
    BOOST_TEST(!isMd5Etag("g41d8cd98f00b204e9800998ecf8427e"));
    BOOST_TEST(!isMd5Etag(""));
}

BOOST_AUTO_TEST_CASE(bucket_url_template) {
    BOOST_TEST(bucketObjectUrl("https://{bucket}.s3.amazonaws.com", "idc-open-data", "u1/i1.dcm") ==
               "https://idc-open-data.s3.amazonaws.com/u1/i1.dcm");
    BOOST_TEST(bucketObjectUrl("http://127.0.0.1:9/s3/{bucket}/", "idc-open-cr", "u 1/i+1.dcm") ==
               "http://127.0.0.1:9/s3/idc-open-cr/u%201/i%2B1.dcm");
    BOOST_TEST(bucketObjectUrl("https://storage.googleapis.com/idc-open-data", "ignored", "k") ==
               "https://storage.googleapis.com/idc-open-data/k");
    BOOST_TEST(listObjectsUrl("http://h/s3/{bucket}", "b", "u1/", "") ==
               "http://h/s3/b/?list-type=2&prefix=u1%2F&max-keys=1000");
    BOOST_TEST(listObjectsUrl("http://h/s3/{bucket}", "b", "u1/", "a/b+c=") ==
               "http://h/s3/b/?list-type=2&prefix=u1%2F&max-keys=1000&continuation-token=a%2Fb%2Bc%3D");
    BOOST_TEST(codeOf([] { bucketObjectUrl("https://{bucket}.x", "", "k"); }) ==
               code(ErrorCode::UpstreamBadResponse));
    BOOST_TEST(codeOf([] { bucketObjectUrl("https://{bucket}.x", "evil.com/x?", "k"); }) ==
               code(ErrorCode::UpstreamBadResponse));
}

BOOST_AUTO_TEST_CASE(collection_ids_and_dates) {
    const struct {
        const char* name;
        const char* id;
    } cases[] = {{"TCGA-LUAD", "tcga_luad"},
                 {"CPTAC-SAR", "cptac_sar"},
                 {"LIDC-IDRI", "lidc_idri"},
                 {"Head Neck PET", "head_neck_pet"},
                 {"nlst", "nlst"}};
    for (const auto& c : cases) BOOST_TEST(collectionIdFromName(c.name) == c.id);
    BOOST_TEST(isoToDicomDate("2000-01-02") == "20000102");
    BOOST_TEST(isoToDicomDate("2000-01-02T00:00:00") == "20000102");
    BOOST_TEST(isoToDicomDate("20000102") == "20000102");
    BOOST_TEST(isoToDicomDate("01-02-2000") == "");
    BOOST_TEST(isoToDicomDate("") == "");
}

BOOST_AUTO_TEST_CASE(collection_licences_and_citations) {
    SqlRow row{{"collection_name", "CPTAC-SAR"},
               {"collection_id", "cptac_sar"},
               {"sources", R"js([{"source_doi":"10.7937/x","source_url":"https://doi.org/10.7937/x",
                 "license":{"license_url":"https://creativecommons.org/licenses/by-nc/4.0/",
                            "license_long_name":"Creative Commons Attribution-NonCommercial 4.0",
                            "license_short_name":"CC BY-NC 4.0"},
                 "citation":"National Cancer Institute ... (2019)"}])js"}};
    auto info = collectionInfoFromRow(row);
    BOOST_TEST(info.name == "CPTAC-SAR");
    BOOST_TEST(info.licenseShortName == "CC BY-NC 4.0");
    BOOST_TEST(info.nonCommercial);
    BOOST_TEST(info.sourceDoi == "10.7937/x");
    BOOST_TEST(info.citation == "National Cancer Institute ... (2019)");
    auto plain = collectionInfoFromRow({{"collection_id", "x"}, {"license_short_name", "CC BY 4.0"}});
    BOOST_TEST(plain.name == "x");
    BOOST_TEST(!plain.nonCommercial);
    BOOST_TEST(plain.licenseShortName == "CC BY 4.0");
}

BOOST_AUTO_TEST_CASE(doi_normalisation) {
    BOOST_TEST(normalDoi("https://doi.org/10.7937/TCIA.X") == "10.7937/tcia.x");
    BOOST_TEST(normalDoi("http://dx.doi.org/10.7937/a") == "10.7937/a");
    BOOST_TEST(normalDoi("doi:10.7937/A ") == "10.7937/a");
    BOOST_TEST(normalDoi("10.7937/a") == "10.7937/a");
    BOOST_TEST(normalDoi("") == "");
}

namespace {
CollectionInfo idcCollection(const std::string& name, const std::string& id,
                             std::vector<CollectionSource> sources) {
    CollectionInfo c;
    c.name = c.idcName = name;
    c.id = id;
    c.sources = std::move(sources);
    if (!c.sources.empty()) {
        c.sourceDoi = c.sources.front().doi;
        c.licenseShortName = c.sources.front().licenseShortName;
        c.licenseUrl = c.sources.front().licenseUrl;
    }
    return c;
}
const char* const kByNc = "https://creativecommons.org/licenses/by-nc/4.0/";
const char* const kBy = "https://creativecommons.org/licenses/by/4.0/";
}  // namespace

BOOST_AUTO_TEST_CASE(collections_join_on_doi_where_names_differ) {
    // IDC kept an older name and id for TCIA's "Phantom-Mixed"; same DOI (API.md 4).
    const std::vector<CollectionInfo> idc{
        idcCollection("Mixed-Phantom-Demo", "mixed_phantom_demo",
                      {{"10.7937/TCIA.DEMO.PH03", "CC BY-NC 4.0", kByNc, "Phantom citation"}}),
        idcCollection("TCGA-DEMO-CT", "tcga_demo_ct", {{"10.7937/TCIA.DEMO.CT01", "CC BY 4.0", kBy, "CT citation"}}),
    };
    const auto dir = joinCollections(idc, {{"Phantom-Mixed", "https://doi.org/10.7937/tcia.demo.ph03"}});
    BOOST_TEST(dir.nameById.at("mixed_phantom_demo") == "Phantom-Mixed");
    BOOST_TEST(dir.nameById.at("tcga_demo_ct") == "TCGA-DEMO-CT", "names that agree need no DOI");
    // Queries by the TCIA name, IDC's name or the id reach the same collection_id.
    BOOST_TEST(dir.idByName.at("PHANTOM-MIXED") == "mixed_phantom_demo");
    BOOST_TEST(dir.idByName.at("MIXED-PHANTOM-DEMO") == "mixed_phantom_demo");
    BOOST_TEST(dir.idByName.at("MIXED_PHANTOM_DEMO") == "mixed_phantom_demo");
    // The licence and citation stay with the collection, under its TCIA name.
    const auto& info = dir.infoByName.at("PHANTOM-MIXED");
    BOOST_TEST(info.licenseUrl == kByNc);
    BOOST_TEST(info.idcName == "Mixed-Phantom-Demo");
    BOOST_TEST(dir.infoByName.count("MIXED-PHANTOM-DEMO") == 0u);
    BOOST_TEST(dir.infoByName.at("TCGA-DEMO-CT").licenseUrl == kBy);
    // Rows: the DOI first, then the id, then the id itself.
    BOOST_TEST(tciaCollectionName(dir, "mixed_phantom_demo", "10.7937/TCIA.DEMO.PH03") == "Phantom-Mixed");
    BOOST_TEST(tciaCollectionName(dir, "renamed_again", "10.7937/TCIA.DEMO.PH03") == "Phantom-Mixed",
               "an id IDC no longer lists, joined on the series' source_DOI");
    BOOST_TEST(tciaCollectionName(dir, "mixed_phantom_demo", "") == "Phantom-Mixed");
    BOOST_TEST(tciaCollectionName(dir, "unknown_id", "10.9999/other") == "unknown_id");
    SqlRow row{{"collection_id", "mixed_phantom_demo"},
               {"source_DOI", "10.7937/TCIA.DEMO.PH03"},
               {"SeriesInstanceUID", "1.2.3"},
               {"license_short_name", "CC BY-NC 4.0"}};
    BOOST_TEST(joinedSeriesFromRow(row, dir).collection == "Phantom-Mixed");
    BOOST_TEST(joinedStudyFromRow(row, dir).collection == "Phantom-Mixed");
    BOOST_TEST(joinedPatientFromRow(row, dir).collection == "Phantom-Mixed");
    BOOST_TEST(dir.sourceByDoi.at("10.7937/tcia.demo.ph03").licenseUrl == kByNc);

    // Without TCIA names, IDC's collection_name is the name.
    const auto plain = joinCollections(idc, {});
    BOOST_TEST(plain.nameById.at("mixed_phantom_demo") == "Mixed-Phantom-Demo");
    BOOST_TEST(plain.idByName.count("PHANTOM-MIXED") == 0u);
}

BOOST_AUTO_TEST_CASE(a_doi_two_collections_list_names_neither) {
    const std::vector<CollectionInfo> idc{
        idcCollection("A-Old", "a_old", {{"10.1/shared", "CC BY 4.0", kBy, ""}}),
        idcCollection("B-Old", "b_old", {{"10.1/shared", "CC BY 4.0", kBy, ""}, {"10.1/b", "CC BY 4.0", kBy, ""}}),
    };
    const auto dir = joinCollections(idc, {{"A-New", "10.1/shared"}, {"B-New", "10.1/b"}});
    BOOST_TEST(dir.nameById.at("a_old") == "A-Old", "ambiguous DOI: no rename");
    BOOST_TEST(dir.nameById.at("b_old") == "B-New", "joined on its own DOI");
    BOOST_TEST(dir.nameByDoi.count("10.1/shared") == 0u);
    BOOST_TEST(tciaCollectionName(dir, "a_old", "10.1/shared") == "A-Old");
}

BOOST_AUTO_TEST_CASE(collection_sources_are_all_kept) {
    SqlRow row{{"collection_name", "X"},
               {"collection_id", "x"},
               {"sources", R"js([{"source_doi":"10.1/a","license":null,"citation":"first"},
                 {"source_doi":"10.1/b","license":{"license_url":"u","license_short_name":"CC BY 4.0"},"citation":"c"}])js"}};
    auto info = collectionInfoFromRow(row);
    BOOST_REQUIRE(info.sources.size() == 2u);
    BOOST_TEST(info.sources[0].doi == "10.1/a");
    BOOST_TEST(info.sources[1].licenseUrl == "u");
    BOOST_TEST(info.sourceDoi == "10.1/b", "the licensed source is the collection's");
    BOOST_TEST(info.idcName == "X");
}

BOOST_AUTO_TEST_SUITE_END()
