#include "bridge/query/TciaMetadataSource.h"

#include <boost/test/unit_test.hpp>

#include <thread>

using namespace bridge;

namespace {

/// Counts calls; answers with fixed rows.
struct CountingTcia : tcia::TciaApi {
    int collectionCalls = 0;
    std::vector<std::string> lastCalls;
    std::vector<std::string> collectionNames{"A", "B"};

    std::vector<std::string> collections(const RequestContext& context) override {
        ++collectionCalls;
        return collectionNames;
    }
    std::vector<std::string> modalityValues(const tcia::ValueFilter&, const RequestContext& context) override { return {}; }
    std::vector<std::string> bodyPartValues(const tcia::ValueFilter&, const RequestContext& context) override { return {}; }
    std::vector<std::string> manufacturerValues(const tcia::ValueFilter&, const RequestContext& context) override { return {}; }
    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& f, const RequestContext& context) override {
        lastCalls.push_back("patients:" + f.collection + ":" + f.patientId);
        return {tcia::PatientRecord{}};
    }
    std::vector<tcia::PatientRecord> patientsByCollectionAndModality(const std::string&, const std::string&, const RequestContext& context) override { return {}; }
    std::vector<tcia::PatientRecord> newPatientsInCollection(const std::string&, const std::string&, const RequestContext& context) override { return {}; }
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& f, const RequestContext& context) override {
        lastCalls.push_back("studies:" + f.collection + ":" + f.patientId + ":" + f.studyInstanceUid);
        return {tcia::StudyRecord{}, tcia::StudyRecord{}};
    }
    std::vector<tcia::StudyRecord> newStudiesInPatientCollection(const std::string&, const std::string&,
                                                                 const std::string&, const RequestContext& context) override { return {}; }
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& f, const RequestContext& context) override {
        lastCalls.push_back("series:" + f.collection + ":" + f.modality);
        return {};
    }
    std::vector<tcia::SeriesRecord> updatedSeries(const std::string&, const RequestContext& context) override { return {}; }
    tcia::SeriesSize seriesSize(const std::string&, const RequestContext& context) override { return {}; }
    std::vector<std::string> sopInstanceUids(const std::string& uid, const RequestContext& context) override { return {uid + ".1"}; }
    std::size_t downloadSeries(const std::string&, const tcia::DownloadOptions&, const tcia::InstanceSink&,
                               const RequestContext&) override { return 0; }
    std::vector<std::uint8_t> singleImage(const std::string&, const std::string&, const RequestContext& context) override { return {}; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(TciaMetadataSourceTests)

BOOST_AUTO_TEST_CASE(passes_calls_through) {
    CountingTcia api;
    TciaMetadataSource source(api);
    BOOST_TEST(source.patients({"A", "P1"}, RequestContext()).size() == 1u);
    BOOST_TEST(source.studies({"A", "P1", "1.2"}, RequestContext()).size() == 2u);
    tcia::SeriesFilter f;
    f.collection = "A";
    f.modality = "CT";
    source.series(f, RequestContext());
    BOOST_TEST(source.sopInstanceUids("1.2.3", RequestContext()) == (std::vector<std::string>{"1.2.3.1"}), boost::test_tools::per_element());
    BOOST_TEST(api.lastCalls == (std::vector<std::string>{"patients:A:P1", "studies:A:P1:1.2", "series:A:CT"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(cannot_scan_and_restricts_nothing) {
    CountingTcia api;
    TciaMetadataSource source(api);
    Query q;
    BOOST_TEST(!source.scanStudies(q, {"A"}));
    BOOST_TEST(!source.scanSeries(q, {"A"}));
    BOOST_TEST(!source.scanPatients(q, {"A"}));
    BOOST_TEST(source.restrictedCollections(RequestContext()).empty());
}

BOOST_AUTO_TEST_CASE(collections_are_cached_for_the_ttl) {
    CountingTcia api;
    TciaMetadataSource cached(api, std::chrono::seconds(60));
    BOOST_TEST(cached.collections(RequestContext()).size() == 2u);
    api.collectionNames.push_back("C");
    BOOST_TEST(cached.collections(RequestContext()).size() == 2u);
    BOOST_TEST(api.collectionCalls == 1);

    CountingTcia api2;
    TciaMetadataSource uncached(api2, std::chrono::seconds(0));
    uncached.collections(RequestContext());
    api2.collectionNames.push_back("C");
    BOOST_TEST(uncached.collections(RequestContext()).size() == 3u);
    BOOST_TEST(api2.collectionCalls == 2);
}

BOOST_AUTO_TEST_SUITE_END()
