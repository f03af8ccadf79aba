#include "bridge/query/Query.h"

#include "bridge/common/Error.h"

#include <algorithm>
#include <cctype>

namespace bridge {
namespace {

std::string trimmedUpper(const std::string& text) {
    std::size_t b = 0, e = text.size();
    while (b < e && (std::isspace(static_cast<unsigned char>(text[b])) || text[b] == '\0')) ++b;
    while (e > b && (std::isspace(static_cast<unsigned char>(text[e - 1])) || text[e - 1] == '\0')) --e;
    std::string out = text.substr(b, e - b);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// Collection names are ASCII in TCIA (e.g. "LIDC-IDRI", "RIDER Lung CT"); TCIA compares them
// case-insensitively (API.md 2.4), so the scope does too.
bool sameCollection(const std::string& a, const std::string& b) {
    return trimmedUpper(a) == trimmedUpper(b);
}

}  // namespace

const char* toString(QueryLevel level) {
    switch (level) {
        case QueryLevel::Patient: return "PATIENT";
        case QueryLevel::Study: return "STUDY";
        case QueryLevel::Series: return "SERIES";
        case QueryLevel::Image: return "IMAGE";
    }
    return "STUDY";
}

std::optional<QueryLevel> parseQueryLevel(const std::string& text) {
    // QueryRetrieveLevel is CS: upper case, padded with a trailing space to even length
    // (PS3.5 6.2). Be lenient about case and padding.
    const std::string v = trimmedUpper(text);
    if (v == "PATIENT") return QueryLevel::Patient;
    if (v == "STUDY") return QueryLevel::Study;
    if (v == "SERIES") return QueryLevel::Series;
    if (v == "IMAGE" || v == "INSTANCE") return QueryLevel::Image;
    return std::nullopt;
}

bool CollectionScope::allows(const std::string& collection) const {
    if (trimmedUpper(collection).empty()) return unrestricted();
    for (const auto& d : denied)
        if (sameCollection(d, collection)) return false;
    if (visible && std::none_of(visible->begin(), visible->end(),
                                [&](const std::string& v) { return sameCollection(v, collection); }))
        return false;
    if (!only) return true;
    return std::any_of(only->begin(), only->end(), [&](const std::string& o) { return sameCollection(o, collection); });
}

void checkFanOut(const std::string& keyword, std::size_t count) {
    if (count <= kMaxFanOutValues) return;
    throw BridgeError(ErrorCode::InvalidArgument, "too many values in " + keyword + ": " + std::to_string(count) + " (at most " +
                                                      std::to_string(kMaxFanOutValues) + " per request); split the request");
}

const QueryKey* Query::key(const DcmTagKey& tag) const {
    for (const auto& k : keys)
        if (k.tag == tag) return &k;
    return nullptr;
}

std::string Query::value(const DcmTagKey& tag) const {
    const QueryKey* k = key(tag);
    return k ? k->value : std::string();
}

}  // namespace bridge
