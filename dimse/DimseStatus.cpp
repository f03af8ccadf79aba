#include "dimse/DimseStatus.h"

namespace bridge::dimse {

std::uint16_t failureStatus(ErrorCode code, DimseOperation operation) {
    const ErrorMapping& m = errorMapping(code);
    return operation == DimseOperation::Find ? m.findStatus : m.moveStatus;
}

std::string errorComment(const std::string& message) {
    std::string out;
    out.reserve(64);
    for (char c : message) {
        if (out.size() == 64) break;
        unsigned char u = static_cast<unsigned char>(c);
        if (c == '\\' || u < 0x20) c = ' ';  // LO excludes backslash and control characters (PS3.5 6.2)
        out.push_back(c);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::uint16_t retrieveFinalStatus(const SubOperationCounts& counts, bool cancelled) {
    if (cancelled) return kStatusCancel;
    std::size_t notDone = counts.failed + counts.remaining();
    if (notDone == 0 && counts.warning == 0) return kStatusSuccess;
    if (counts.completed == 0 && counts.warning == 0) return kStatusUnableToPerformSubOperations;
    return kStatusSubOperationsWithFailures;
}

std::string truncationComment(std::size_t cap) {
    return errorComment("more than " + std::to_string(cap) + " matches; narrow the query");
}

std::string incompleteComment(const std::string& incompleteness) {
    // "catalog harvest in progress: N of M collections[ (series level)]; results may be
    // incomplete" -> "harvest in progress: N of M collections; results incomplete" (fits LO).
    std::string text = incompleteness;
    const std::string prefix = "catalog ";
    if (text.rfind(prefix, 0) == 0) text = text.substr(prefix.size());
    const auto cut = text.find(';');
    if (cut != std::string::npos) text = text.substr(0, cut);
    const auto level = text.find(" (series level)");
    if (level != std::string::npos) text.erase(level);
    return errorComment(text + "; results incomplete");
}

}  // namespace bridge::dimse
