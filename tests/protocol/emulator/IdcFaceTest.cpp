// The IDC face of the real `tcia-emulator serve` (/v3 and /s3), over loopback HTTP, checked
// against /work/shared/idc/API.md and against the NBIA face of the same emulator (same series,
// same bytes).
#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>
#include <Poco/Net/NetException.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "emulator/IdcNames.h"
#include "emulator/SampleDataGenerator.h"
#include "tests/protocol/emulator/HttpProbe.h"
#include "tests/support/TestSupport.h"

using namespace emulator::test;
using bridge::test::EmulatorProcess;

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string root(const EmulatorProcess& p) { return "http://127.0.0.1:" + std::to_string(p.port()); }

HttpAnswer post(const std::string& url, const std::string& json) { return http(url, "POST", {}, json); }

Object::Ptr obj(const std::string& json) { return parseOrdered(json).extract<Object::Ptr>(); }

/// Texts of every <tag>...</tag> in order (the documents here have no nesting of equal tags).
std::vector<std::string> tags(const std::string& xml, const std::string& tag) {
    std::vector<std::string> out;
    const std::regex re("<" + tag + ">([^<]*)</" + tag + ">");
    for (auto it = std::sregex_iterator(xml.begin(), xml.end(), re); it != std::sregex_iterator(); ++it)
        out.push_back((*it)[1]);
    return out;
}
std::string tag(const std::string& xml, const std::string& t) {
    const auto v = tags(xml, t);
    return v.empty() ? std::string() : v.front();
}

std::string md5(const std::string& bytes) {
    Poco::MD5Engine e;
    e.update(bytes);
    return Poco::DigestEngine::digestToHex(e.digest());
}

std::string urlEncode(const std::string& s) {
    std::string out;
    Poco::URI::encode(s, "/+=&?", out);
    return out;
}

/// SOPInstanceUID of Part-10 bytes, read with DCMTK.
std::string sopOf(const std::string& bytes) {
    const std::string path = "/tmp/idc-face-" + std::to_string(::getpid()) + ".dcm";
    std::ofstream(path, std::ios::binary) << bytes;
    DcmFileFormat file;
    OFString sop;
    if (file.loadFile(path.c_str()).good()) file.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop);
    std::remove(path.c_str());
    return sop.c_str();
}

struct Series {
    std::string uid, bucket, uuid;
    int instances = 0;
};

/// Every idc_index row through /v3/sql, paged with LIMIT/OFFSET like a snapshot harvest.
std::vector<Series> allSeries(const EmulatorProcess& emu, int pageSize) {
    std::vector<Series> out;
    for (int offset = 0; offset < 1000; offset += pageSize) {
        const auto a = post(
            root(emu) + "/v3/sql",
            "{\"sql\":\"SELECT SeriesInstanceUID, aws_bucket, crdc_series_uuid, instanceCount FROM index "
            "ORDER BY SeriesInstanceUID LIMIT " +
                std::to_string(pageSize) + " OFFSET " + std::to_string(offset) + "\"}");
        BOOST_REQUIRE(a.status == 200);
        const auto rows = obj(a.body)->getArray("rows");
        for (std::size_t i = 0; i < rows->size(); ++i) {
            const auto r = rows->getObject(static_cast<unsigned>(i));
            out.push_back({r->getValue<std::string>("SeriesInstanceUID"),
                           r->getValue<std::string>("aws_bucket"),
                           r->getValue<std::string>("crdc_series_uuid"), r->getValue<int>("instanceCount")});
        }
        if (static_cast<int>(rows->size()) < pageSize) break;
    }
    return out;
}

/// All keys of a prefix, following continuation tokens with max-keys per page; checks each page.
std::vector<std::pair<std::string, std::string>> listAll(const EmulatorProcess& emu,
                                                         const std::string& bucket, const std::string& prefix,
                                                         int maxKeys, int* pages = nullptr) {
    std::vector<std::pair<std::string, std::string>> keys;  // key, etag
    std::string token;
    for (int page = 0; page < 1000; ++page) {
        std::string url = root(emu) + "/s3/" + bucket + "/?list-type=2&prefix=" + urlEncode(prefix) +
                          "&max-keys=" + std::to_string(maxKeys);
        if (!token.empty()) url += "&continuation-token=" + urlEncode(token);
        const auto a = http(url);
        BOOST_REQUIRE(a.status == 200);
        BOOST_TEST(a.contentType == "application/xml");
        BOOST_TEST(tag(a.body, "Name") == bucket);
        BOOST_TEST(tag(a.body, "Prefix") == prefix);
        BOOST_TEST(tag(a.body, "ContinuationToken") == token);  // echoed ("" when none was sent)
        const auto k = tags(a.body, "Key");
        const auto e = tags(a.body, "ETag");
        BOOST_TEST(k.size() <= static_cast<std::size_t>(maxKeys));
        BOOST_TEST(tag(a.body, "KeyCount") == std::to_string(k.size()));
        for (std::size_t i = 0; i < k.size(); ++i) keys.emplace_back(k[i], e[i]);
        if (pages) ++*pages;
        if (tag(a.body, "IsTruncated") == "false") {
            BOOST_TEST(tag(a.body, "NextContinuationToken").empty());
            break;
        }
        token = tag(a.body, "NextContinuationToken");
        BOOST_REQUIRE(!token.empty());
    }
    return keys;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(EmulatorIdcFace)

BOOST_AUTO_TEST_CASE(version_is_settable_and_collections_follow_the_tcia_names) {
    EmulatorProcess emu({"--quiet", "--idc-version", "v23", "--idc-index-data-version", "23.1.0"});
    auto a = http(root(emu) + "/v3/version");
    BOOST_TEST(a.status == 200);
    BOOST_TEST(a.contentType == "application/json");
    BOOST_TEST(a.body ==
               "{\"idc_version\":\"v23\",\"idc_index_data_version\":\"23.1.0\",\"api_version\":\"3.0.0b2\","
               "\"build\":null}");
    BOOST_TEST(http(root(emu) + "/emulator/idc/version?idc_version=v24&idc_index_data_version=24.2.2", "POST")
                   .status == 200);
    BOOST_TEST(obj(http(root(emu) + "/v3/version").body)->getValue<std::string>("idc_index_data_version") ==
               "24.2.2");

    a = http(root(emu) + "/v3/collections");
    BOOST_TEST(a.status == 200);
    const auto list = parseOrdered(a.body).extract<Array::Ptr>();
    std::set<std::string> ids;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto c = list->getObject(static_cast<unsigned>(i));
        ids.insert(c->getValue<std::string>("collection_id"));
        for (const char* key : {"collection_name", "cancer_types", "tumor_locations", "species", "subjects",
                                "supporting_data", "description"})
            BOOST_TEST(c->has(key), key);
    }
    // The restricted collection is not mirrored by IDC.
    BOOST_TEST((ids == std::set<std::string>{"mixed_phantom_demo", "rider_demo_mr", "tcga_demo_ct"}));
    a = http(root(emu) + "/v3/collections/tcga_demo_ct");
    const auto c = obj(a.body);
    BOOST_TEST(c->getValue<std::string>("collection_name") == "TCGA-DEMO-CT");
    BOOST_TEST(c->getValue<int>("series") == 6);
    BOOST_TEST(c->getArray("licenses")->getObject(0)->getValue<std::string>("license_short_name") ==
               "CC BY 3.0");
    a = http(root(emu) + "/v3/collections/restricted_demo");
    BOOST_TEST(a.status == 404);
    BOOST_TEST(obj(a.body)->getObject("error")->getValue<std::string>("code") == "not_found");
}

BOOST_AUTO_TEST_CASE(sql_pages_the_same_series_nbia_serves) {
    EmulatorProcess emu({"--quiet"});
    const auto series = allSeries(emu, 5);  // 3 pages of LIMIT 5
    std::set<std::string> idcUids;
    std::set<std::string> buckets;
    for (const auto& s : series) {
        idcUids.insert(s.uid);
        buckets.insert(s.bucket);
    }
    BOOST_TEST(series.size() == 12u);
    BOOST_TEST((buckets == std::set<std::string>{"idc-open-data", "idc-open-data-two", "idc-open-data-cr"}));
    // NBIA's public getSeries (no token) lists the same series.
    const auto nbia = parseOrdered(http(emu.baseUrl("v4") + "/getSeries").body).extract<Array::Ptr>();
    std::set<std::string> nbiaUids;
    for (std::size_t i = 0; i < nbia->size(); ++i)
        nbiaUids.insert(
            nbia->getObject(static_cast<unsigned>(i))->getValue<std::string>("SeriesInstanceUID"));
    BOOST_TEST((idcUids == nbiaUids));

    // max_rows truncates and says so; NULLs keep their key; CC BY-NC is in the -cr bucket.
    auto a = post(root(emu) + "/v3/sql",
                  "{\"sql\":\"SELECT * FROM index ORDER BY SeriesInstanceUID\",\"max_rows\":4}");
    auto o = obj(a.body);
    BOOST_TEST(o->getValue<int>("row_count") == 4);
    BOOST_TEST(o->getValue<bool>("truncated"));
    BOOST_TEST(o->getValue<int>("max_rows") == 4);
    const auto row = o->getArray("rows")->getObject(0);
    BOOST_TEST(row->isNull("analysis_result_id"));
    BOOST_TEST(std::regex_match(row->getValue<std::string>("StudyDate"), std::regex("\\d{4}-\\d{2}-\\d{2}")));
    a = post(root(emu) + "/v3/sql",
             "{\"sql\":\"SELECT DISTINCT aws_bucket, license_short_name FROM index WHERE collection_id = "
             "'mixed_phantom_demo'\"}");
    o = obj(a.body);
    BOOST_TEST(o->getValue<int>("max_rows") == 5000);
    BOOST_TEST(o->getArray("rows")->getObject(0)->getValue<std::string>("aws_bucket") == "idc-open-data-cr");
    BOOST_TEST(o->getArray("rows")->getObject(0)->getValue<std::string>("license_short_name") ==
               "CC BY-NC 4.0");
    // The study-level query API.md gives as its example runs as written.
    a = post(root(emu) + "/v3/sql",
             "{\"sql\":\"SELECT PatientID, StudyInstanceUID, any_value(StudyDate), count(*) FROM index WHERE "
             "collection_id='tcga_demo_ct' GROUP BY 1,2 ORDER BY 2 LIMIT 10000 OFFSET 0\"}");
    BOOST_TEST(a.status == 200);
    BOOST_TEST(obj(a.body)->getValue<int>("row_count") == 3);
}

BOOST_AUTO_TEST_CASE(sql_errors_and_bad_bodies) {
    EmulatorProcess emu({"--quiet", "--idc-sql-timeout-ms", "300"});
    const std::string sql = root(emu) + "/v3/sql";
    auto code = [](const HttpAnswer& a) {
        return obj(a.body)->getObject("error")->getValue<std::string>("code");
    };
    auto a = post(sql, "{\"sql\":\"DROP TABLE index\"}");
    BOOST_TEST(a.status == 400);
    BOOST_TEST(code(a) == "invalid_query");
    a = post(sql, "{\"sql\":\"SELECT 1; SELECT 2\"}");
    BOOST_TEST(code(a) == "invalid_query");
    a = post(sql, "{\"sql\":\"SELECT no_such_column FROM index\"}");
    BOOST_TEST(code(a) == "invalid_query");
    a = post(
        sql,
        "{\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c\"}");
    BOOST_TEST(a.status == 504);
    BOOST_TEST(code(a) == "query_timeout");
    for (const std::string body :
         {"{}", "{\"sql\":1}", "nonsense", "{\"sql\":\"SELECT 1\",\"max_rows\":-5}"}) {
        a = post(sql, body);
        BOOST_TEST(a.status == 422, body);
        BOOST_TEST(obj(a.body)->has("detail"), body);
    }
    // The limit of request bodies.
    a = post(sql, "{\"sql\":\"SELECT '" + std::string(2 * 1024 * 1024, 'x') + "'\"}");
    BOOST_TEST(a.status == 413);
    a = post(root(emu) + "/v3/cohort/manifest",
             "{\"filters\":{\"terms\":{\"Modality\":[\"CT\"]}},\"page_size\":2}");
    BOOST_TEST(a.status == 200);
    const auto m = obj(a.body);
    BOOST_TEST(m->getValue<int>("returned") == 2);
    BOOST_TEST(m->getValue<int>("total_series") == 5);  // CT: .2.1, .2.2, .2.3, .2.5 and the phantom .2.11
    BOOST_TEST(http(root(emu) + "/v2/collections").status == 410);
}

BOOST_AUTO_TEST_CASE(bucket_listing_pages_and_objects_are_the_nbia_files) {
    EmulatorProcess emu({"--quiet"});
    const auto series = allSeries(emu, 100);
    int markers = 0, multipart = 0, pages = 0;
    for (const auto& s : series) {
        const auto keys = listAll(emu, s.bucket, s.uuid + "/", 2, &pages);
        int dcm = 0;
        std::vector<std::string> names;
        for (const auto& [key, etag] : keys) {
            names.push_back(key);
            if (key == s.uuid + "/") {
                ++markers;
                BOOST_TEST(etag == "&quot;d41d8cd98f00b204e9800998ecf8427e&quot;");
                continue;
            }
            BOOST_TEST(std::regex_match(key, std::regex(s.uuid + "/[0-9a-f-]{36}\\.dcm")), key);
            ++dcm;
            if (std::regex_match(etag, std::regex("&quot;[0-9a-f]{32}-2&quot;")))
                ++multipart;
            else
                BOOST_TEST(std::regex_match(etag, std::regex("&quot;[0-9a-f]{32}&quot;")), etag);
        }
        BOOST_TEST(dcm == s.instances, s.uid);  // "the .dcm count should equal instanceCount"
        BOOST_TEST(std::is_sorted(names.begin(), names.end()));
    }
    BOOST_TEST(markers == 3);    // the first series of each collection
    BOOST_TEST(multipart == 1);  // the largest object
    BOOST_TEST(pages > static_cast<int>(series.size()));

    // One object of the first CT series: the bytes NBIA's getSingleImage serves, MD5 = ETag.
    const Series& ct = *std::find_if(series.begin(), series.end(), [](const Series& s) {
        return s.uid == "1.2.826.0.1.3680043.10.1234.2.1";
    });
    const auto keys = listAll(emu, ct.bucket, ct.uuid + "/", 1000);
    const auto& [key, etag] = keys.back();
    const auto object = http(root(emu) + "/s3/" + ct.bucket + "/" + key);
    BOOST_TEST(object.status == 200);
    BOOST_TEST(object.contentType == "application/dicom");
    BOOST_TEST("&quot;" + md5(object.body) + "&quot;" == etag);
    BOOST_TEST(object.headers.at("ETag") == "\"" + md5(object.body) + "\"");
    const std::string sop = sopOf(object.body);
    BOOST_REQUIRE(!sop.empty());
    const auto nbia =
        http(emu.baseUrl("v4") + "/getSingleImage?SeriesInstanceUID=" + ct.uid + "&SOPInstanceUID=" + sop);
    BOOST_TEST(nbia.status == 200);
    BOOST_TEST((nbia.body == object.body));
}

BOOST_AUTO_TEST_CASE(ranges_head_and_s3_errors) {
    EmulatorProcess emu({"--quiet"});
    const auto series = allSeries(emu, 100);
    const Series& s = series.front();
    const auto keys = listAll(emu, s.bucket, s.uuid + "/", 1000);
    const std::string url = root(emu) + "/s3/" + s.bucket + "/" + keys.back().first;
    const auto whole = http(url);
    const auto size = whole.body.size();
    BOOST_REQUIRE(size > 1000u);

    auto a = http(url, "GET", {{"Range", "bytes=0-99"}});
    BOOST_TEST(a.status == 206);
    BOOST_TEST(a.headers["Content-Range"] == "bytes 0-99/" + std::to_string(size));
    BOOST_TEST((a.body == whole.body.substr(0, 100)));
    a = http(url, "GET", {{"Range", "bytes=0-1048575"}});  // tcia_utils' header read
    BOOST_TEST(a.status == 206);
    BOOST_TEST(a.headers["Content-Range"] ==
               "bytes 0-" + std::to_string(size - 1) + "/" + std::to_string(size));
    BOOST_TEST((a.body == whole.body));
    a = http(url, "GET", {{"Range", "bytes=-10"}});
    BOOST_TEST((a.body == whole.body.substr(size - 10)));
    a = http(url, "GET", {{"Range", "bytes=0-9,20-29"}});  // one range per GET: served whole
    BOOST_TEST(a.status == 200);
    BOOST_TEST(a.body.size() == size);
    a = http(url, "GET", {{"Range", "bytes=" + std::to_string(size) + "-"}});
    BOOST_TEST(a.status == 416);
    BOOST_TEST(tag(a.body, "Code") == "InvalidRange");
    BOOST_TEST(!tag(a.body, "RequestId").empty());

    a = http(url, "HEAD");
    BOOST_TEST(a.status == 200);
    BOOST_TEST(a.headers["Content-Length"] == std::to_string(size));
    BOOST_TEST(a.body.empty());

    a = http(root(emu) + "/s3/" + s.bucket + "/" + s.uuid + "/nope.dcm");
    BOOST_TEST(a.status == 404);
    BOOST_TEST(tag(a.body, "Code") == "NoSuchKey");
    BOOST_TEST(tag(a.body, "Key") == s.uuid + "/nope.dcm");
    // The key is percent-decoded once: %2525 is "%25" in the key, echoed as such.
    a = http(root(emu) + "/s3/" + s.bucket + "/a%2525b");
    BOOST_TEST(tag(a.body, "Key") == "a%25b");
    a = http(root(emu) + "/s3/no-such-bucket/?list-type=2");
    BOOST_TEST(a.status == 404);
    BOOST_TEST(tag(a.body, "Code") == "NoSuchBucket");
    // The object lives in its own bucket only.
    const std::string other = s.bucket == "idc-open-data" ? "idc-open-data-cr" : "idc-open-data";
    BOOST_TEST(http(root(emu) + "/s3/" + other + "/" + keys.back().first).status == 404);
    a = http(root(emu) + "/s3/" + s.bucket + "/?list-type=2&continuation-token=forged");
    BOOST_TEST(a.status == 400);
    BOOST_TEST(tag(a.body, "Code") == "InvalidArgument");
}

BOOST_AUTO_TEST_CASE(faults_reach_v3_and_s3) {
    EmulatorProcess emu({"--quiet", "--fault", "GetObject:503:2", "--fault", "ListObjectsV2:drop:1",
                         "--fault", "v3/sql:truncate:1", "--fault", "v3/version:slow:1:delay-ms=600"});
    // v3/sql: the first answer stops halfway (Content-Length promised, then a reset).
    bool whole = false;
    try {
        const auto a = post(root(emu) + "/v3/sql", "{\"sql\":\"SELECT * FROM index\"}");
        obj(a.body);
        whole = true;
    } catch (const std::exception&) {
    }
    BOOST_TEST(!whole);
    const auto series = allSeries(emu, 100);
    BOOST_REQUIRE(!series.empty());
    const Series& s = series.front();
    BOOST_CHECK_THROW(http(root(emu) + "/s3/" + s.bucket + "/?list-type=2&prefix=" + s.uuid + "/"),
                      Poco::Exception);
    const auto keys = listAll(emu, s.bucket, s.uuid + "/", 1000);
    const std::string url = root(emu) + "/s3/" + s.bucket + "/" + keys.back().first;
    for (int i = 0; i < 2; ++i) {
        const auto a = http(url);
        BOOST_TEST(a.status == 503);
        BOOST_TEST(tag(a.body, "Code") == "SlowDown");
    }
    BOOST_TEST(http(url).status == 200);
    const auto t0 = std::chrono::steady_clock::now();
    BOOST_TEST(http(root(emu) + "/v3/version").status == 200);
    BOOST_TEST(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= 0.55);

    // Runtime control: a truncated object (Content-Length promised, half sent, then a reset).
    BOOST_TEST(http(root(emu) + "/emulator/faults?spec=GetObject:truncate:1", "POST").status == 200);
    const auto size = http(url, "HEAD").headers["Content-Length"];
    try {
        const auto a = http(url);
        BOOST_TEST(std::to_string(a.body.size()) != size);
    } catch (const Poco::Exception&) {
        // A reset mid-body may surface as an exception: also "not a whole object".
    }
    BOOST_TEST(std::to_string(http(url).body.size()) == size);
    BOOST_TEST(http(root(emu) + "/emulator/faults?spec=*:500:1", "POST").status == 200);
    BOOST_TEST(http(root(emu) + "/v3/collections").status == 500);
    BOOST_TEST(http(root(emu) + "/v3/collections").status == 200);
}

BOOST_AUTO_TEST_CASE(the_restricted_collection_is_nowhere_in_idc) {
    EmulatorProcess emu({"--quiet"});
    const std::string series = "1.2.826.0.1.3680043.10.1234.2.13";  // Restricted-Demo, token only in NBIA
    auto a = post(
        root(emu) + "/v3/sql",
        "{\"sql\":\"SELECT count(*) AS n FROM index WHERE PatientID = 'RESTR-0001' OR SeriesInstanceUID = '" +
            series + "'\"}");
    BOOST_TEST(obj(a.body)->getArray("rows")->getObject(0)->getValue<int>("n") == 0);
    const std::string uuid = emulator::idc::crdcUuid("series", series);
    const std::string key =
        uuid + "/" + emulator::idc::crdcUuid("instance", "1.2.826.0.1.3680043.10.1234.3.13.1") + ".dcm";
    for (const char* bucket : {"idc-open-data", "idc-open-data-two", "idc-open-data-cr"}) {
        BOOST_TEST(http(root(emu) + "/s3/" + bucket + "/" + key).status == 404, bucket);
        a = http(root(emu) + "/s3/" + std::string(bucket) + "/?list-type=2&prefix=" + uuid + "/");
        BOOST_TEST(tag(a.body, "KeyCount") == "0", bucket);
    }
    a = post(root(emu) + "/v3/cohort/counts", "{\"terms\":{\"collection_id\":[\"restricted_demo\"]}}");
    BOOST_TEST(obj(a.body)->getValue<int>("series") == 0);
}

BOOST_AUTO_TEST_CASE(concurrent_sql_and_object_reads_all_succeed) {
    EmulatorProcess emu({"--quiet"});
    const auto series = allSeries(emu, 100);
    const auto keys = listAll(emu, series.front().bucket, series.front().uuid + "/", 1000);
    const std::string url = root(emu) + "/s3/" + series.front().bucket + "/" + keys.back().first;
    const std::string expected = http(url).body;
    std::atomic<int> good{0}, bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 15; ++i) {
                try {
                    if ((t + i) % 2) {
                        const auto a =
                            post(root(emu) + "/v3/sql",
                                 "{\"sql\":\"SELECT collection_id, count(*) AS n FROM index GROUP BY 1\"}");
                        (a.status == 200 && obj(a.body)->getValue<int>("row_count") == 3 ? good : bad)++;
                    } else {
                        const auto a = http(url, "GET", {{"Range", "bytes=100-"}});
                        (a.status == 206 && a.body == expected.substr(100) ? good : bad)++;
                    }
                } catch (const std::exception&) {
                    bad++;
                }
            }
        });
    for (auto& t : threads) t.join();
    BOOST_TEST(good.load() == 90);
    BOOST_TEST(bad.load() == 0);
}

BOOST_AUTO_TEST_CASE(synthetic_series_enter_the_sql_index_only_on_request) {
    bridge::test::TempDir dir;
    emulator::GenerateOptions options;
    options.outDir = dir.path();
    options.syntheticStudies = 50;
    options.seriesPerStudy = 4;
    emulator::SampleDataGenerator::generate(options);
    const std::string count = "{\"sql\":\"SELECT count(*) AS n FROM index\"}";
    {
        EmulatorProcess plain({"--quiet"}, dir.path());
        BOOST_TEST(obj(post(root(plain) + "/v3/sql", count).body)
                       ->getArray("rows")
                       ->getObject(0)
                       ->getValue<int>("n") == 0);
    }
    EmulatorProcess emu({"--quiet", "--idc-synthetic"}, dir.path());
    BOOST_TEST(
        obj(post(root(emu) + "/v3/sql", count).body)->getArray("rows")->getObject(0)->getValue<int>("n") ==
        200);
    // A keyset harvest in pages of 64 sees every series once, in order.
    std::vector<std::string> uids;
    std::string after;
    for (int page = 0; page < 10; ++page) {
        const auto a =
            post(root(emu) + "/v3/sql",
                 "{\"sql\":\"SELECT SeriesInstanceUID, collection_id, license_short_name FROM index WHERE "
                 "SeriesInstanceUID > '" +
                     after + "' ORDER BY SeriesInstanceUID LIMIT 64\"}");
        const auto rows = obj(a.body)->getArray("rows");
        for (std::size_t i = 0; i < rows->size(); ++i) {
            const auto r = rows->getObject(static_cast<unsigned>(i));
            uids.push_back(r->getValue<std::string>("SeriesInstanceUID"));
            BOOST_TEST(r->getValue<std::string>("license_short_name") == "CC BY 4.0");
        }
        if (rows->size() < 64) break;
        after = uids.back();
    }
    BOOST_TEST(uids.size() == 200u);
    BOOST_TEST(std::is_sorted(uids.begin(), uids.end()));
    BOOST_TEST(std::set<std::string>(uids.begin(), uids.end()).size() == 200u);
    const auto a = post(root(emu) + "/v3/sql", "{\"sql\":\"SELECT count(*) AS n FROM collections_index\"}");
    BOOST_TEST(obj(a.body)->getArray("rows")->getObject(0)->getValue<int>("n") == 10);
}

BOOST_AUTO_TEST_CASE(a_series_of_1200_objects_lists_in_pages_of_1000) {
    bridge::test::TempDir dir;
    emulator::GenerateOptions options;
    options.outDir = dir.path();
    options.manySlices = 1200;
    emulator::SampleDataGenerator::generate(options);
    EmulatorProcess emu({"--quiet"}, dir.path());
    auto a =
        post(root(emu) + "/v3/sql",
             "{\"sql\":\"SELECT aws_bucket, crdc_series_uuid, instanceCount FROM index WHERE collection_id = "
             "'many_slices_demo'\"}");
    const auto row = obj(a.body)->getArray("rows")->getObject(0);
    BOOST_TEST(row->getValue<int>("instanceCount") == 1200);
    const std::string bucket = row->getValue<std::string>("aws_bucket");
    const std::string uuid = row->getValue<std::string>("crdc_series_uuid");
    BOOST_TEST(bucket == "idc-open-data");
    // max-keys above 1,000 is lowered to 1,000 (echoed); the marker "<uuid>/" comes first.
    a = http(root(emu) + "/s3/" + bucket + "/?list-type=2&prefix=" + uuid + "/&max-keys=5000");
    BOOST_TEST(tag(a.body, "MaxKeys") == "1000");
    BOOST_TEST(tag(a.body, "KeyCount") == "1000");
    BOOST_TEST(tag(a.body, "IsTruncated") == "true");
    BOOST_TEST(tags(a.body, "Key").front() == uuid + "/");
    int pages = 0;
    const auto keys = listAll(emu, bucket, uuid + "/", 1000, &pages);
    BOOST_TEST(pages == 2);
    BOOST_TEST(keys.size() == 1201u);  // 1,200 objects + the zero-byte marker
    std::set<std::string> distinct;
    for (const auto& k : keys) distinct.insert(k.first);
    BOOST_TEST(distinct.size() == 1201u);
}

BOOST_AUTO_TEST_SUITE_END()
