#include "dimse/IdentifierTranslator.h"

#include <Poco/String.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrlo.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "bridge/common/Error.h"
#include "bridge/common/Text.h"

namespace bridge::dimse {
namespace {

bool isAscii(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

/// ISO 8859-1 to UTF-8: a fallback should the iconv converter be missing (every Latin-1 byte
/// is the code point of the same number).
std::string latin1ToUtf8(const std::string& in) {
    std::string out;
    for (unsigned char c : in) {
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

/// A working copy of the identifier with every string value in UTF-8, or nullptr when the
/// identifier already is (no SpecificCharacterSet, ISO_IR 6 or ISO_IR 192: the usual case,
/// which then costs no copy of the dataset).
std::unique_ptr<DcmDataset> utf8Copy(const DcmDataset& identifier) {
    OFString charset;
    const_cast<DcmDataset&>(identifier).findAndGetOFStringArray(DCM_SpecificCharacterSet, charset);
    std::string cs = Poco::toUpper(trimSpaces(charset.c_str()));
    if (cs.empty() || cs == "ISO_IR 6" || cs == "ISO_IR 192") return nullptr;
    auto copy = std::make_unique<DcmDataset>(identifier);
    OFCondition cond = copy->convertToUTF8();
    if (cond.good()) return copy;
    if (cs == "ISO_IR 100") {
        // PS3.3 C.12.1.1.2: Latin alphabet No. 1; convert by hand when iconv is unavailable.
        auto manual = std::make_unique<DcmDataset>(identifier);
        for (unsigned long i = 0; i < manual->card(); ++i) {
            DcmElement* e = manual->getElement(i);
            if (!e || !e->isaString() || e->getTag() == DCM_SpecificCharacterSet) continue;
            OFString v;
            if (e->getOFStringArray(v).good()) e->putString(latin1ToUtf8(v.c_str()).c_str());
        }
        manual->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
        return manual;
    }
    throw BridgeError(ErrorCode::InvalidArgument,
                      "cannot convert SpecificCharacterSet " + cs + ": " + cond.text());
}

QueryLevel requireLevel(const DcmDataset& ds, InformationModel model) {
    OFString levelText;
    if (const_cast<DcmDataset&>(ds).findAndGetOFString(DCM_QueryRetrieveLevel, levelText).bad())
        throw BridgeError(ErrorCode::InvalidArgument, "QueryRetrieveLevel (0008,0052) missing");
    auto level = parseQueryLevel(Poco::toUpper(trimSpaces(levelText.c_str())));
    if (!level)
        throw BridgeError(ErrorCode::InvalidArgument,
                          "bad QueryRetrieveLevel '" + std::string(levelText.c_str()) + "'");
    if (*level == QueryLevel::Patient && model == InformationModel::StudyRoot)
        throw BridgeError(ErrorCode::InvalidArgument, "PATIENT level is not part of Study Root");
    return *level;
}

std::string tagText(const DcmTagKey& tag) { return tag.toString().c_str(); }

}  // namespace

std::optional<InformationModel> modelForSopClass(const std::string& uid) {
    static const std::set<std::string> patientRoot{UID_FINDPatientRootQueryRetrieveInformationModel,
                                                   UID_MOVEPatientRootQueryRetrieveInformationModel,
                                                   UID_GETPatientRootQueryRetrieveInformationModel};
    static const std::set<std::string> studyRoot{UID_FINDStudyRootQueryRetrieveInformationModel,
                                                 UID_MOVEStudyRootQueryRetrieveInformationModel,
                                                 UID_GETStudyRootQueryRetrieveInformationModel};
    if (patientRoot.count(uid)) return InformationModel::PatientRoot;
    if (studyRoot.count(uid)) return InformationModel::StudyRoot;
    return std::nullopt;
}

std::vector<std::string> splitValues(const std::string& value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= value.size()) {
        std::size_t end = value.find('\\', start);
        if (end == std::string::npos) end = value.size();
        std::string part = trimSpaces(value.substr(start, end - start));
        if (!part.empty()) out.push_back(part);
        start = end + 1;
    }
    return out;
}

Query identifierToQuery(const DcmDataset& identifier, InformationModel model,
                        std::vector<std::string>* warnings) {
    std::unique_ptr<DcmDataset> converted = utf8Copy(identifier);
    // Read in place when no conversion was needed: nothing below changes a value.
    DcmDataset* ds = converted ? converted.get() : &const_cast<DcmDataset&>(identifier);
    Query query;
    query.model = model;
    query.level = requireLevel(*ds, model);
    std::set<DcmTagKey, TagLess> seen;
    for (unsigned long i = 0; i < ds->card(); ++i) {
        DcmElement* e = ds->getElement(i);
        if (!e) continue;
        DcmTagKey tag = e->getTag().getXTag();
        if (tag.getElement() == 0x0000) continue;  // group length (Orthanc NEWS: such requests exist)
        if (tag.getGroup() < 0x0008) continue;     // command / file meta groups never match
        if (tag == DCM_QueryRetrieveLevel || tag == DCM_SpecificCharacterSet || tag == DCM_RetrieveAETitle)
            continue;
        DcmEVR vr = e->getVR();
        if (vr == EVR_SQ) {
            // Sequence matching (PS3.4 C.2.2.2.6) is only for worklists here; Orthanc ignores too.
            if (warnings) warnings->push_back("sequence " + tagText(tag) + " ignored");
            continue;
        }
        if (vr == EVR_OB || vr == EVR_OW || vr == EVR_OF || vr == EVR_OD || vr == EVR_OL || vr == EVR_UN ||
            vr == EVR_ox) {
            if (warnings) warnings->push_back("binary attribute " + tagText(tag) + " ignored");
            continue;
        }
        if (!seen.insert(tag).second) continue;
        OFString value;
        if (e->getLength() > 0 && e->getOFStringArray(value).bad())
            throw BridgeError(ErrorCode::InvalidArgument, "unreadable value of " + tagText(tag));
        std::string v = value.c_str();
        // Trailing padding is not significant (PS3.5 6.2); leading spaces are for most VRs.
        while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
        if (vr == EVR_UI || vr == EVR_DA || vr == EVR_TM || vr == EVR_DT || vr == EVR_AS || vr == EVR_CS)
            v = trimSpaces(v);
        query.keys.push_back(QueryKey{tag, vr, v});
    }
    return query;
}

RetrieveRequest identifierToRetrieveRequest(const DcmDataset& identifier, InformationModel model) {
    RetrieveRequest request;
    request.level = requireLevel(identifier, model);
    auto& ds = const_cast<DcmDataset&>(identifier);
    auto values = [&](const DcmTagKey& tag) {
        OFString v;
        ds.findAndGetOFStringArray(tag, v);
        return splitValues(v.c_str());
    };
    request.patientIds = values(DCM_PatientID);
    request.studyInstanceUids = values(DCM_StudyInstanceUID);
    request.seriesInstanceUids = values(DCM_SeriesInstanceUID);
    request.sopInstanceUids = values(DCM_SOPInstanceUID);
    // PS3.4 C.4.2.2.1: the unique key of the retrieve level is required (a UID list is allowed).
    switch (request.level) {
        case QueryLevel::Patient:
            if (request.patientIds.empty())
                throw BridgeError(ErrorCode::InvalidArgument, "PATIENT retrieve needs PatientID");
            break;
        case QueryLevel::Study:
            if (request.studyInstanceUids.empty())
                throw BridgeError(ErrorCode::InvalidArgument, "STUDY retrieve needs StudyInstanceUID");
            break;
        case QueryLevel::Series:
            if (request.seriesInstanceUids.empty())
                throw BridgeError(ErrorCode::InvalidArgument, "SERIES retrieve needs SeriesInstanceUID");
            break;
        case QueryLevel::Image:
            if (request.sopInstanceUids.empty())
                throw BridgeError(ErrorCode::InvalidArgument, "IMAGE retrieve needs SOPInstanceUID");
            break;
    }
    return request;
}

namespace {

/// The tag of a response element: the dictionary's VR, except that ambiguous dictionary VRs
/// (US or SS, OB or OW...) and unknown tags take the VR the requester used (else LO).
DcmTag responseTag(const DcmTagKey& key, DcmEVR hintVr) {
    DcmTag tag(key);
    DcmEVR dictVr = tag.getEVR();
    if (dictVr == EVR_xs || dictVr == EVR_ox || dictVr == EVR_lt || dictVr == EVR_up || dictVr == EVR_UNKNOWN ||
        dictVr == EVR_UN) {
        if (hintVr != EVR_UNKNOWN && hintVr != EVR_UN)
            tag.setVR(DcmVR(hintVr));
        else
            tag.setVR(DcmVR(EVR_LO));
    }
    return tag;
}

}  // namespace

ResponseLayout responseLayout(const Query& query) {
    ResponseLayout layout;
    layout.keys.reserve(query.keys.size());
    for (const QueryKey& key : query.keys) layout.keys.push_back(responseTag(key.tag, key.vr));
    return layout;
}

std::unique_ptr<DcmDataset> recordToIdentifier(const DicomRecord& record, const Query& query,
                                               const std::string& retrieveAeTitle) {
    return recordToIdentifier(record, query, retrieveAeTitle, responseLayout(query));
}

std::unique_ptr<DcmDataset> recordToIdentifier(const DicomRecord& record, const Query& query,
                                               const std::string& retrieveAeTitle, const ResponseLayout& layout) {
    static const DcmTag levelTag = responseTag(DCM_QueryRetrieveLevel, EVR_CS);
    static const DcmTag retrieveAetTag = responseTag(DCM_RetrieveAETitle, EVR_AE);
    static const DcmTag availabilityTag = responseTag(DCM_InstanceAvailability, EVR_CS);
    static const DcmTag charsetTag = responseTag(DCM_SpecificCharacterSet, EVR_CS);
    auto ds = std::make_unique<DcmDataset>();
    bool nonAscii = false;
    auto put = [&](const DcmTag& tag, const std::string& value) {
        DcmElement* element = nullptr;
        if (DcmItem::newDicomElement(element, tag).bad() || !element) return;
        if (!value.empty() && element->putString(value.c_str()).bad()) element->putString("");
        if (ds->insert(element, true).bad()) delete element;
        if (!isAscii(value)) nonAscii = true;
    };
    put(levelTag, toString(query.level));
    const bool prepared = layout.keys.size() == query.keys.size();
    for (std::size_t i = 0; i < query.keys.size(); ++i) {
        const QueryKey& key = query.keys[i];
        put(prepared ? layout.keys[i] : responseTag(key.tag, key.vr), record.get(key.tag));
    }
    put(retrieveAetTag, retrieveAeTitle);
    const auto availability = record.find(DCM_InstanceAvailability);
    put(availabilityTag, availability ? *availability : std::string("ONLINE"));
    std::string charset = record.get(DCM_SpecificCharacterSet);
    if (nonAscii) charset = "ISO_IR 192";
    put(charsetTag, charset);
    return ds;
}

}  // namespace bridge::dimse
