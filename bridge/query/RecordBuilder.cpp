#include "bridge/query/RecordBuilder.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>
#include <set>

#include "bridge/common/Text.h"

namespace bridge {
namespace {

std::string formatNumber(double v) {
    // FD as decimal text; integers without a fraction.
    if (v == static_cast<double>(static_cast<std::int64_t>(v))) return std::to_string(static_cast<std::int64_t>(v));
    std::string s = std::to_string(v);
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s;
}

}  // namespace

DicomRecord RecordBuilder::patient(const tcia::PatientRecord& p) {
    DicomRecord r;
    r.set(DCM_PatientID, p.patientId);
    r.set(DCM_PatientName, p.patientName);
    r.set(DCM_PatientSex, p.patientSex);
    r.set(DCM_PatientBirthDate, p.patientBirthDate);
    r.set(DCM_EthnicGroup, p.ethnicGroup);
    r.set(DCM_PatientSpeciesDescription, p.speciesDescription);
    // Phantom YES/NO -> QualityControlSubject (0010,0200), CS YES/NO (swagger maps it so, API.md 10.1).
    r.set(DCM_QualityControlSubject, p.phantom);
    r.set(kCollectionTag, p.collection);
    return r;
}

DicomRecord RecordBuilder::study(const tcia::StudyRecord& s) {
    DicomRecord r;
    r.set(DCM_PatientID, s.patientId);
    r.set(DCM_PatientName, s.patientName);
    r.set(DCM_PatientBirthDate, s.patientBirthDate);
    r.set(DCM_PatientSex, s.patientSex);
    r.set(DCM_EthnicGroup, s.ethnicGroup);
    r.set(kCollectionTag, s.collection);
    r.set(DCM_StudyInstanceUID, s.studyInstanceUid);
    r.set(DCM_StudyDate, s.studyDate);
    r.set(DCM_StudyDescription, s.studyDescription);
    r.set(DCM_StudyID, s.studyId);
    r.set(DCM_PatientAge, s.patientAge);
    r.set(DCM_AdmittingDiagnosesDescription, s.admittingDiagnosesDescription);
    r.set(DCM_LongitudinalTemporalEventType, s.longitudinalTemporalEventType);
    r.set(DCM_LongitudinalTemporalOffsetFromEvent,
          s.longitudinalTemporalOffsetFromEvent ? formatNumber(*s.longitudinalTemporalOffsetFromEvent) : "");
    if (s.seriesCount) r.set(DCM_NumberOfStudyRelatedSeries, std::to_string(*s.seriesCount));
    return r;
}

DicomRecord RecordBuilder::series(const tcia::SeriesRecord& s, const tcia::StudyRecord* studyRecord) {
    DicomRecord r;
    if (studyRecord) {
        r = study(*studyRecord);
        r.erase(DCM_NumberOfStudyRelatedSeries);
    }
    r.set(DCM_PatientID, s.patientId);
    if (!s.patientSex.empty() || !r.has(DCM_PatientSex)) r.set(DCM_PatientSex, s.patientSex);
    if (!s.patientAge.empty() || !r.has(DCM_PatientAge)) r.set(DCM_PatientAge, s.patientAge);
    if (!s.admittingDiagnosisDescription.empty() || !r.has(DCM_AdmittingDiagnosesDescription))
        r.set(DCM_AdmittingDiagnosesDescription, s.admittingDiagnosisDescription);
    r.set(kCollectionTag, s.collection);
    r.set(DCM_StudyInstanceUID, s.studyInstanceUid);
    if (!s.studyDate.empty() || !r.has(DCM_StudyDate)) r.set(DCM_StudyDate, s.studyDate);
    if (!s.studyDescription.empty() || !r.has(DCM_StudyDescription)) r.set(DCM_StudyDescription, s.studyDescription);
    r.set(DCM_SeriesInstanceUID, s.seriesInstanceUid);
    r.set(DCM_Modality, s.modality);
    r.set(DCM_SeriesNumber, s.seriesNumber);
    r.set(DCM_SeriesDescription, s.seriesDescription);
    r.set(DCM_SeriesDate, s.seriesDate);
    // Free text in TCIA, sometimes padded (API.md 10.3).
    r.set(DCM_BodyPartExamined, trimSpaces(s.bodyPartExamined));
    r.set(DCM_ProtocolName, s.protocolName);
    r.set(DCM_Manufacturer, s.manufacturer);
    r.set(DCM_ManufacturerModelName, s.manufacturerModelName);
    r.set(DCM_SoftwareVersions, s.softwareVersions);
    if (s.imageCount) r.set(DCM_NumberOfSeriesRelatedInstances, std::to_string(*s.imageCount));
    return r;
}

DicomRecord RecordBuilder::instance(const std::string& sopInstanceUid, const DicomRecord& seriesRecord,
                                    const DicomRecord* cached) {
    DicomRecord r = seriesRecord;
    r.set(DCM_SOPInstanceUID, sopInstanceUid);
    if (cached)
        for (const auto& [tag, value] : cached->values()) r.set(tag, value);
    return r;
}

void RecordBuilder::addStudyAggregates(DicomRecord& study, const std::vector<const tcia::SeriesRecord*>& seriesOfStudy) {
    std::set<std::string> modalities;
    std::int64_t instances = 0;
    for (const auto* s : seriesOfStudy) {
        if (!s->modality.empty()) modalities.insert(s->modality);
        instances += s->imageCount.value_or(0);
    }
    std::string joined;
    for (const auto& m : modalities) joined += (joined.empty() ? "" : "\\") + m;
    study.set(DCM_ModalitiesInStudy, joined);
    study.set(DCM_NumberOfStudyRelatedSeries, std::to_string(seriesOfStudy.size()));
    study.set(DCM_NumberOfStudyRelatedInstances, std::to_string(instances));
}

void RecordBuilder::addPatientAggregates(DicomRecord& patient, std::size_t studies, std::size_t series,
                                         std::int64_t instances) {
    patient.set(DCM_NumberOfPatientRelatedStudies, std::to_string(studies));
    patient.set(DCM_NumberOfPatientRelatedSeries, std::to_string(series));
    patient.set(DCM_NumberOfPatientRelatedInstances, std::to_string(instances));
}

DicomRecord RecordBuilder::project(const DicomRecord& full, const Query& query) {
    DicomRecord out;
    bool ascii = true;
    for (const auto& key : query.keys) {
        std::string value;
        if (key.vr != EVR_SQ)
            if (auto v = full.find(key.tag)) value = *v;
        if (!isAscii(value)) ascii = false;
        out.set(key.tag, std::move(value));
    }
    out.set(DCM_QueryRetrieveLevel, toString(query.level));
    out.set(DCM_InstanceAvailability, "ONLINE");
    if (!ascii)
        out.set(DCM_SpecificCharacterSet, "ISO_IR 192");  // UTF-8 (PS3.3 C.12.1.1.2)
    else if (query.key(DCM_SpecificCharacterSet))
        out.set(DCM_SpecificCharacterSet, "");
    else
        out.erase(DCM_SpecificCharacterSet);
    return out;
}

CollectionLicense RecordBuilder::license(const tcia::SeriesRecord& s) {
    return {s.collection, s.licenseName, s.licenseUri, s.dataDescriptionUri};
}

bool RecordBuilder::isAscii(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace bridge
