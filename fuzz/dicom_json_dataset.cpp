// Fuzzes WADO-RS metadata (web/DicomJson.h datasetToJson): a whole instance dataset, from TCIA's
// ZIP, to DICOM JSON with BulkDataURIs. Input: one selector byte (bits 0-1: transfer syntax, see
// FuzzSupport.h; bits 2-7: inline limit in units of 16 bytes), then a dataset without file meta.
// Properties: nothing but BridgeError(Internal) escapes and the output is one strict JSON object.
#include "fuzz/JsonCheck.h"
#include "web/DicomJson.h"

using namespace bridge;
using namespace bridge::web;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::quietDcmtk();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    auto dataset = fuzz::datasetFromBytes(data + 1, size - 1, fuzz::transferSyntaxOf(data[0]));
    if (!dataset) return 0;
    const std::size_t inlineLimit = static_cast<std::size_t>(data[0] >> 2) * 16;
    fuzz::expectOnlyBridgeError("datasetToJson", ErrorCode::Internal, [&] {
        const std::string json = datasetToJson(
            *dataset,
            [](const DcmTagKey& tag) {
                char uri[64];
                std::snprintf(uri, sizeof uri, "http://127.0.0.1/bulkdata/%04X%04X", tag.getGroup(), tag.getElement());
                return std::string(uri);
            },
            inlineLimit);
        fuzz::requireJson(json, Json::objectValue, "datasetToJson");
    });
    return 0;
}
