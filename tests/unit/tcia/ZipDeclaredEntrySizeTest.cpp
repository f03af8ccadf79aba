// Regression (found by fuzz/zip_stream, scripts/fuzz.sh): a local file header that DECLARES a
// 1 GiB entry made ZipStreamReader reserve 1 GiB before a single byte of the entry arrived, so a
// 100-byte response could demand a gigabyte per entry. The declared size is the peer's word: it
// may size a first allocation, bounded, never the whole. Measured, not assumed: the bytes held
// by the allocator are sampled while the reader pulls the entry's data.
#include <malloc.h>
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <streambuf>
#include <string>

#include "bridge/common/Error.h"
#include "bridge/tcia/ZipStreamReader.h"

#if defined(BRIDGE_SANITIZED)
// The sanitizer runtimes (gcc's and clang's ASan/TSan) replace malloc and count for themselves;
// gcc ships no <sanitizer/allocator_interface.h>, so declare the one function used.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

using namespace bridge;
using namespace bridge::tcia;

namespace {

// Bytes currently allocated on the heap: the sanitizer allocator's count when it replaces malloc,
// glibc's otherwise (in-use arena bytes + mmapped chunks, where a large reserve lands).
std::size_t heapBytesInUse() {
#if defined(BRIDGE_SANITIZED)
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

// Hands out `step` bytes per underflow and records the heap peak each time the reader asks for more.
class TrickleBuffer : public std::streambuf {
public:
    TrickleBuffer(std::string data, std::size_t step) : data_(std::move(data)), step_(step) {}
    std::size_t peak = 0;

protected:
    int_type underflow() override {
        peak = std::max(peak, heapBytesInUse());
        if (pos_ >= data_.size()) return traits_type::eof();
        const std::size_t n = std::min(step_, data_.size() - pos_);
        char* p = data_.data() + pos_;
        setg(p, p, p + n);
        pos_ += n;
        return traits_type::to_int_type(*p);
    }

private:
    std::string data_;
    std::size_t step_;
    std::size_t pos_ = 0;
};

void put16(std::string& s, unsigned v) { s.append({char(v & 0xff), char((v >> 8) & 0xff)}); }
void put32(std::string& s, unsigned long v) {
    for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}

std::string rawDeflate(const std::string& in) {
    z_stream z{};
    BOOST_REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(compressBound(in.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    BOOST_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

// One DEFLATE entry whose local header gives its sizes (flag bit 3 clear) and claims
// `declaredSize` uncompressed bytes; the data is 64 KiB of a pattern. No central directory.
std::string zipDeclaring(unsigned long declaredSize) {
    std::string plain(64 * 1024, '\0');
    for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = char(i * 31 % 251);
    const std::string data = rawDeflate(plain);
    const std::string name = "1-1.dcm";
    std::string zip;
    put32(zip, 0x04034b50);
    put16(zip, 20);  // version needed
    put16(zip, 0);   // flags: sizes are in this header
    put16(zip, 8);   // DEFLATE
    put16(zip, 0);
    put16(zip, 0x21);
    put32(zip, crc32(0, reinterpret_cast<const Bytef*>(plain.data()), static_cast<uInt>(plain.size())));
    put32(zip, data.size());
    put32(zip, declaredSize);
    put16(zip, static_cast<unsigned>(name.size()));
    put16(zip, 0);
    zip += name;
    zip += data;
    return zip;
}

}  // namespace

BOOST_AUTO_TEST_CASE(zip_entry_declaring_one_gibibyte_is_not_reserved_up_front) {
    TrickleBuffer buffer(zipDeclaring(1UL << 30), 512);
    std::istream in(&buffer);
    const std::size_t before = heapBytesInUse();
    ZipStreamReader reader(in, nullptr);
    try {
        reader.readAll([](ZipStreamReader::Entry&&) {});
    } catch (const BridgeError& e) {
        // A lying header or the missing central directory: refused either way.
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(ErrorCode::UpstreamBadResponse));
    }
    BOOST_TEST_MESSAGE("heap before " << before << " B, peak while reading " << buffer.peak << " B");
    BOOST_TEST(buffer.peak > 0u);  // the reader did pull through the buffer
    BOOST_TEST(buffer.peak < before + (64u << 20), "reader held " << (buffer.peak - before) << " B for a 64 KiB entry");
}
