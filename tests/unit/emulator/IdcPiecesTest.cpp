// The pure pieces of the emulator's IDC face (API.md = /work/shared/idc/API.md): id mapping,
// licence names, buckets, crdc UUIDs, the Range parser, ListObjectsV2 paging and XML, the SQL
// guard and `index` rewrite; and IdcCatalog/IdcService over an index built from records.
#include <Poco/DigestEngine.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/MD5Engine.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "emulator/DataIndex.h"
#include "emulator/IdcCatalog.h"
#include "emulator/IdcNames.h"
#include "emulator/IdcService.h"
#include "emulator/IdcSql.h"
#include "emulator/S3Protocol.h"

using namespace emulator;

namespace {

Poco::JSON::Object::Ptr object(const std::string& json) {
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
    return parser.parse(json).extract<Poco::JSON::Object::Ptr>();
}

std::map<std::string, s3::Object> objectsUnder(const std::string& prefix, int n) {
    std::map<std::string, s3::Object> m;
    for (int i = 0; i < n; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "%05d.dcm", i);
        s3::Object o{prefix + name, i, "0123456789abcdef0123456789abcdef", "2024-03-29T16:12:02.000Z", ""};
        m[o.key] = o;
    }
    return m;
}

std::string md5(const std::string& bytes) {
    Poco::MD5Engine e;
    e.update(bytes);
    return Poco::DigestEngine::digestToHex(e.digest());
}

/// A DataIndex of three collections (CC BY, CC BY-NC, brain MR => head scans) and a restricted
/// one, with real small files so objects can be served and hashed.
struct Fixture {
    std::filesystem::path dir;
    std::shared_ptr<DataIndex> index;

    Fixture() {
        dir = std::filesystem::temp_directory_path() / ("idc-pieces-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        std::vector<CollectionInfo> colls{
            {"TCGA-LUAD", "CC BY 3.0 long", "http://creativecommons.org/licenses/by/3.0/",
             "https://doi.org/10.7937/K9/A", "20150527171221", "A", false},
            {"NC Demo", "CC BY-NC long", "https://creativecommons.org/licenses/by-nc/4.0/",
             "https://doi.org/10.7937/B", "20160101000000", "B", false},
            {"Brain-MR", "CC BY 4.0 long", "https://creativecommons.org/licenses/by/4.0/",
             "https://doi.org/10.7937/C", "20170101000000", "C", false},
            {"Secret", "Restricted", "https://example.org/restricted", "https://doi.org/10.7937/D",
             "20180101000000", "D", true}};
        std::vector<SeriesRecord> series;
        std::map<std::string, std::vector<InstanceRecord>> instances;
        auto add = [&](const std::string& coll, const std::string& patient, const std::string& study,
                       const std::string& uid, const std::string& modality, const std::string& body,
                       int files, bool restricted = false) {
            SeriesRecord r;
            r.collection = coll;
            r.patientId = patient;
            r.studyUid = study;
            r.seriesUid = uid;
            r.modality = modality;
            r.bodyPart = body;
            r.studyDate = "20010314";
            r.patientSex = "F";
            r.restricted = restricted;
            r.sopClassUid = "1.2.840.10008.5.1.4.1.1.2";
            r.seriesNumber = 3;
            r.imageCount = files;
            for (int i = 1; i <= files; ++i) {
                InstanceRecord inst;
                inst.sopInstanceUid = uid + "." + std::to_string(i);
                inst.path = (dir / (inst.sopInstanceUid + ".dcm")).string();
                const std::string bytes(static_cast<std::size_t>(100 * i), static_cast<char>('a' + i));
                std::ofstream(inst.path, std::ios::binary) << bytes;
                inst.fileSize = static_cast<std::int64_t>(bytes.size());
                inst.md5 = md5(bytes);
                instances[uid].push_back(inst);
            }
            series.push_back(r);
        };
        add("TCGA-LUAD", "P2", "1.1.2", "1.2.2", "CT", "CHEST", 3);
        add("TCGA-LUAD", "P1", "1.1.1", "1.2.1", "CT", "", 2);
        add("NC Demo", "P3", "1.1.3", "1.2.3", "MR", "PELVIS", 1);
        add("Brain-MR", "P4", "1.1.4", "1.2.4", "MR", "BRAIN", 4);
        add("Secret", "P5", "1.1.5", "1.2.5", "CT", "HEAD", 1, true);
        index = std::make_shared<DataIndex>(colls, series, instances);
    }
    ~Fixture() { std::filesystem::remove_all(dir); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(IdcPieces)

BOOST_AUTO_TEST_CASE(collection_ids_follow_the_inferred_pattern) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"TCGA-LUAD", "tcga_luad"}, {"CPTAC-SAR", "cptac_sar"}, {"RIDER-Demo-MR", "rider_demo_mr"},
        {"NC Demo", "nc_demo"},     {"lidc_idri", "lidc_idri"}, {"", ""}};
    for (const auto& [name, id] : cases) BOOST_TEST(idc::collectionId(name) == id, name);
}

BOOST_AUTO_TEST_CASE(licence_short_names_and_buckets) {
    BOOST_TEST(idc::licenseShortName("http://creativecommons.org/licenses/by/3.0/", "x") == "CC BY 3.0");
    BOOST_TEST(idc::licenseShortName("https://creativecommons.org/licenses/by-nc/4.0/", "x") ==
               "CC BY-NC 4.0");
    BOOST_TEST(idc::licenseShortName("https://creativecommons.org/licenses/by/4.0", "x") == "CC BY 4.0");
    BOOST_TEST(idc::licenseShortName("https://example.org/tcia-restricted", "TCIA Restricted") ==
               "TCIA Restricted");
    BOOST_TEST(idc::isNonCommercial("CC BY-NC 3.0"));
    BOOST_TEST(!idc::isNonCommercial("CC BY 4.0"));
    BOOST_TEST(idc::awsBucket(false, false) == "idc-open-data");
    BOOST_TEST(idc::awsBucket(false, true) == "idc-open-data-two");
    BOOST_TEST(idc::awsBucket(true, false) == "idc-open-data-cr");
    BOOST_TEST(idc::awsBucket(true, true) == "idc-open-data-cr");
}

BOOST_AUTO_TEST_CASE(crdc_uuids_are_deterministic_distinct_version_3) {
    const std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    const std::string a = idc::crdcUuid("series", "1.2.3");
    BOOST_TEST(std::regex_match(a, shape), a);
    BOOST_TEST(a == idc::crdcUuid("series", "1.2.3"));
    BOOST_TEST(a != idc::crdcUuid("instance", "1.2.3"));
    BOOST_TEST(a != idc::crdcUuid("series", "1.2.4"));
}

BOOST_AUTO_TEST_CASE(dates_and_dois) {
    BOOST_TEST(idc::isoDate("20010314") == "2001-03-14");
    BOOST_TEST(idc::isoDate("") == "");
    BOOST_TEST(idc::isoDate("2001-03-14") == "");
    BOOST_TEST(idc::isoTimestamp("20150527171221") == "2015-05-27T17:12:21.000Z");
    BOOST_TEST(idc::isoTimestamp("20150527") == "2015-05-27T00:00:00.000Z");
    BOOST_TEST(idc::bareDoi("https://doi.org/10.7937/K9/TCIA.1") == "10.7937/K9/TCIA.1");
    BOOST_TEST(idc::bareDoi("10.7937/X") == "10.7937/X");
}

BOOST_AUTO_TEST_CASE(range_header_table) {
    using K = s3::RangePlan::Kind;
    struct Case {
        std::string header;
        std::int64_t size;
        K kind;
        std::int64_t first, last;
    };
    const std::vector<Case> cases{
        {"", 100, K::Whole, 0, -1},
        {"bytes=0-65535", 100000, K::Partial, 0, 65535},
        {"bytes=0-1048575", 9692, K::Partial, 0, 9691},  // tcia_utils' header read, clamped
        {"bytes=10-", 100, K::Partial, 10, 99},
        {"bytes=-10", 100, K::Partial, 90, 99},
        {"bytes=-500", 100, K::Partial, 0, 99},
        {"bytes=99-99", 100, K::Partial, 99, 99},
        {"bytes=100-", 100, K::Unsatisfiable, 0, -1},
        {"bytes=100-200", 100, K::Unsatisfiable, 0, -1},
        {"bytes=999999-", 9692, K::Unsatisfiable, 0, -1},
        {"bytes=-0", 100, K::Unsatisfiable, 0, -1},
        {"bytes=0-0", 0, K::Unsatisfiable, 0, -1},
        {"bytes=0-1,5-9", 100, K::Whole, 0, -1},  // multi-range: S3 serves the whole object
        {"bytes=5-2", 100, K::Whole, 0, -1},      // invalid: ignored
        {"bytes=abc", 100, K::Whole, 0, -1},
        {"items=0-5", 100, K::Whole, 0, -1},
    };
    for (const auto& c : cases) {
        const auto plan = s3::parseRange(c.header, c.size);
        BOOST_TEST((plan.kind == c.kind), c.header);
        if (c.kind == K::Partial) {
            BOOST_TEST(plan.first == c.first, c.header);
            BOOST_TEST(plan.last == c.last, c.header);
        }
    }
}

BOOST_AUTO_TEST_CASE(list_pages_of_at_most_1000_keys_in_key_order) {
    auto objects = objectsUnder("series-a/", 2500);
    const auto others = objectsUnder("series-b/", 5);
    objects.insert(others.begin(), others.end());
    s3::ListRequest request;
    request.prefix = "series-a/";
    request.maxKeys = 5000;  // as parsed: larger values are lowered
    request = s3::parseListQuery({{"list-type", "2"}, {"prefix", "series-a/"}, {"max-keys", "5000"}});
    BOOST_TEST(request.maxKeys == 1000);
    std::vector<std::string> keys;
    std::vector<std::size_t> sizes;
    for (int guard = 0; guard < 10; ++guard) {
        const auto page = s3::listPage(objects, request);
        sizes.push_back(page.contents.size());
        for (const auto* o : page.contents) keys.push_back(o->key);
        if (!page.truncated) {
            BOOST_TEST(page.nextToken.empty());
            break;
        }
        BOOST_TEST(!page.nextToken.empty());
        request.continuationToken = page.nextToken;
    }
    BOOST_TEST((sizes == std::vector<std::size_t>{1000, 1000, 500}));
    BOOST_TEST(keys.size() == 2500u);
    BOOST_TEST(std::is_sorted(keys.begin(), keys.end()));
    BOOST_TEST(std::set<std::string>(keys.begin(), keys.end()).size() == 2500u);
    BOOST_TEST(keys.front() == "series-a/00000.dcm");
    BOOST_TEST(keys.back() == "series-a/02499.dcm");
}

BOOST_AUTO_TEST_CASE(list_bad_arguments_start_after_and_delimiter) {
    const auto objects = objectsUnder("a/", 3);
    BOOST_CHECK_THROW(s3::parseListQuery({{"max-keys", "-1"}}), s3::Error);
    BOOST_CHECK_THROW(s3::parseListQuery({{"max-keys", "ten"}}), s3::Error);
    s3::ListRequest bad;
    bad.continuationToken = "not-a-token";
    try {
        s3::listPage(objects, bad);
        BOOST_FAIL("a foreign continuation token was accepted");
    } catch (const s3::Error& e) {
        BOOST_TEST(e.status == 400);
        BOOST_TEST(e.code == "InvalidArgument");
    }
    s3::ListRequest after;
    after.startAfter = "a/00000.dcm";
    BOOST_TEST(s3::listPage(objects, after).contents.size() == 2u);

    auto tree = objectsUnder("x/", 2);
    const auto y = objectsUnder("y/", 2);
    tree.insert(y.begin(), y.end());
    tree["top.txt"] = s3::Object{"top.txt", 1, "00", "2024-03-29T16:12:02.000Z", ""};
    s3::ListRequest delim;
    delim.delimiter = "/";
    delim.maxKeys = 1;
    auto page = s3::listPage(tree, delim);  // key order: "top.txt" < "x/..." < "y/..."
    BOOST_REQUIRE(page.contents.size() == 1u);
    BOOST_TEST(page.contents[0]->key == "top.txt");
    BOOST_TEST(page.truncated);
    delim.continuationToken = page.nextToken;
    page = s3::listPage(tree, delim);
    BOOST_TEST((page.commonPrefixes == std::vector<std::string>{"x/"}));
    BOOST_TEST(page.contents.empty());
    BOOST_TEST(page.truncated);
    delim.continuationToken = page.nextToken;
    page = s3::listPage(tree, delim);
    BOOST_TEST((page.commonPrefixes == std::vector<std::string>{"y/"}));
    BOOST_TEST(!page.truncated);
}

BOOST_AUTO_TEST_CASE(list_xml_matches_the_documented_shape) {
    const auto objects = objectsUnder("U/", 2);
    s3::ListRequest r;
    r.prefix = "U/";
    r.maxKeys = 1;
    const auto first = s3::listPage(objects, r);
    BOOST_TEST(
        s3::listXml("idc-open-data", r, first) ==
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>idc-open-data</Name>"
        "<Prefix>U/</Prefix><NextContinuationToken>" +
            first.nextToken +
            "</NextContinuationToken>"
            "<KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated>"
            "<Contents><Key>U/00000.dcm</Key><LastModified>2024-03-29T16:12:02.000Z</LastModified>"
            "<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>0</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>");
    r.continuationToken = first.nextToken;
    const auto last = s3::listPage(objects, r);
    const std::string xml = s3::listXml("idc-open-data", r, last);
    BOOST_TEST(xml.find("<ContinuationToken>" + first.nextToken + "</ContinuationToken>") !=
               std::string::npos);
    BOOST_TEST(xml.find("NextContinuationToken") == std::string::npos);
    BOOST_TEST(xml.find("<IsTruncated>false</IsTruncated>") != std::string::npos);
    BOOST_TEST(xml.find("<Key>U/00001.dcm</Key>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(list_encoding_type_url) {
    std::map<std::string, s3::Object> objects;
    objects["a b/x+y.dcm"] = s3::Object{"a b/x+y.dcm", 1, "00", "2024-03-29T16:12:02.000Z", ""};
    const auto r = s3::parseListQuery({{"list-type", "2"}, {"prefix", "a b/"}, {"encoding-type", "url"}});
    BOOST_TEST(r.urlEncoding);
    const std::string xml = s3::listXml("b", r, s3::listPage(objects, r));
    BOOST_TEST(xml.find("<Prefix>a%20b/</Prefix>") != std::string::npos, xml);
    BOOST_TEST(xml.find("<Key>a%20b/x%2By.dcm</Key>") != std::string::npos, xml);
    BOOST_TEST(xml.find("<EncodingType>url</EncodingType>") != std::string::npos);
    BOOST_CHECK_THROW(s3::parseListQuery({{"encoding-type", "base64"}}), s3::Error);
    const auto plain = s3::parseListQuery({{"prefix", "a b/"}});
    BOOST_TEST(s3::listXml("b", plain, s3::listPage(objects, plain)).find("<Key>a b/x+y.dcm</Key>") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(error_xml) {
    BOOST_TEST(
        s3::errorXml({404, "NoSuchKey", "The specified key does not exist.", {{"Key", "a&b"}}}, "R1") ==
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key "
        "does not exist.</Message><Key>a&amp;b</Key><RequestId>R1</RequestId></Error>");
}

BOOST_AUTO_TEST_CASE(sql_guard_table) {
    const std::vector<std::string> allowed{
        "SELECT 1",        "  select * from index",    "WITH a AS (SELECT 1) SELECT * FROM a",
        "-- c\nSELECT 1;", "/* c */ SELECT 'a;b' ;  ", "SELECT \"x;y\" FROM index; -- trailing"};
    for (const auto& q : allowed) BOOST_TEST(!idc::sqlGuardError(q).has_value(), q);
    const std::vector<std::string> refused{"",
                                           "   ",
                                           "-- only a comment",
                                           "DELETE FROM index",
                                           "DROP TABLE index",
                                           "PRAGMA table_info(index)",
                                           "ATTACH 'x' AS y",
                                           "SELECT 1; SELECT 2",
                                           "SELECT 1; DELETE FROM index",
                                           "(SELECT 1)",
                                           "SELECT 'unterminated",
                                           "SELECT 1 /* open",
                                           "INSERT INTO index SELECT * FROM index",
                                           "EXPLAIN SELECT 1"};
    for (const auto& q : refused) BOOST_TEST(idc::sqlGuardError(q).has_value(), q);
}

BOOST_AUTO_TEST_CASE(index_table_name_rewrite) {
    BOOST_TEST(idc::rewriteIndexTable("SELECT * FROM index") == "SELECT * FROM \"index\"");
    BOOST_TEST(idc::rewriteIndexTable("select * from INDEX i join collections_index c") ==
               "select * from \"index\" i join collections_index c");
    BOOST_TEST(idc::rewriteIndexTable("SELECT 'index' FROM \"index\" -- index") ==
               "SELECT 'index' FROM \"index\" -- index");
    BOOST_TEST(idc::rewriteIndexTable("SELECT index_x, x_index FROM index") ==
               "SELECT index_x, x_index FROM \"index\"");
}

BOOST_AUTO_TEST_CASE(catalog_rows_buckets_and_objects) {
    Fixture f;
    idc::IdcCatalog catalog(*f.index, {});
    BOOST_REQUIRE(catalog.rows().size() == 4u);  // the restricted series is not in IDC
    BOOST_TEST(catalog.rows()[0].collection_id == "brain_mr");
    BOOST_TEST(catalog.rows()[0].aws_bucket == "idc-open-data-two");
    BOOST_TEST(catalog.rows()[1].collection_id == "nc_demo");
    BOOST_TEST(catalog.rows()[1].aws_bucket == "idc-open-data-cr");
    BOOST_TEST(catalog.rows()[1].license_short_name == "CC BY-NC 4.0");
    BOOST_TEST(catalog.rows()[2].PatientID == "P1");  // ordered by collection, patient, study, series
    BOOST_TEST(catalog.rows()[3].PatientID == "P2");
    BOOST_TEST(catalog.rows()[3].aws_bucket == "idc-open-data");
    BOOST_TEST(catalog.rows()[3].source_DOI == "10.7937/K9/A");
    BOOST_TEST(catalog.rows()[3].series_aws_url ==
               "s3://idc-open-data/" + catalog.rows()[3].crdc_series_uuid + "/*");
    BOOST_TEST(catalog.rows()[3].series_size_MB == 600 / 1e6);
    BOOST_TEST(catalog.bucket("nope") == nullptr);

    const auto& open = *catalog.bucket("idc-open-data");
    const std::string uuid = idc::crdcUuid("series", "1.2.1");  // first series of tcga_luad
    BOOST_TEST(open.count(uuid + "/") == 1u);                   // the zero-byte marker
    BOOST_TEST(open.at(uuid + "/").etag == "d41d8cd98f00b204e9800998ecf8427e");
    const std::string key =
        idc::crdcUuid("series", "1.2.2") + "/" + idc::crdcUuid("instance", "1.2.2.1") + ".dcm";
    BOOST_REQUIRE(open.count(key) == 1u);
    BOOST_TEST(open.at(key).size == 100);
    BOOST_TEST(open.at(key).etag == md5(std::string(100, 'b')));
    // The one multipart ETag: the largest object (the 400-byte file of Brain-MR).
    int multipart = 0;
    for (const char* b : {"idc-open-data", "idc-open-data-two", "idc-open-data-cr"})
        for (const auto& [k, o] : *catalog.bucket(b))
            if (o.etag.find('-') != std::string::npos) {
                ++multipart;
                BOOST_TEST(o.size == 400);
                BOOST_TEST(o.etag.size() == 34u);
                BOOST_TEST(o.etag.substr(32) == "-2");
            }
    BOOST_TEST(multipart == 1);
}

BOOST_AUTO_TEST_CASE(sql_rows_nulls_truncation_and_errors) {
    Fixture f;
    idc::IdcCatalog::Options options;
    options.sqlTimeoutMs = 300;
    idc::IdcCatalog catalog(*f.index, options);
    auto out = catalog.sql(
        "SELECT SeriesInstanceUID, analysis_result_id, instanceCount, series_size_MB FROM index "
        "ORDER BY SeriesInstanceUID",
        3);
    BOOST_REQUIRE(out.errorCode.empty());
    auto o = object(out.body);
    BOOST_TEST(o->getArray("columns")->size() == 4u);
    BOOST_TEST(o->getArray("rows")->size() == 3u);
    BOOST_TEST(o->getValue<int>("row_count") == 3);
    BOOST_TEST(o->getValue<bool>("truncated"));
    BOOST_TEST(o->getValue<int>("max_rows") == 3);
    auto row = o->getArray("rows")->getObject(0);
    BOOST_TEST(row->has("analysis_result_id"));
    BOOST_TEST(row->isNull("analysis_result_id"));
    BOOST_TEST(row->getValue<int>("instanceCount") == 2);
    out = catalog.sql(
        "SELECT count(*) AS n, any_value(BodyPartExamined) AS b FROM index WHERE collection_id = "
        "'tcga_luad'",
        5000);
    o = object(out.body);
    BOOST_TEST(!o->getValue<bool>("truncated"));
    BOOST_TEST(o->getArray("rows")->getObject(0)->getValue<int>("n") == 2);
    BOOST_TEST(o->getArray("rows")->getObject(0)->getValue<std::string>("b") == "CHEST");
    out = catalog.sql("SELECT sources FROM collections_index WHERE collection_id = 'nc_demo'", 10);
    o = object(out.body);
    const auto sources = o->getArray("rows")->getObject(0)->getArray("sources");  // JSON, not a string
    BOOST_REQUIRE(sources);
    BOOST_TEST(sources->getObject(0)->getObject("license")->getValue<std::string>("license_short_name") ==
               "CC BY-NC 4.0");

    BOOST_TEST(catalog.sql("DELETE FROM index", 10).errorCode == "invalid_query");
    BOOST_TEST(catalog.sql("SELECT nope FROM index", 10).errorCode == "invalid_query");
    BOOST_TEST(catalog.sql("SELECT * FROM pragma_table_info('index')", 10).errorCode == "invalid_query");
    const auto slow = catalog.sql(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", 10);
    BOOST_TEST(slow.errorCode == "query_timeout");
    BOOST_TEST(slow.status == 504);
    // Still usable after a timeout.
    BOOST_TEST(catalog.sql("SELECT 1", 10).errorCode.empty());

    options.maxSqlBodyBytes = 200;
    idc::IdcCatalog small(*f.index, options);
    const auto big = small.sql("SELECT * FROM index", 10);
    BOOST_TEST(big.errorCode == "result_too_large");
}

BOOST_AUTO_TEST_CASE(service_shapes_paging_and_validation) {
    Fixture f;
    idc::IdcService service(std::make_shared<idc::IdcCatalog>(*f.index, idc::IdcCatalog::Options{}));
    auto r = service.handle("GET", "/v3/version", "");
    BOOST_TEST(r.body ==
               "{\"idc_version\":\"v24\",\"idc_index_data_version\":\"24.2.2\",\"api_version\":\"3.0.0b2\","
               "\"build\":null}");
    service.catalog().setVersion("v25", "25.0.1");
    BOOST_TEST(object(service.handle("GET", "/v3/version", "").body)->getValue<std::string>("idc_version") ==
               "v25");

    r = service.handle("GET", "/v3/collections/nope", "");
    BOOST_TEST(r.status == 404);
    BOOST_TEST(object(r.body)->getObject("error")->getValue<std::string>("code") == "not_found");
    r = service.handle("GET", "/v3/collections/tcga_luad", "");
    BOOST_TEST(r.status == 200);
    auto c = object(r.body);
    BOOST_TEST(c->getValue<int>("series") == 2);
    BOOST_TEST(c->getValue<int>("instances") == 5);
    BOOST_TEST(c->getArray("licenses")->getObject(0)->getValue<std::string>("license_short_name") ==
               "CC BY 3.0");
    BOOST_TEST(
        object("{\"a\":" + service.handle("GET", "/v3/collections", "").body + "}")->getArray("a")->size() ==
        3u);

    // 422 for malformed bodies, FastAPI's shape.
    for (const std::string body :
         {"", "not json", "[1]", "{}", "{\"sql\":5}", "{\"sql\":\"SELECT 1\",\"max_rows\":0}",
          "{\"sql\":\"SELECT 1\",\"max_rows\":\"x\"}"}) {
        r = service.handle("POST", "/v3/sql", body);
        BOOST_TEST(r.status == 422, body);
        BOOST_TEST(object(r.body)->getArray("detail")->size() == 1u, body);
    }
    r = service.handle("POST", "/v3/sql", "{\"sql\":\"SELECT * FROM index\",\"max_rows\":50000}");
    BOOST_TEST(object(r.body)->getValue<int>("max_rows") == 10000);
    r = service.handle("POST", "/v3/sql", "{\"sql\":\"SELECT * FROM index\"}");
    BOOST_TEST(object(r.body)->getValue<int>("max_rows") == 5000);
    r = service.handle("POST", "/v3/sql", "{\"sql\":\"UPDATE index SET PatientID = 1\"}");
    BOOST_TEST(r.status == 400);
    BOOST_TEST(object(r.body)->getObject("error")->getValue<std::string>("code") == "invalid_query");
    BOOST_TEST(service.handle("GET", "/v3/sql", "").status == 405);

    // Manifest paging in collection/patient/study/series order.
    std::vector<std::string> seen;
    for (int page = 0; page < 5; ++page) {
        r = service.handle("POST", "/v3/cohort/manifest",
                           "{\"filters\":{},\"page\":" + std::to_string(page) + ",\"page_size\":3}");
        BOOST_REQUIRE(r.status == 200);
        auto m = object(r.body);
        BOOST_TEST(m->getValue<int>("total_series") == 4);
        BOOST_TEST(m->getObject("counts")->getValue<int>("instances") == 10);
        auto series = m->getArray("series");
        BOOST_TEST(m->getValue<int>("returned") == static_cast<int>(series->size()));
        for (std::size_t i = 0; i < series->size(); ++i)
            seen.push_back(
                series->getObject(static_cast<unsigned>(i))->getValue<std::string>("SeriesInstanceUID"));
        if (series->size() == 0) break;
    }
    BOOST_TEST((seen == std::vector<std::string>{"1.2.4", "1.2.3", "1.2.1", "1.2.2"}));
    r = service.handle(
        "POST", "/v3/cohort/manifest",
        "{\"filters\":{\"terms\":{\"Modality\":[\"MR\"],\"collection_id\":[\"brain_mr\",\"x\"]},"
        "\"ranges\":{\"instanceCount\":{\"gte\":2}}},\"page_size\":0}");
    auto m = object(r.body);
    BOOST_TEST(m->getValue<int>("total_series") == 1);
    BOOST_TEST(m->getValue<int>("page_size") == 1);  // clamped to 1-5000
    BOOST_TEST(
        service.handle("POST", "/v3/cohort/manifest", "{\"filters\":{\"terms\":{\"PatientName\":[\"x\"]}}}")
            .status == 400);
    BOOST_TEST(
        service.handle("POST", "/v3/cohort/manifest", "{\"filters\":{\"ranges\":{\"Modality\":{\"gte\":1}}}}")
            .status == 400);
    r = service.handle("POST", "/v3/cohort/counts", "{\"terms\":{\"aws_bucket\":[]}}");
    BOOST_TEST(r.status == 400);
    r = service.handle("POST", "/v3/cohort/counts",
                       "{\"terms\":{\"license_short_name\":[\"CC BY-NC 4.0\"]}}");
    BOOST_TEST(object(r.body)->getValue<int>("series") == 1);
    BOOST_TEST(service.handle("GET", "/v1/collections", "").status == 410);
}

BOOST_AUTO_TEST_SUITE_END()
