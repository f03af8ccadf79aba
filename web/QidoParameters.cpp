#include "web/QidoParameters.h"

#include "bridge/common/Error.h"

#include <Poco/String.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dctag.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bridge::web {
namespace {

bool isHex8(const std::string& s) {
    return s.size() == 8 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::size_t parseCount(const std::string& name, const std::string& value) {
    std::size_t n = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc() || ptr != value.data() + value.size())
        throw BridgeError(ErrorCode::InvalidArgument, "QIDO parameter '" + name + "' must be a non-negative integer, got '" + value + "'");
    return n;
}

void addUnique(std::vector<DcmTagKey>& tags, const DcmTagKey& tag) {
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
}

std::vector<std::string> splitComma(const std::string& value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= value.size()) {
        auto comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        out.push_back(value.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

// Attributes the core can fill beyond the defaults, offered for includefield=all.
std::vector<DcmTagKey> extraAttributes(QueryLevel level) {
    switch (level) {
    case QueryLevel::Patient:
    case QueryLevel::Study:
        return {DCM_StudyDescription, DCM_PatientAge, DCM_EthnicGroup, DCM_AdmittingDiagnosesDescription,
                DCM_ClinicalTrialProtocolID, DCM_NumberOfPatientRelatedStudies};
    case QueryLevel::Series:
        return {DCM_SeriesDate, DCM_ProtocolName, DCM_BodyPartExamined, DCM_Manufacturer, DCM_ManufacturerModelName,
                DCM_SoftwareVersions, DCM_ClinicalTrialProtocolID};
    case QueryLevel::Image:
        return {DCM_ImageType, DCM_SamplesPerPixel, DCM_PhotometricInterpretation, DCM_BitsStored};
    }
    return {};
}

}  // namespace

DcmEVR dictionaryVr(const DcmTagKey& tag) {
    DcmTag t(tag);
    DcmEVR vr = t.getEVR();
    // Dictionary entries with ambiguous VRs (US or SS, OB or OW): pick the usual one.
    if (vr == EVR_xs) return EVR_US;
    if (vr == EVR_ox || vr == EVR_px) return EVR_OW;
    if (vr == EVR_lt) return EVR_OW;
    if (vr == EVR_UNKNOWN || vr == EVR_UNKNOWN2B) return EVR_UN;
    return vr;
}

std::optional<DcmTagKey> parseAttributeName(const std::string& name) {
    if (isHex8(name)) {
        unsigned long v = std::stoul(name, nullptr, 16);
        return DcmTagKey(static_cast<Uint16>(v >> 16), static_cast<Uint16>(v & 0xffff));
    }
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return std::nullopt;
    DcmTag tag;
    if (DcmTag::findTagFromName(name.c_str(), tag).bad()) return std::nullopt;
    return DcmTagKey(tag.getGroup(), tag.getElement());
}

QidoParameters parseQidoParameters(const QueryParameterList& parameters) {
    QidoParameters out;
    for (const auto& [rawName, value] : parameters) {
        if (rawName.empty()) continue;  // Weasis: "?&includefield=" (ORT-DW QidoRs.cpp)
        const std::string name = Poco::toLower(rawName);
        if (name == "limit") {
            out.limit = parseCount(rawName, value);
        } else if (name == "offset") {
            out.offset = parseCount(rawName, value);
        } else if (name == "fuzzymatching") {
            const std::string v = Poco::toLower(value);
            if (v == "true")
                out.fuzzyMatching = true;
            else if (v == "false")
                out.fuzzyMatching = false;
            else
                throw BridgeError(ErrorCode::InvalidArgument, "fuzzymatching must be true or false, got '" + value + "'");
        } else if (name == "includefield") {
            for (const auto& field : splitComma(value)) {
                if (field.empty()) continue;
                if (Poco::icompare(field, std::string("all")) == 0) {
                    out.includeAll = true;
                    continue;
                }
                auto tag = parseAttributeName(field);
                if (!tag) throw BridgeError(ErrorCode::InvalidArgument, "unknown attribute in includefield: '" + field + "'");
                addUnique(out.includeFields, *tag);
            }
        } else {
            if (rawName.find('.') != std::string::npos)
                throw BridgeError(ErrorCode::InvalidArgument, "sequence matching is not supported: '" + rawName + "'");
            auto tag = parseAttributeName(rawName);
            if (!tag) throw BridgeError(ErrorCode::InvalidArgument, "unknown QIDO parameter or attribute: '" + rawName + "'");
            for (const auto& k : out.matchKeys)
                if (k.tag == *tag) throw BridgeError(ErrorCode::InvalidArgument, "attribute given twice: '" + rawName + "'");
            QueryKey key;
            key.tag = *tag;
            key.vr = dictionaryVr(*tag);
            // PS3.18 8.3.4.1: a comma-separated list is a multi-valued match (DICOM '\').
            key.value = value;
            std::replace(key.value.begin(), key.value.end(), ',', '\\');
            out.matchKeys.push_back(std::move(key));
        }
    }
    return out;
}

std::vector<DcmTagKey> defaultReturnAttributes(QueryLevel level) {
    switch (level) {
    case QueryLevel::Patient:
    case QueryLevel::Study:
        // PS3.18 Table 6.7.1-2, plus StudyDescription which every viewer's work list shows.
        return {DCM_SpecificCharacterSet, DCM_StudyDate, DCM_StudyTime, DCM_AccessionNumber, DCM_InstanceAvailability,
                DCM_ModalitiesInStudy, DCM_ReferringPhysicianName, DCM_TimezoneOffsetFromUTC, DCM_PatientName,
                DCM_PatientID, DCM_PatientBirthDate, DCM_PatientSex, DCM_StudyInstanceUID, DCM_StudyID,
                DCM_NumberOfStudyRelatedSeries, DCM_NumberOfStudyRelatedInstances, DCM_StudyDescription};
    case QueryLevel::Series:
        // PS3.18 Table 6.7.1-2a (RequestAttributeSequence left out: the core has no sequences).
        return {DCM_SpecificCharacterSet, DCM_Modality, DCM_TimezoneOffsetFromUTC, DCM_SeriesDescription,
                DCM_StudyInstanceUID, DCM_SeriesInstanceUID, DCM_SeriesNumber, DCM_NumberOfSeriesRelatedInstances,
                DCM_PerformedProcedureStepStartDate, DCM_PerformedProcedureStepStartTime};
    case QueryLevel::Image:
        // PS3.18 Table 6.7.1-2b.
        return {DCM_SpecificCharacterSet, DCM_SOPClassUID, DCM_SOPInstanceUID, DCM_InstanceAvailability,
                DCM_TimezoneOffsetFromUTC, DCM_StudyInstanceUID, DCM_SeriesInstanceUID, DCM_InstanceNumber, DCM_Rows,
                DCM_Columns, DCM_BitsAllocated, DCM_NumberOfFrames};
    }
    return {};
}

Query buildQidoQuery(const QidoPath& path, const QidoParameters& parameters) {
    Query query;
    query.level = path.level;
    query.model = InformationModel::StudyRoot;
    query.limit = parameters.limit;
    query.offset = parameters.offset;
    query.fuzzyMatching = parameters.fuzzyMatching;

    auto addMatch = [&](const DcmTagKey& tag, const std::string& value) {
        for (auto& k : query.keys) {
            if (k.tag != tag) continue;
            if (!k.value.empty() && !value.empty() && k.value != value)
                throw BridgeError(ErrorCode::InvalidArgument, "query parameter contradicts the UID in the path");
            if (k.value.empty()) k.value = value;
            return;
        }
        query.keys.push_back(QueryKey{tag, dictionaryVr(tag), value});
    };
    auto addReturn = [&](const DcmTagKey& tag) {
        if (tag == DCM_RetrieveURL) return;  // computed by the web adapter
        for (const auto& k : query.keys)
            if (k.tag == tag) return;
        query.keys.push_back(QueryKey{tag, dictionaryVr(tag), ""});
    };

    if (!path.studyInstanceUid.empty()) addMatch(DCM_StudyInstanceUID, path.studyInstanceUid);
    if (!path.seriesInstanceUid.empty()) addMatch(DCM_SeriesInstanceUID, path.seriesInstanceUid);
    for (const auto& k : parameters.matchKeys) addMatch(k.tag, k.value);

    for (const auto& tag : defaultReturnAttributes(path.level)) addReturn(tag);
    // ORT-DW QidoRs.cpp: study attributes for series searches without a study UID, series
    // attributes for instance searches without a series UID.
    if (path.level == QueryLevel::Series && path.studyInstanceUid.empty())
        for (const auto& tag : defaultReturnAttributes(QueryLevel::Study)) addReturn(tag);
    if (path.level == QueryLevel::Image) {
        if (path.studyInstanceUid.empty())
            for (const auto& tag : defaultReturnAttributes(QueryLevel::Study)) addReturn(tag);
        if (path.seriesInstanceUid.empty())
            for (const auto& tag : defaultReturnAttributes(QueryLevel::Series)) addReturn(tag);
    }
    for (const auto& tag : parameters.includeFields) addReturn(tag);
    if (parameters.includeAll) {
        for (const auto& tag : extraAttributes(path.level)) addReturn(tag);
        if (path.level != QueryLevel::Study)
            for (const auto& tag : defaultReturnAttributes(QueryLevel::Study)) addReturn(tag);
        if (path.level == QueryLevel::Image)
            for (const auto& tag : defaultReturnAttributes(QueryLevel::Series)) addReturn(tag);
    }
    return query;
}

}  // namespace bridge::web
