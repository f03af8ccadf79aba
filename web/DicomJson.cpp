#include "web/DicomJson.h"

#include "bridge/common/Error.h"
#include "web/QidoParameters.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcjson.h>
#include <dcmtk/dcmdata/dcvrpobw.h>

#include <Poco/Logger.h>

#include <cctype>
#include <map>
#include <set>
#include <sstream>

namespace bridge::web {
namespace {

class BulkDataFormat : public DcmJsonFormatCompact {
public:
    explicit BulkDataFormat(std::map<DcmTagKey, std::string> uris) : DcmJsonFormatCompact(OFFalse), uris_(std::move(uris)) {}
    OFBool asBulkDataURI(const DcmTagKey& tag, OFString& uri) override {
        auto it = uris_.find(tag);
        if (it == uris_.end()) return OFFalse;
        uri = it->second.c_str();
        return OFTrue;
    }

private:
    std::map<DcmTagKey, std::string> uris_;
};

bool isBinaryVr(DcmEVR vr) {
    switch (vr) {
    case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV: case EVR_UN:
    case EVR_ox: case EVR_px: case EVR_pixelSQ:
        return true;
    default:
        return false;
    }
}

void putValue(DcmDataset& ds, const DcmTagKey& key, const std::string& value) {
    DcmTag tag(key);
    DcmEVR vr = dictionaryVr(key);
    if (vr == EVR_UN) vr = EVR_LO;  // unknown private/retired tags from TCIA: text
    if (vr == EVR_SQ) return;       // the core hands no sequences; nothing sensible to put
    tag.setVR(DcmVR(vr));
    OFCondition cond = value.empty() ? ds.insertEmptyElement(tag, OFTrue) : ds.putAndInsertString(tag, value.c_str(), OFTrue);
    if (cond.bad()) {
        // A value the VR cannot hold (e.g. text in an US): keep the attribute, empty.
        ds.insertEmptyElement(tag, OFTrue);
    }
}

// JSON has no NaN or Infinity (RFC 8259 6), and PS3.18 F.2.3 FL/FD values are JSON numbers. DCMTK
// 3.6.7 either refuses the whole dataset (EC_CannotWriteJsonNumber: the series metadata was a 500)
// or, with its JSON extension enabled (jsonFormat below), writes a bare `nan` / `inf` / `-inf`,
// which OHIF's JSON.parse rejects (fuzz/dicom_json_record). We enable the extension and turn each
// such token into null, the DICOM JSON form of an empty value in a Value array (PS3.18 F.2.5), so
// every other value keeps its position. Strings are skipped. `replaced` counts the tokens.
std::string nullNonFiniteNumbers(std::string json, std::size_t& replaced) {
    std::string out;
    out.reserve(json.size());
    bool inString = false;
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (inString) {
            out += c;
            if (c == '\\' && i + 1 < json.size()) out += json[++i];
            else if (c == '"') inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
            out += c;
            continue;
        }
        // Only a token where a value starts ("1e5" holds a letter too).
        const auto last = out.find_last_not_of(" \t\r\n");
        const bool valueStart = last != std::string::npos && (out[last] == '[' || out[last] == ',' || out[last] == ':');
        if (!valueStart) {
            out += c;
            continue;
        }
        const std::size_t start = i;
        std::size_t j = (c == '-' || c == '+') ? i + 1 : i;
        std::size_t k = j;
        while (k < json.size() && std::isalpha(static_cast<unsigned char>(json[k]))) ++k;
        if (k > j) {
            const std::string word = json.substr(j, k - j);
            if (j == start && (word == "true" || word == "false" || word == "null")) out += word;
            else {
                out += "null";
                ++replaced;
            }
            i = k - 1;
            continue;
        }
        out += c;
    }
    return out;
}

// Writes the members of `ds` with `format` (its JSON extension on, see above) inside braces.
std::string writeJsonObject(DcmItem& ds, DcmJsonFormat& format, std::size_t& replaced) {
    format.setJsonExtensionEnabled(OFTrue);
    // DcmDataset::writeJson (3.6.7) writes the members only; the braces are ours.
    std::ostringstream out;
    out << '{';
    OFCondition cond = ds.writeJson(out, format);
    if (cond.bad()) throw BridgeError(ErrorCode::Internal, std::string("DICOM JSON encoding failed: ") + cond.text());
    out << '}';
    return nullNonFiniteNumbers(out.str(), replaced);
}

}  // namespace

std::unique_ptr<DcmDataset> recordToDataset(const DicomRecord& record) {
    auto ds = std::make_unique<DcmDataset>();
    for (const auto& [tag, value] : record.values()) putValue(*ds, tag, value);
    return ds;
}

std::string recordToJson(const DicomRecord& record) {
    auto ds = recordToDataset(record);
    DcmJsonFormatCompact format(OFFalse);
    std::size_t replaced = 0;
    return writeJsonObject(*ds, format, replaced);
}

std::string recordsToJsonArray(const std::vector<DicomRecord>& records) {
    std::string out = "[";
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (i) out += ',';
        out += recordToJson(records[i]);
    }
    out += ']';
    return out;
}

std::string datasetToJson(DcmDataset& dataset, const BulkDataUriFunction& bulkDataUri, std::size_t inlineLimit) {
    // Text to UTF-8 (JSON must be UTF-8; PS3.18 F.2). Without a declared charset there is nothing to do.
    OFString charset;
    if (dataset.findAndGetOFStringArray(DCM_SpecificCharacterSet, charset).good() && !charset.empty() &&
        charset != "ISO_IR 192") {
        if (dataset.convertToUTF8().bad()) {
            // Leave as is; DCMTK escapes control characters, other bytes pass through.
        }
    }
    std::map<DcmTagKey, std::string> uris;
    for (unsigned long i = 0; i < dataset.card(); ++i) {
        DcmElement* el = dataset.getElement(i);
        if (el == nullptr) continue;
        const DcmTagKey key = el->getTag();
        const bool pixel = key == DCM_PixelData || key == DCM_FloatPixelData || key == DCM_DoubleFloatPixelData;
        if (pixel || (isBinaryVr(el->getTag().getEVR()) && el->getLength() > inlineLimit)) {
            std::string uri = bulkDataUri(key);
            if (!uri.empty()) uris[key] = uri;
        }
    }
    BulkDataFormat format(std::move(uris));
    std::size_t replaced = 0;
    std::string json = writeJsonObject(dataset, format, replaced);
    if (replaced > 0) {
        OFString sop;
        dataset.findAndGetOFString(DCM_SOPInstanceUID, sop);
        Poco::Logger::get("bridge.web")
            .warning("instance %s: %z NaN/infinite FL/FD value(s) sent as null in DICOM JSON", std::string(sop.c_str()), replaced);
    }
    return json;
}

}  // namespace bridge::web
