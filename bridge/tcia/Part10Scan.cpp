#include "bridge/tcia/Part10Scan.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace bridge::tcia {

namespace {

constexpr std::uint32_t kUndefinedLength = 0xFFFFFFFFu;
constexpr std::uint32_t kItem = 0xFFFEE000u;
constexpr std::uint32_t kItemEnd = 0xFFFEE00Du;
constexpr std::uint32_t kSequenceEnd = 0xFFFEE0DDu;
constexpr std::uint32_t kPixelData = 0x7FE00010u;
constexpr int kMaxDepth = 16;  ///< nested undefined-length sequences (deeper: not handled)

std::uint16_t u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t u32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

bool isVr(const char* vr, const char* name) { return vr[0] == name[0] && vr[1] == name[1]; }

/// PS3.5 7.1.2: the VRs whose explicit length field is 4 bytes (after two reserved bytes).
bool hasLongLength(const char* vr) {
    static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char* name : kLong)
        if (isVr(vr, name)) return true;
    return false;
}

bool isKnownVr(const char* vr) {
    static const char* const kAll[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO",
                                       "LT", "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ",
                                       "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"};
    for (const char* name : kAll)
        if (isVr(vr, name)) return true;
    return false;
}

struct Cursor {
    const std::uint8_t* p;
    const std::uint8_t* end;
    std::size_t left() const { return static_cast<std::size_t>(end - p); }
};

struct Header {
    std::uint32_t tag = 0;
    char vr[2] = {0, 0};  ///< {0, 0} when the syntax carries none (implicit VR, item tags)
    std::uint32_t length = 0;
};

/// One element header; false when truncated or when an explicit VR is not a VR.
bool readHeader(Cursor& c, bool explicitVr, Header& h) {
    if (c.left() < 8) return false;
    h.tag = (static_cast<std::uint32_t>(u16(c.p)) << 16) | u16(c.p + 2);
    h.vr[0] = h.vr[1] = 0;
    if (!explicitVr || (h.tag >> 16) == 0xFFFE) {  // item tags carry no VR in any syntax
        h.length = u32(c.p + 4);
        c.p += 8;
        return true;
    }
    h.vr[0] = static_cast<char>(c.p[4]);
    h.vr[1] = static_cast<char>(c.p[5]);
    if (!isKnownVr(h.vr)) return false;
    if (hasLongLength(h.vr)) {
        if (c.left() < 12) return false;
        h.length = u32(c.p + 8);
        c.p += 12;
    } else {
        h.length = u16(c.p + 6);
        c.p += 8;
    }
    return true;
}

bool skipValue(Cursor& c, bool explicitVr, const Header& h, int depth);

bool startsWithItem(const Cursor& c) { return c.left() >= 8 && u16(c.p) == 0xFFFE && u16(c.p + 2) == 0xE000; }

/// Elements up to the end of `c` (exactly), or up to an item delimiter when `untilItemEnd`.
bool walkElements(Cursor& c, bool explicitVr, int depth, bool untilItemEnd) {
    while (c.left() > 0) {
        Header e;
        if (!readHeader(c, explicitVr, e)) return false;
        if (e.tag == kItemEnd) return untilItemEnd && e.length == 0;
        if ((e.tag >> 16) == 0xFFFE) return false;
        if (!skipValue(c, explicitVr, e, depth + 1)) return false;
    }
    return !untilItemEnd;
}

/// The items of a sequence: up to its delimiter (undefined length), or exactly to the end of
/// `c` (defined length: DCMTK reads an item that runs past its sequence's end whole, so such a
/// file is declined rather than read differently). Each item's elements are walked too.
bool skipItems(Cursor& c, bool explicitVr, int depth, bool definedLength) {
    if (depth > kMaxDepth) return false;
    for (;;) {
        if (definedLength && c.left() == 0) return true;
        Header item;
        if (!readHeader(c, explicitVr, item)) return false;
        if (!definedLength && item.tag == kSequenceEnd) return item.length == 0;
        if (item.tag != kItem) return false;
        if (item.length == kUndefinedLength) {
            if (!walkElements(c, explicitVr, depth, true)) return false;
            continue;
        }
        if (c.left() < item.length) return false;
        Cursor inner{c.p, c.p + item.length};
        if (!walkElements(inner, explicitVr, depth, false)) return false;
        c.p += item.length;
    }
}

/// Skips one value. Undefined length: a sequence's items (an explicit VR other than SQ or UN is
/// an error for DCMTK; PS3.5 6.2.2: an undefined-length UN holds Implicit VR items). Defined
/// length: the bytes, walked as items when the value is a sequence (explicit SQ; in Implicit VR
/// any value that starts with an item tag, the dictionary's SQs among them).
bool skipValue(Cursor& c, bool explicitVr, const Header& h, int depth) {
    if (h.length == kUndefinedLength) {
        if (explicitVr && !isVr(h.vr, "SQ") && !isVr(h.vr, "UN")) return false;
        return skipItems(c, explicitVr && !isVr(h.vr, "UN"), depth, false);
    }
    if (c.left() < h.length) return false;
    Cursor value{c.p, c.p + h.length};
    const bool sequence = explicitVr ? isVr(h.vr, "SQ") : startsWithItem(value);
    if (sequence && !skipItems(value, explicitVr, depth + 1, true)) return false;
    c.p += h.length;
    return true;
}

/// DCMTK's normalizeString() on one component without its multi-part loop: `leading` padding
/// removed, trailing padding removed -- except that a component made only of padding keeps its
/// first character when that is not a space (DCMTK's loop stops at index 0 and erases from there
/// only for ' ').
std::string normalizePart(std::string part, bool leading, char padding) {
    if (leading) {
        std::size_t n = 0;
        while (n < part.size() && part[n] == padding) ++n;
        part.erase(0, n);
    }
    if (part.empty()) return part;
    std::size_t offset = part.size() - 1;
    while (offset > 0 && part[offset] == padding) --offset;
    if (offset != part.size() - 1) {
        if (part[offset] == ' ')
            part.erase(offset);
        else
            part.erase(offset + 1);
    }
    return part;
}

/// The value as DCMTK's findAndGetOFStringArray() gives it for this VR, cut at its first NUL as
/// the bridge stores it (`c_str()`); the element read with automatic input correction, DCMTK's
/// default: a UI loses every white-space character, other strings their trailing padding. nullopt
/// for an odd-length non-UI string (DCMTK pads it with a NUL first, which changes what is trimmed:
/// DCMTK decides).
std::optional<std::string> stringValue(const std::uint8_t* value, std::uint32_t length, const char* vr) {
    if (isVr(vr, "US")) {
        std::string out;
        for (std::uint32_t i = 0; i + 1 < length; i += 2) {
            if (i > 0) out += '\\';
            out += std::to_string(u16(value + i));
        }
        return out;
    }
    const bool ui = isVr(vr, "UI");
    if (!ui && length % 2 != 0) return std::nullopt;
    std::string text(reinterpret_cast<const char*>(value), length);
    if (ui)
        text.erase(std::remove_if(text.begin(), text.end(), [](char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; }),
                   text.end());
    const char padding = ui ? '\0' : ' ';
    const bool leading = !(ui || isVr(vr, "DA") || isVr(vr, "TM"));
    std::size_t n = text.size();
    while (n > 0 && text[n - 1] == padding) --n;
    if (n == 0) return std::string();
    std::string out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t found = text.find('\\', start);
        const std::size_t stop = found == std::string::npos || found >= n ? n : found;
        out += normalizePart(text.substr(start, stop - start), leading, padding);
        if (stop == n) break;
        out += '\\';
        start = stop + 1;
    }
    if (const auto nul = out.find('\0'); nul != std::string::npos) out.erase(nul);
    return out;
}

/// The transfer syntaxes whose dataset this walk reads: implicit (true) or explicit (false) VR
/// Little Endian. nullopt for Big Endian, Deflate and anything unknown.
std::optional<bool> implicitVrOf(const std::string& ts) {
    if (ts == "1.2.840.10008.1.2") return true;
    if (ts == "1.2.840.10008.1.2.1" || ts == "1.2.840.10008.1.2.5") return false;  // Explicit LE, RLE
    if (ts == "1.2.840.10008.1.2.4.95") return std::nullopt;  // JPIP Referenced Deflate: compressed
    if (ts.rfind("1.2.840.10008.1.2.4.", 0) == 0) return false;  // JPEG family, JPEG-LS, 2000, MPEG, HTJ2K...
    return std::nullopt;
}

}  // namespace

bool part10ReadsVr(const std::string& vr) {
    return vr == "UI" || vr == "IS" || vr == "DA" || vr == "TM" || vr == "CS" || vr == "US";
}

std::optional<Part10Header> scanPart10(const std::uint8_t* data, std::size_t size,
                                       const std::vector<Part10Wanted>& wanted, bool metaOnly) {
    if (!data || size < 132 || std::memcmp(data + 128, "DICM", 4) != 0) return std::nullopt;
    Part10Header out;
    Cursor c{data + 132, data + size};
    // PS3.10 7.1: the meta group, always Explicit VR Little Endian. With (0002,0000), DCMTK reads
    // exactly that many bytes as the meta group: a group that does not end there is declined.
    std::optional<std::size_t> metaLeft;  // bytes of the group after (0002,0000), when it has one
    const std::uint8_t* metaStart = nullptr;
    while (c.left() >= 8 && u16(c.p) == 0x0002) {
        Header h;
        if (!readHeader(c, true, h) || h.length == kUndefinedLength || c.left() < h.length) return std::nullopt;
        if (h.tag == 0x00020000u) {
            if (metaLeft || !isVr(h.vr, "UL") || h.length != 4 || u32(c.p) > c.left() - 4) return std::nullopt;
            metaLeft = u32(c.p);
            metaStart = c.p + 4;
        }
        std::string* target = h.tag == 0x00020010u   ? &out.transferSyntaxUid
                              : h.tag == 0x00020002u ? &out.mediaSopClassUid
                              : h.tag == 0x00020003u ? &out.mediaSopInstanceUid
                                                     : nullptr;
        if (target) {
            if (!isVr(h.vr, "UI")) return std::nullopt;
            *target = *stringValue(c.p, h.length, "UI");  // UI: never nullopt
            if (const auto cut = target->find('\\'); cut != std::string::npos) target->erase(cut);  // first value
        }
        c.p += h.length;
    }
    if (metaLeft && static_cast<std::size_t>(c.p - metaStart) != *metaLeft) return std::nullopt;
    if (metaOnly) return out;
    const auto implicitVr = implicitVrOf(out.transferSyntaxUid);
    if (!implicitVr) return std::nullopt;
    const bool explicitVr = !*implicitVr;
    std::size_t next = 0;  // wanted[next] is the next tag that may still come
    std::optional<std::uint32_t> previous;
    while (c.left() > 0) {
        Header h;
        if (!readHeader(c, explicitVr, h)) return std::nullopt;
        if ((h.tag >> 16) == 0xFFFE) return std::nullopt;  // an item or delimiter outside a sequence
        // DCMTK sorts what it reads and keeps the first of two equal tags: a file out of order (or
        // with a tag twice) is declined rather than read differently.
        if (previous && h.tag <= *previous) return std::nullopt;
        previous = h.tag;
        // Up to Pixel Data, not only to the last wanted tag: a lower tag after a higher one
        // (a damaged or unordered file) must be seen to be declined.
        if (h.tag == kPixelData) break;
        while (next < wanted.size() && wanted[next].tag < h.tag) ++next;
        if (next < wanted.size() && wanted[next].tag == h.tag) {
            const Part10Wanted& w = wanted[next];
            if (h.length == kUndefinedLength || c.left() < h.length) return std::nullopt;
            if (explicitVr && !isVr(h.vr, w.vr)) return std::nullopt;  // DCMTK reads it by the file's VR
            if (isVr(w.vr, "US") && h.length % 2 != 0) return std::nullopt;
            auto value = stringValue(c.p, h.length, w.vr);
            if (!value) return std::nullopt;
            out.values.emplace_back(h.tag, std::move(*value));
            c.p += h.length;
            continue;
        }
        if (!skipValue(c, explicitVr, h, 0)) return std::nullopt;
    }
    return out;
}

}  // namespace bridge::tcia
