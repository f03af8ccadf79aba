#pragma once
// Strict JSON validation for the DICOM JSON fuzz targets (jsoncpp in strict mode).
#include <json/json.h>

#include <memory>
#include <regex>
#include <string>

#include "fuzz/FuzzSupport.h"

namespace bridge::fuzz {

/// Aborts (a finding) unless `text` is one strict JSON value of type `type`.
inline void requireJson(const std::string& text, Json::ValueType type, const char* what) {
    Json::CharReaderBuilder builder;
    Json::CharReaderBuilder::strictMode(&builder.settings_);
    builder.settings_["rejectDupKeys"] = false;  // DCMTK never writes duplicates; not what we test
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value value;
    std::string errors;
    if (!reader->parse(text.data(), text.data() + text.size(), &value, &errors)) {
        // jsoncpp also refuses numbers outside double's range ("1e999"), which RFC 8259's grammar
        // allows (JSON.parse gives Infinity); DCMTK writes a DS as it stands. Grammar is what counts.
        static const std::regex outOfRange(R"('(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)' is not a number)");
        std::smatch m;
        if (std::regex_search(errors, m, outOfRange)) return;
        finding(std::string(what) + " wrote invalid JSON (" + errors + "): " + text.substr(0, 400));
    }
    if (value.type() != type) finding(std::string(what) + " wrote JSON of the wrong type: " + text.substr(0, 400));
}

}  // namespace bridge::fuzz
