// The catalog's SQL pre-filter: translation table, and a randomised comparison against a
// brute-force PS3.4 reference (the pre-filter must return every match; when it claims to be
// exact it must return exactly the matches).
#include "FakeTciaApi.h"
#include "bridge/catalog/Catalog.h"
#include "bridge/catalog/ScanFilter.h"
#include "tests/support/TestSupport.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

#include <clocale>
#include <cwctype>
#include <map>
#include <random>
#include <set>

using namespace bridge;

namespace {

Query makeQuery(QueryLevel level, std::vector<QueryKey> keys) {
    Query q;
    q.level = level;
    q.keys = std::move(keys);
    return q;
}

// ---- brute-force reference: PS3.4 C.2.2.2, lenient where Matcher.h is lenient ----

std::u32string decode(const std::string& s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        char32_t cp;
        int len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c >> 5) == 6) { cp = c & 0x1F; len = 2; }
        else if ((c >> 4) == 14) { cp = c & 0x0F; len = 3; }
        else { cp = c & 0x07; len = 4; }
        for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out.push_back(static_cast<char32_t>(std::towupper(static_cast<wint_t>(cp))));
        i += len;
    }
    return out;
}

bool wildcard(const std::u32string& p, std::size_t pi, const std::u32string& v, std::size_t vi) {
    if (pi == p.size()) return vi == v.size();
    if (p[pi] == U'*') {
        for (std::size_t k = vi; k <= v.size(); ++k)
            if (wildcard(p, pi + 1, v, k)) return true;
        return false;
    }
    if (vi == v.size()) return false;
    return (p[pi] == U'?' || p[pi] == v[vi]) && wildcard(p, pi + 1, v, vi + 1);
}

std::string trim(const std::string& s) {
    std::size_t b = 0, e = s.size();
    while (b < e && s[b] == ' ') ++b;
    while (e > b && s[e - 1] == ' ') --e;
    return s.substr(b, e - b);
}

std::vector<std::string> split(const std::string& v) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto pos = v.find('\\', start);
        out.push_back(trim(v.substr(start, pos == std::string::npos ? std::string::npos : pos - start)));
        if (pos == std::string::npos) return out;
        start = pos + 1;
    }
}

bool universal(const std::string& v) {
    const auto t = trim(v);
    return t.find_first_not_of('*') == std::string::npos;
}

/// Case-insensitive wildcard/list match (for PN the matcher's rule; for other strings more
/// lenient than the matcher, which only makes the superset check stronger).
bool textMatches(const std::string& query, const std::string& value) {
    if (universal(query)) return true;
    for (const auto& alt : split(query))
        if (wildcard(decode(alt), 0, decode(trim(value)), 0)) return true;
    return false;
}

bool uidMatches(const std::string& query, const std::string& value) {
    if (universal(query)) return true;
    for (const auto& alt : split(query))
        if (alt == value) return true;
    return false;
}

bool dateMatches(const std::string& query, const std::string& value) {
    const auto q = trim(query);
    if (q.empty() || q == "-") return true;
    const auto dash = q.find('-');
    if (dash == std::string::npos) return q == value;
    if (value.empty()) return false;
    const auto lo = q.substr(0, dash), hi = q.substr(dash + 1);
    return (lo.empty() || value >= lo) && (hi.empty() || value <= hi);
}

struct Fixture {
    test::TempDir dir;
    test::FakeTciaApi fake;
    std::unique_ptr<Catalog> catalog;
    std::map<std::string, tcia::StudyRecord> studyByUid;
    std::map<std::string, std::set<std::string>> modalitiesByStudy;

    Fixture() {
        std::setlocale(LC_ALL, "C.UTF-8");
        fake.generate(42, 4, 60);
        CatalogSettings settings;
        CacheSettings cache;
        cache.directory = dir.path();
        catalog = std::make_unique<Catalog>(settings, cache, fake);
        for (const auto& c : fake.collectionNames) {
            tcia::PatientFilter pf{c, ""};
            tcia::StudyFilter sf{c, "", ""};
            tcia::SeriesFilter ef;
            ef.collection = c;
            catalog->storeCollectionHarvest(c, fake.patients(pf, RequestContext()), fake.studies(sf, RequestContext()), fake.series(ef, RequestContext()));
        }
        for (const auto& s : fake.studyRows) studyByUid[s.studyInstanceUid] = s;
        for (const auto& s : fake.seriesRows) modalitiesByStudy[s.studyInstanceUid].insert(s.modality);
    }
};

bool studyMatches(const Fixture& f, const tcia::StudyRecord& s, const Query& q) {
    for (const auto& k : q.keys) {
        if (k.tag == DCM_PatientName && !textMatches(k.value, s.patientName)) return false;
        if (k.tag == DCM_PatientID && !textMatches(k.value, s.patientId)) return false;
        if (k.tag == DCM_StudyInstanceUID && !uidMatches(k.value, s.studyInstanceUid)) return false;
        if (k.tag == DCM_StudyDate && !dateMatches(k.value, s.studyDate)) return false;
        if (k.tag == DCM_StudyDescription && !textMatches(k.value, s.studyDescription)) return false;
        if (k.tag == kCollectionTag && !textMatches(k.value, s.collection)) return false;
        if (k.tag == DCM_ModalitiesInStudy && !universal(k.value)) {
            bool any = false;
            for (const auto& m : f.modalitiesByStudy.at(s.studyInstanceUid)) any = any || textMatches(k.value, m);
            if (!any) return false;
        }
    }
    return true;
}

bool seriesMatches(const Fixture& f, const tcia::SeriesRecord& s, const Query& q) {
    for (const auto& k : q.keys) {
        if (k.tag == DCM_PatientName && !textMatches(k.value, f.studyByUid.at(s.studyInstanceUid).patientName)) return false;
        if (k.tag == DCM_SeriesInstanceUID && !uidMatches(k.value, s.seriesInstanceUid)) return false;
        if (k.tag == DCM_StudyInstanceUID && !uidMatches(k.value, s.studyInstanceUid)) return false;
        if (k.tag == DCM_Modality && !textMatches(k.value, s.modality)) return false;
        if (k.tag == DCM_SeriesDate && !dateMatches(k.value, s.seriesDate)) return false;
        if (k.tag == DCM_BodyPartExamined && !textMatches(k.value, s.bodyPartExamined)) return false;
    }
    return true;
}

}  // namespace

/// SQLite numbers `$n` by first appearance: placeholders must appear as $1, $2, ... in order.
bool placeholdersInOrder(const std::string& sql, std::size_t first, std::size_t count) {
    std::size_t expected = first, pos = 0;
    while ((pos = sql.find('$', pos)) != std::string::npos) {
        std::size_t end = pos + 1;
        while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
        if (std::stoul(sql.substr(pos + 1, end - pos - 1)) != expected++) return false;
        pos = end;
    }
    return expected == first + count;
}

BOOST_AUTO_TEST_SUITE(ScanFilterTranslation)

BOOST_AUTO_TEST_CASE(wildcards_become_escaped_like_patterns) {
    const std::vector<std::pair<std::string, std::string>> table = {
        {"SMITH*", "SMITH%"},       {"sm?th*", "SM_TH%"},   {"50%_OFF", "50\\%\\_OFF"},
        {"A\\B", "A\\\\B"},         {"*", "%"},             {"O'BRIEN", "O'BRIEN"},
    };
    for (const auto& [in, out] : table) BOOST_TEST(wildcardToLikePattern(in) == out, in);
}

BOOST_AUTO_TEST_CASE(uid_list_date_range_and_name_are_pushed_exactly) {
    auto q = makeQuery(QueryLevel::Study, {{DCM_PatientName, EVR_PN, "SMITH*"},
                                           {DCM_StudyInstanceUID, EVR_UI, "1.2\\1.3"},
                                           {DCM_StudyDate, EVR_DA, "20000101-"},
                                           {DCM_StudyDescription, EVR_LO, ""}});
    const auto f = buildScanFilter(q, QueryLevel::Study, {}, SqlDialect::Sqlite);
    BOOST_TEST(f.exact);
    BOOST_TEST(f.where.find("upper(patient_name) LIKE") != std::string::npos);
    BOOST_TEST(f.where.find("study_uid IN ($") != std::string::npos);
    BOOST_TEST(f.where.find("study_date >=") != std::string::npos);
    // SQLite gets an index range for the literal prefix: SMITH <= x < SMITI.
    BOOST_TEST((std::find(f.params.begin(), f.params.end(), "SMITI") != f.params.end()));
    BOOST_TEST(placeholdersInOrder(f.where, 1, f.params.size()), f.where);
}

BOOST_AUTO_TEST_CASE(what_cannot_be_pushed_exactly_clears_exact) {
    struct Row {
        QueryKey key;
        bool fuzzy;
        bool pushed;
    };
    const std::vector<Row> rows = {
        {{DCM_PatientName, EVR_PN, "SMITH"}, false, true},     // no trailing *: padding-tolerant LIKE
        {{DCM_PatientName, EVR_PN, "MÜ*"}, false, false},      // non-ASCII: Unicode case folding
        {{DCM_PatientName, EVR_PN, "joh"}, true, true},        // fuzzy: substring superset
        {{DCM_PatientID, EVR_LO, "ABC*"}, false, true},        // LO is case-sensitive in the matcher
        {{DCM_StudyDate, EVR_DA, "2000*"}, false, false},      // wildcard in DA: left to the engine
        {{DCM_StudyInstanceUID, EVR_UI, "1.2.*"}, false, false},
        {{DCM_AccessionNumber, EVR_SH, "A1"}, false, false},   // not in the catalog
    };
    for (const auto& r : rows) {
        auto q = makeQuery(QueryLevel::Study, {r.key});
        q.fuzzyMatching = r.fuzzy;
        const auto f = buildScanFilter(q, QueryLevel::Study, {}, SqlDialect::Sqlite);
        BOOST_TEST(!f.exact, r.key.value);
        BOOST_TEST((f.where != "1=1") == r.pushed, r.key.value);
        BOOST_TEST(placeholdersInOrder(f.where, 1, f.params.size()), f.where);
    }
}

BOOST_AUTO_TEST_CASE(postgresql_gets_no_byte_range) {
    auto q = makeQuery(QueryLevel::Study, {{DCM_PatientName, EVR_PN, "SMITH*"}});
    const auto f = buildScanFilter(q, QueryLevel::Study, {"TCGA-BRCA"}, SqlDialect::PostgreSql, 3);
    BOOST_TEST(f.params.size() == 2u);
    BOOST_TEST(placeholdersInOrder(f.where, 3, 2), f.where);
    BOOST_TEST(f.where.find(">=") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ScanSuperset)

BOOST_AUTO_TEST_CASE(randomised_queries_never_lose_a_match) {
    Fixture f;
    std::mt19937 rng(7);
    auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
    const std::vector<std::string> names = {"SMITH*", "smith*", "*TH*", "S?ITH*", "SMITH^JOHN", "smith^john",
                                            "M*LLER*", "MÜ*", "50%*", "*_*", "J*\\D*", "?O*", "*", "", "LI",
                                            "O'B*", "*^J", "DOE^*"};
    const std::vector<std::string> dates = {"19950101-20051231", "-19991231", "20100101-", "19900101", "-", "bad-date",
                                            "2000*", ""};
    const std::vector<std::string> modalities = {"CT", "ct", "MR\\PT", "S*", "", "RTSTRUCT"};
    std::vector<std::string> someStudyUids, someSeriesUids;
    for (std::size_t i = 0; i < f.fake.studyRows.size(); i += 37) someStudyUids.push_back(f.fake.studyRows[i].studyInstanceUid);
    for (std::size_t i = 0; i < f.fake.seriesRows.size(); i += 53) someSeriesUids.push_back(f.fake.seriesRows[i].seriesInstanceUid);
    const auto& allCollections = f.fake.collectionNames;

    int checked = 0, nonEmpty = 0, exactChecked = 0;
    for (int iteration = 0; iteration < 300; ++iteration) {
        const bool seriesLevel = rng() % 3 == 0;
        std::vector<QueryKey> keys;
        if (rng() % 4 != 0) keys.push_back({DCM_PatientName, EVR_PN, pick(names)});
        if (seriesLevel) {
            if (rng() % 3 == 0) keys.push_back({DCM_Modality, EVR_CS, pick(modalities)});
            if (rng() % 4 == 0) keys.push_back({DCM_SeriesDate, EVR_DA, pick(dates)});
            if (rng() % 5 == 0) keys.push_back({DCM_SeriesInstanceUID, EVR_UI, pick(someSeriesUids) + "\\" + pick(someSeriesUids)});
            if (rng() % 5 == 0) keys.push_back({DCM_BodyPartExamined, EVR_CS, pick({"chest", "HEAD", "*", "C*"})});
        } else {
            if (rng() % 3 == 0) keys.push_back({DCM_StudyDate, EVR_DA, pick(dates)});
            if (rng() % 5 == 0) keys.push_back({DCM_StudyInstanceUID, EVR_UI, pick(someStudyUids) + "\\" + pick(someStudyUids)});
            if (rng() % 5 == 0) keys.push_back({DCM_ModalitiesInStudy, EVR_CS, pick(modalities)});
            if (rng() % 6 == 0) keys.push_back({DCM_StudyDescription, EVR_LO, pick({"*chest*", "MRI*", "Thorax^1"})});
            if (rng() % 6 == 0) keys.push_back({kCollectionTag, EVR_LO, pick({"coll-1", "COLL-2\\COLL-3", "C*"})});
        }
        Query q = makeQuery(seriesLevel ? QueryLevel::Series : QueryLevel::Study, keys);
        q.fuzzyMatching = rng() % 8 == 0;
        if (rng() % 3 == 0) {
            q.limit = 1 + rng() % 20;
            q.offset = rng() % 5;
        }
        std::vector<std::string> scope = allCollections;
        if (rng() % 3 == 0) scope.erase(scope.begin() + static_cast<long>(rng() % scope.size()));
        std::set<std::string> scopeUpper;
        for (const auto& c : scope) scopeUpper.insert(test::upperAscii(c));

        std::vector<std::string> got, expected;
        if (seriesLevel) {
            const auto rows = f.catalog->scanSeries(q, scope);
            BOOST_REQUIRE(rows.has_value());
            for (const auto& r : *rows) got.push_back(r.seriesInstanceUid);
            for (const auto& r : f.fake.seriesRows)
                if (scopeUpper.count(test::upperAscii(r.collection)) && seriesMatches(f, r, q)) expected.push_back(r.seriesInstanceUid);
        } else {
            const auto rows = f.catalog->scanStudies(q, scope);
            BOOST_REQUIRE(rows.has_value());
            for (const auto& r : *rows) got.push_back(r.studyInstanceUid);
            for (const auto& r : f.fake.studyRows)
                if (scopeUpper.count(test::upperAscii(r.collection)) && studyMatches(f, r, q)) expected.push_back(r.studyInstanceUid);
        }
        std::sort(expected.begin(), expected.end());
        const std::set<std::string> gotSet(got.begin(), got.end());
        BOOST_REQUIRE_EQUAL(gotSet.size(), got.size());  // no duplicates
        const auto filter = buildScanFilter(q, q.level, {}, SqlDialect::Sqlite);
        BOOST_TEST(placeholdersInOrder(filter.where, 1, filter.params.size()), filter.where);
        std::string described = filter.where + " |";
        for (const auto& k : q.keys) described += " " + k.tag.toString() + "=" + k.value;
        if (q.fuzzyMatching) described += " fuzzy";
        BOOST_TEST_MESSAGE("query " << iteration << ": " << described << " scope " << scope.size());
        const bool limited = filter.exact && q.limit && !seriesLevel;
        if (limited) {
            // Exact + limit: the first offset+limit+1 matches in the engine's study order
            // (PatientID, StudyDate, StudyInstanceUID), nothing else.
            std::sort(expected.begin(), expected.end(), [&](const std::string& a, const std::string& b) {
                const auto& x = f.studyByUid.at(a);
                const auto& y = f.studyByUid.at(b);
                return std::tie(x.patientId, x.studyDate, x.studyInstanceUid) <
                       std::tie(y.patientId, y.studyDate, y.studyInstanceUid);
            });
            const std::size_t n = std::min(expected.size(), q.offset + *q.limit + 1);
            const std::vector<std::string> page(expected.begin(), expected.begin() + static_cast<long>(n));
            BOOST_TEST(got == page, "query " << iteration);
            ++exactChecked;
        } else {
            for (const auto& uid : expected) BOOST_TEST(gotSet.count(uid) == 1u, "query " << iteration << " lost " << uid);
            if (filter.exact) {
                BOOST_TEST(gotSet.size() == expected.size(), "exact query " << iteration << " returned extra rows");
                ++exactChecked;
            }
        }
        ++checked;
        if (!expected.empty()) ++nonEmpty;
    }
    BOOST_TEST(checked == 300);
    BOOST_TEST(nonEmpty > 100);     // the generator and the queries do hit each other
    BOOST_TEST(exactChecked > 30);  // and the exact path is exercised
}

BOOST_AUTO_TEST_CASE(scans_refuse_unharvested_collections) {
    Fixture f;
    auto q = makeQuery(QueryLevel::Study, {{DCM_PatientName, EVR_PN, "SMITH*"}});
    BOOST_TEST(!f.catalog->scanStudies(q, {"COLL-0", "NOT-HARVESTED"}).has_value());
    BOOST_TEST(f.catalog->scanStudies(q, {}).value().empty());
    BOOST_TEST(f.catalog->scanPatients(q, {"coll-0"}).has_value());  // names compare case-insensitively
    // Bound to a local: ranging over `*optional-temporary` dangles (the optional dies first;
    // ASan: stack-use-after-scope).
    const auto patients = f.catalog->scanPatients(q, {"coll-0"});
    for (const auto& p : patients.value()) BOOST_TEST(p.collection == "COLL-0");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ScanPaging)

BOOST_AUTO_TEST_CASE(dense_prefix_pages_walk_the_order_index_and_stay_correct) {
    // 3000 studies, 90 % named SMITH^...: the range probe finds the range dense (over half the
    // table) and the scan walks studies_order instead of sorting the range; JONES (10 %) takes
    // the range + sort path. Same pages either way.
    test::TempDir dir;
    test::FakeTciaApi fake;
    CacheSettings cache;
    cache.directory = dir.path();
    Catalog catalog(CatalogSettings{}, cache, fake);
    std::vector<tcia::StudyRecord> studies;
    std::mt19937 rng(5);
    for (int i = 0; i < 3000; ++i) {
        tcia::StudyRecord s;
        s.collection = "DENSE";
        s.patientId = "P" + std::to_string(rng() % 700);
        s.patientName = (i % 10 == 0 ? "JONES^" : "SMITH^") + std::to_string(i);
        s.studyDate = std::to_string(20000101 + rng() % 9000);
        s.studyInstanceUid = "2.25." + std::to_string(rng());
        studies.push_back(s);
    }
    catalog.storeCollectionHarvest("DENSE", {}, studies, {});
    catalog.finishSyncRun(catalog.beginSyncRun(false));  // ANALYZE: the walk needs table statistics
    std::vector<tcia::StudyRecord> expected;
    for (const auto& s : studies)
        if (s.patientName.rfind("SMITH", 0) == 0) expected.push_back(s);
    std::sort(expected.begin(), expected.end(), [](const auto& x, const auto& y) {
        return std::tie(x.patientId, x.studyDate, x.studyInstanceUid) < std::tie(y.patientId, y.studyDate, y.studyInstanceUid);
    });
    for (const std::string pattern : {"SMITH*", "smi*", "JONES*"}) {
        Query q = makeQuery(QueryLevel::Study, {{DCM_PatientName, EVR_PN, pattern}});
        q.limit = 5;
        q.offset = 2;
        const auto rows = catalog.scanStudies(q, {"DENSE"});
        BOOST_REQUIRE(rows.has_value());
        BOOST_REQUIRE_EQUAL(rows->size(), 8u);
        if (pattern == "JONES*") {
            for (const auto& r : *rows) BOOST_TEST(r.patientName.rfind("JONES", 0) == 0u);
            continue;
        }
        for (std::size_t i = 0; i < rows->size(); ++i) BOOST_TEST((*rows)[i].studyInstanceUid == expected[i].studyInstanceUid);
    }
}

BOOST_AUTO_TEST_SUITE_END()
