// MoveDestination against a real storescp: more SOP classes than one association can carry
// (PS3.8 9.3.2.2: at most 128 presentation contexts).
#include <dcmtk/dcmdata/dcuid.h>

#include <boost/test/unit_test.hpp>

#include "dimse/MoveDestination.h"
#include "tests/protocol/dimse/DimseTestSupport.h"
#include "tests/support/TestSupport.h"

using namespace bridge;
using namespace bridge::test;

BOOST_AUTO_TEST_SUITE(MoveDestinationSuite)

// Issue 9 #10: past 128 contexts the oldest were trimmed from contexts_ but not from
// proposed_, so an instance of an evicted SOP class was sent on an association without a
// context for it (and failed) instead of re-opening the association with its class.
BOOST_AUTO_TEST_CASE(sop_class_evicted_past_128_contexts_is_proposed_again) {
    TempDir dir;
    StoreScpProcess dest("DEST", dir.path());
    dimse::MoveDestination::Options options;
    options.callingAet = "TCIA";
    dimse::MoveDestination destination(DicomPeer{"DEST", "127.0.0.1", dest.port()}, options,
                                       dimse::MoveOriginator{"REQUESTER", 1});
    // 130 distinct storage SOP classes, one uncompressed instance each: 130 contexts > 128.
    BOOST_REQUIRE(numberOfDcmAllStorageSOPClassUIDs >= 130);
    std::vector<std::string> classes;
    for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs && classes.size() < 130; ++i)
        classes.push_back(dcmAllStorageSOPClassUIDs[i]);
    int stored = 0;
    for (std::size_t i = 0; i < classes.size(); ++i) {
        auto r = destination.store(
            makeCtInstance("1.2.7", "1.2.7.1", "1.2.7.1." + std::to_string(i + 1), EXS_LittleEndianExplicit,
                           classes[i].c_str()));
        if (r.outcome != dimse::StoreTarget::Outcome::Failure) ++stored;
    }
    BOOST_TEST(stored >= 120);  // storescp knows (almost) every class DCMTK lists
    BOOST_REQUIRE(!destination.broken());
    // The first two classes' contexts were evicted: storing them again must work.
    for (std::size_t i = 0; i < 2; ++i) {
        auto r = destination.store(makeCtInstance("1.2.7", "1.2.7.1", "1.2.7.1.9" + std::to_string(i),
                                                  EXS_LittleEndianExplicit, classes[i].c_str()));
        BOOST_TEST((r.outcome == dimse::StoreTarget::Outcome::Success), "class " << classes[i] << ": " << r.reason);
    }
}

BOOST_AUTO_TEST_SUITE_END()
