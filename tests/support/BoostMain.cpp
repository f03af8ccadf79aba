// The single Boost.Test entry point linked into every test executable.
#define BOOST_TEST_MODULE tcia_bridge_tests
#include <boost/test/unit_test.hpp>
