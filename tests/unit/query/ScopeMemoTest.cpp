// AccessPolicy's DIMSE scope memo (issue 11: a C-FIND's scope without a catalog read): a scope is
// reused only under the same source generation, the same grants and within kScopeMemoAge; a
// source without a generation is never memoized.
#include "InMemoryMetadataSource.h"

#include "bridge/query/AccessPolicy.h"

#include <boost/test/unit_test.hpp>

#include <atomic>

using namespace bridge;

namespace {

/// The sample source with a settable generation and a count of restricted-list reads.
class GenerationSource : public test::InMemoryMetadataSource {
public:
    explicit GenerationSource(test::InMemoryMetadataSource base) : test::InMemoryMetadataSource(std::move(base)) {}
    std::optional<std::uint64_t> generation() override { return gen; }
    std::set<std::string> restrictedCollections(const RequestContext& context) override {
        ++reads;
        return test::InMemoryMetadataSource::restrictedCollections(context);
    }
    std::optional<std::uint64_t> gen = 1;
    std::atomic<int> reads{0};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ScopeMemo)

BOOST_AUTO_TEST_CASE(a_scope_is_reused_only_under_the_same_generation_and_grants) {
    GenerationSource source(test::makeSampleTcia());  // restricts "Secret-Trial"
    Config c;
    c.dimse.aeTitle = "TCIA";
    AccessPolicy policy(c, source);
    BOOST_TEST(!policy.memoizedDimseScope("PACS", "TCIA").has_value(), "nothing resolved yet");
    BOOST_TEST(!policy.forDimse("PACS", "TCIA").allows("Secret-Trial"));
    BOOST_TEST(source.reads == 1);
    // Same generation: the memo answers, the lists are not read again.
    const auto memo = policy.memoizedDimseScope("PACS  ", "TCIA");  // AE padding is trimmed
    BOOST_REQUIRE(memo.has_value());
    BOOST_TEST(!memo->allows("Secret-Trial"));
    BOOST_TEST(!policy.forDimse("PACS", "TCIA").allows("Secret-Trial"));
    BOOST_TEST(source.reads == 1);
    // Another caller has its own entry.
    BOOST_TEST(!policy.memoizedDimseScope("OTHER", "TCIA").has_value());

    // The catalog changed (a new restriction list): the memo is stale at once.
    source.restricted.erase("Secret-Trial");
    source.gen = 2;
    BOOST_TEST(!policy.memoizedDimseScope("PACS", "TCIA").has_value());
    BOOST_TEST(policy.forDimse("PACS", "TCIA").allows("Secret-Trial"));
    BOOST_TEST(source.reads == 2);

    // New grants (SIGHUP): stale at once too, even under the same generation.
    source.restricted.insert("Secret-Trial");
    source.gen = 3;
    BOOST_TEST(!policy.forDimse("PACS", "TCIA").allows("Secret-Trial"));
    AccessSettings granted;
    granted.grantsByAet["Secret-Trial"] = {"PACS"};
    policy.reload(granted);
    BOOST_TEST(!policy.memoizedDimseScope("PACS", "TCIA").has_value());
    BOOST_TEST(policy.forDimse("PACS", "TCIA").allows("Secret-Trial"));
}

BOOST_AUTO_TEST_CASE(a_source_without_a_generation_is_never_memoized) {
    GenerationSource source(test::makeSampleTcia());
    source.gen = std::nullopt;
    Config c;
    c.dimse.aeTitle = "TCIA";
    AccessPolicy policy(c, source);
    policy.forDimse("PACS", "TCIA");
    policy.forDimse("PACS", "TCIA");
    BOOST_TEST(source.reads == 2);
    BOOST_TEST(!policy.memoizedDimseScope("PACS", "TCIA").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
