// Fuzzes DICOM JSON of query results (web/DicomJson.h recordToJson / recordsToJsonArray): the
// values come from TCIA, so any text may reach DCMTK's writer. Input: lines "ggggeeee=value"
// (hex tag, '=', value as in a DicomRecord; multi-values joined with '\'); a line "--" starts
// the next record. Properties: nothing but BridgeError(Internal) escapes and the output is
// strict JSON (an object per record, an array of them).
#include "fuzz/JsonCheck.h"
#include "web/DicomJson.h"

#include <cstdlib>

using namespace bridge;
using namespace bridge::web;

namespace {

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::vector<DicomRecord> recordsFrom(std::string_view text) {
    std::vector<DicomRecord> records(1);
    while (!text.empty()) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        if (line == "--") {
            records.emplace_back();
            continue;
        }
        if (line.size() < 9 || line[8] != '=') continue;
        bool hex = true;
        for (std::size_t i = 0; i < 8; ++i) hex = hex && isHex(line[i]);
        if (!hex) continue;
        unsigned long tag = std::strtoul(std::string(line.substr(0, 8)).c_str(), nullptr, 16);
        records.back().set(DcmTagKey(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xffff)),
                           std::string(line.substr(9)));
    }
    return records;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::quietDcmtk();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto records = recordsFrom(std::string_view(reinterpret_cast<const char*>(data), size));
    fuzz::expectOnlyBridgeError("recordToJson", ErrorCode::Internal, [&] {
        fuzz::requireJson(recordToJson(records.front()), Json::objectValue, "recordToJson");
        fuzz::requireJson(recordsToJsonArray(records), Json::arrayValue, "recordsToJsonArray");
    });
    return 0;
}
