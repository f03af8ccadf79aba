// X-Request-ID: which client ids the bridge honours (web/RequestId.h), table-driven.
#include <boost/test/unit_test.hpp>
#include <string>

#include "web/RequestId.h"

using namespace bridge::web;

BOOST_AUTO_TEST_SUITE(RequestId)

BOOST_AUTO_TEST_CASE(well_formed_ids_are_honoured_verbatim) {
    for (const std::string id : {std::string("f47ac10b-58cc-4372-a567-0e02b2c3d479"), std::string("req-1"),
                                 std::string("a"), std::string("abc.def:ghi/jkl+mno="),
                                 std::string("user@host_42"), std::string(kMaxRequestIdLength, 'x')}) {
        BOOST_TEST_CONTEXT(id) {
            const auto accepted = acceptedRequestId(id);
            BOOST_TEST(accepted.has_value());
            if (accepted) BOOST_TEST(*accepted == id);
            BOOST_TEST(requestIdFor(id) == id);
        }
    }
}

BOOST_AUTO_TEST_CASE(malformed_or_unbounded_ids_are_replaced) {
    for (const std::string id :
         {std::string(), std::string(kMaxRequestIdLength + 1, 'x'), std::string("has space"),
          std::string("[h-1] forged"), std::string("line\nbreak"), std::string("quote\""),
          std::string("tab\t"), std::string("nul\0x", 5), std::string("caf\xc3\xa9"),
          std::string("semi;colon"), std::string("<script>")}) {
        BOOST_TEST_CONTEXT(id) {
            BOOST_TEST(!acceptedRequestId(id).has_value());
            const std::string made = requestIdFor(id);
            BOOST_TEST(made.rfind("h-", 0) == 0u);  // one the bridge made
            BOOST_TEST(made != id);
        }
    }
}

BOOST_AUTO_TEST_CASE(generated_ids_are_unique) { BOOST_TEST(requestIdFor("") != requestIdFor("")); }

BOOST_AUTO_TEST_SUITE_END()
