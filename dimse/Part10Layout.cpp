#include "dimse/Part10Layout.h"

#include <cstring>

namespace bridge::dimse {
namespace {

std::uint16_t u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t u32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

/// PS3.5 7.1.2: VRs with a 2-byte reserved field and a 4-byte length in Explicit VR.
bool hasLongLength(const std::uint8_t* vr) {
    static constexpr const char* kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                            "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char* v : kLong)
        if (vr[0] == v[0] && vr[1] == v[1]) return true;
    return false;
}

}  // namespace

std::optional<Part10Layout> locatePart10Dataset(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t kPreamble = 128;
    if (!data || size < kPreamble + 4 || std::memcmp(data + kPreamble, "DICM", 4) != 0) return std::nullopt;
    Part10Layout layout;
    std::size_t pos = kPreamble + 4;
    bool haveSyntax = false;
    // Walk the group 0002 elements one by one (rather than trusting (0002,0000) alone: some
    // writers put a wrong group length, and DCMTK itself reads the elements the same way).
    while (pos + 8 <= size && u16(data + pos) == 0x0002) {
        const std::uint16_t element = u16(data + pos + 2);
        const std::uint8_t* vr = data + pos + 4;
        if (vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' || vr[1] > 'Z') return std::nullopt;
        std::size_t header = 8;
        std::uint64_t length = u16(data + pos + 6);
        if (hasLongLength(vr)) {
            if (pos + 12 > size) return std::nullopt;
            header = 12;
            length = u32(data + pos + 8);
            if (length == 0xFFFFFFFFu) return std::nullopt;  // undefined length has no place here
        }
        if (pos + header + length > size) return std::nullopt;
        if (element == 0x0010) {
            std::string uid(reinterpret_cast<const char*>(data + pos + header), static_cast<std::size_t>(length));
            while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.pop_back();
            layout.transferSyntaxUid = std::move(uid);
            haveSyntax = !layout.transferSyntaxUid.empty();
        }
        pos += header + static_cast<std::size_t>(length);
    }
    if (!haveSyntax || pos >= size) return std::nullopt;
    layout.datasetOffset = pos;
    return layout;
}

}  // namespace bridge::dimse
