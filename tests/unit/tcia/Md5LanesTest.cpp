// Md5Lanes (bridge/tcia/Md5Lanes.h): every kernel this CPU runs gives OpenSSL's MD5 for every
// padding case, eight lanes wide with lanes refilling, and under concurrent callers.
#include <boost/test/unit_test.hpp>

#include <random>
#include <thread>
#include <vector>

#include "bridge/tcia/Md5.h"
#include "bridge/tcia/Md5Lanes.h"

using bridge::tcia::Md5;
using bridge::tcia::Md5Lanes;

namespace {

std::vector<Md5Lanes::Kernel> kernelsHere() {
    std::vector<Md5Lanes::Kernel> out;
    for (auto k : {Md5Lanes::Kernel::Generic, Md5Lanes::Kernel::Avx2, Md5Lanes::Kernel::Avx512})
        if (Md5Lanes::supported(k)) out.push_back(k);
    BOOST_TEST_MESSAGE("Md5Lanes kernels on this CPU: " << out.size() << ", best "
                                                        << Md5Lanes::name(Md5Lanes::best()));
    return out;
}

std::vector<unsigned char> randomBytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<unsigned char> out(n);
    for (auto& b : out) b = static_cast<unsigned char>(rng());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(Md5LanesSuite)

BOOST_AUTO_TEST_CASE(rfc1321_test_suite_for_every_kernel) {
    const std::pair<std::string, std::string> cases[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (auto kernel : kernelsHere()) {
        Md5Lanes lanes(kernel);
        BOOST_TEST((lanes.kernel() == kernel));
        std::vector<std::pair<const void*, std::size_t>> all;
        for (const auto& [text, md5] : cases) {
            BOOST_TEST(lanes.hex(text.data(), text.size()) == md5, Md5Lanes::name(kernel) << " \"" << text << "\"");
            all.emplace_back(text.data(), text.size());
        }
        const auto many = lanes.hexMany(all);
        for (std::size_t i = 0; i < all.size(); ++i)
            BOOST_TEST(many[i] == cases[i].second, Md5Lanes::name(kernel) << " together, \"" << cases[i].first << "\"");
    }
}

BOOST_AUTO_TEST_CASE(every_length_around_the_padding_boundaries_matches_openssl) {
    const auto bytes = randomBytes(300, 1);
    for (auto kernel : kernelsHere()) {
        Md5Lanes lanes(kernel);
        std::vector<std::pair<const void*, std::size_t>> all;
        for (std::size_t n = 0; n <= 300; ++n) {
            BOOST_TEST(lanes.hex(bytes.data(), n) == Md5::hex(bytes.data(), n), Md5Lanes::name(kernel) << " alone, " << n << " bytes");
            all.emplace_back(bytes.data(), n);
        }
        // 301 buffers of 0..300 bytes through eight lanes: lanes finish and refill at every offset.
        const auto many = lanes.hexMany(all);
        for (std::size_t n = 0; n <= 300; ++n)
            BOOST_TEST(many[n] == Md5::hex(bytes.data(), n), Md5Lanes::name(kernel) << " together, " << n << " bytes");
        BOOST_TEST(lanes.counts().wideBlocks > 0u);
    }
}

BOOST_AUTO_TEST_CASE(buffers_of_unequal_size_share_the_lanes_and_each_keeps_its_digest) {
    // Object-sized buffers (as IDC's: ~0.5 MB) of different lengths: a lane that finishes early
    // takes the next buffer while the others are half way through theirs.
    std::vector<std::vector<unsigned char>> buffers;
    for (unsigned i = 0; i < 19; ++i) buffers.push_back(randomBytes(1000 + 37'777 * i + (i % 3) * 64, 100 + i));
    std::vector<std::pair<const void*, std::size_t>> all;
    for (const auto& b : buffers) all.emplace_back(b.data(), b.size());
    for (auto kernel : kernelsHere()) {
        Md5Lanes lanes(kernel);
        const auto many = lanes.hexMany(all);
        for (std::size_t i = 0; i < buffers.size(); ++i)
            BOOST_TEST(many[i] == Md5::hex(buffers[i].data(), buffers[i].size()),
                       Md5Lanes::name(kernel) << " buffer " << i << " (" << buffers[i].size() << " bytes)");
        const auto counts = lanes.counts();
        BOOST_TEST(counts.wideBlocks > counts.singleBlocks, Md5Lanes::name(kernel) << ": " << counts.wideBlocks
                                                                                   << " wide, " << counts.singleBlocks << " single");
    }
}

BOOST_AUTO_TEST_CASE(concurrent_callers_each_get_their_own_digest) {
    constexpr int kThreads = 8, kEach = 12;
    std::vector<std::vector<unsigned char>> buffers;
    for (unsigned i = 0; i < kThreads * kEach; ++i) buffers.push_back(randomBytes(20'000 + 4099 * (i % 17) + i, 500 + i));
    std::vector<std::string> expected;
    for (const auto& b : buffers) expected.push_back(Md5::hex(b.data(), b.size()));
    for (auto kernel : kernelsHere()) {
        Md5Lanes lanes(kernel);
        std::vector<std::string> got(buffers.size());
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int k = 0; k < kEach; ++k) {
                    const std::size_t i = static_cast<std::size_t>(t * kEach + k);
                    got[i] = lanes.hex(buffers[i].data(), buffers[i].size());
                }
            });
        for (auto& t : threads) t.join();
        for (std::size_t i = 0; i < buffers.size(); ++i)
            BOOST_TEST(got[i] == expected[i], Md5Lanes::name(kernel) << " buffer " << i);
    }
}

BOOST_AUTO_TEST_CASE(the_shared_instance_runs_the_best_kernel) {
    BOOST_TEST((Md5Lanes::shared().kernel() == Md5Lanes::best()));
    const std::string text = "abc";
    BOOST_TEST(Md5Lanes::shared().hex(text.data(), text.size()) == "900150983cd24fb0d6963f7d28e17f72");
}

BOOST_AUTO_TEST_SUITE_END()
