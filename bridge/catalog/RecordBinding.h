#pragma once
// How the TCIA model records map to catalog table rows: the column lists (in one order shared
// by INSERT and SELECT) and Poco::Data TypeHandler specialisations so that `use(record)`,
// `use(std::vector<Record>)` and `into(std::vector<Record>)` work directly.
//
// Internal to bridge/catalog. Optional model fields are SQL NULL when absent. Binding takes
// references into the record (never temporaries): the PostgreSQL binder keeps pointers until
// the statement executes.

#include "bridge/tcia/Model.h"

#include <Poco/Data/AbstractBinder.h>
#include <Poco/Data/AbstractExtractor.h>
#include <Poco/Data/AbstractPreparator.h>
#include <Poco/Data/TypeHandler.h>

#include <cstddef>
#include <optional>
#include <string>

namespace bridge::catalog {

inline constexpr const char* kPatientColumns =
    "patient_id, patient_name, patient_birth_date, patient_sex, ethnic_group, collection, phantom, species_code, "
    "species_description, authorized";
inline constexpr std::size_t kPatientColumnCount = 10;

inline constexpr const char* kStudyColumns =
    "study_uid, study_date, study_description, admitting_diagnoses, study_id, patient_age, patient_id, "
    "patient_name, patient_birth_date, patient_sex, ethnic_group, collection, series_count, "
    "longitudinal_event_type, longitudinal_offset, authorized";
inline constexpr std::size_t kStudyColumnCount = 16;

inline constexpr const char* kSeriesColumns =
    "series_uid, study_uid, modality, protocol_name, series_date, series_description, body_part, series_number, "
    "annotations_flag, collection, site, patient_id, patient_sex, patient_age, admitting_diagnosis, manufacturer, "
    "manufacturer_model, software_versions, image_count, max_submission_timestamp, license_name, license_uri, "
    "data_description_uri, file_size, released_status, date_released, study_description, study_date, "
    "third_party_analysis, authorized";
inline constexpr std::size_t kSeriesColumnCount = 30;

/// Visits the fields of a record in column order. R may be const or not.
template <class R, class F>
void visitPatient(R& r, F&& f) {
    f(r.patientId); f(r.patientName); f(r.patientBirthDate); f(r.patientSex); f(r.ethnicGroup);
    f(r.collection); f(r.phantom); f(r.speciesCode); f(r.speciesDescription); f(r.authorized);
}

template <class R, class F>
void visitStudy(R& r, F&& f) {
    f(r.studyInstanceUid); f(r.studyDate); f(r.studyDescription); f(r.admittingDiagnosesDescription);
    f(r.studyId); f(r.patientAge); f(r.patientId); f(r.patientName); f(r.patientBirthDate); f(r.patientSex);
    f(r.ethnicGroup); f(r.collection); f(r.seriesCount); f(r.longitudinalTemporalEventType);
    f(r.longitudinalTemporalOffsetFromEvent); f(r.authorized);
}

template <class R, class F>
void visitSeries(R& r, F&& f) {
    f(r.seriesInstanceUid); f(r.studyInstanceUid); f(r.modality); f(r.protocolName); f(r.seriesDate);
    f(r.seriesDescription); f(r.bodyPartExamined); f(r.seriesNumber); f(r.annotationsFlag); f(r.collection);
    f(r.site); f(r.patientId); f(r.patientSex); f(r.patientAge); f(r.admittingDiagnosisDescription);
    f(r.manufacturer); f(r.manufacturerModelName); f(r.softwareVersions); f(r.imageCount);
    f(r.maxSubmissionTimestamp); f(r.licenseName); f(r.licenseUri); f(r.dataDescriptionUri); f(r.fileSize);
    f(r.releasedStatus); f(r.dateReleased); f(r.studyDescription); f(r.studyDate); f(r.thirdPartyAnalysis);
    f(r.authorized);
}

struct BindVisitor {
    std::size_t pos;
    Poco::Data::AbstractBinder::Ptr binder;
    Poco::Data::AbstractBinder::Direction direction;
    void operator()(const std::string& value) { binder->bind(pos++, value, direction); }
    template <class T>
    void operator()(const std::optional<T>& value) {
        if (value)
            binder->bind(pos++, *value, direction);
        else
            binder->bind(pos++, Poco::Data::Keywords::null, direction);
    }
};

struct PrepareVisitor {
    std::size_t pos;
    Poco::Data::AbstractPreparator::Ptr preparator;
    void operator()(const std::string& value) { preparator->prepare(pos++, value); }
    template <class T>
    void operator()(const std::optional<T>& value) {
        preparator->prepare(pos++, value ? *value : T{});
    }
};

struct ExtractVisitor {
    std::size_t pos;
    Poco::Data::AbstractExtractor::Ptr extractor;
    void operator()(std::string& value) {
        if (!extractor->extract(pos++, value)) value.clear();  // NULL -> ""
    }
    template <class T>
    void operator()(std::optional<T>& value) {
        T v{};
        if (extractor->extract(pos++, v))
            value = v;
        else
            value.reset();
    }
};

}  // namespace bridge::catalog

namespace Poco::Data {

#define BRIDGE_CATALOG_TYPE_HANDLER(Record, visit, count)                                                           \
    template <>                                                                                                     \
    class TypeHandler<Record> {                                                                                     \
    public:                                                                                                         \
        static std::size_t size() { return count; }                                                                 \
        static void bind(std::size_t pos, const Record& r, AbstractBinder::Ptr binder, AbstractBinder::Direction d) { \
            bridge::catalog::visit(r, bridge::catalog::BindVisitor{pos, binder, d});                                 \
        }                                                                                                           \
        static void prepare(std::size_t pos, const Record& r, AbstractPreparator::Ptr preparator) {                 \
            bridge::catalog::visit(r, bridge::catalog::PrepareVisitor{pos, preparator});                            \
        }                                                                                                           \
        static void extract(std::size_t pos, Record& r, const Record&, AbstractExtractor::Ptr extractor) {          \
            bridge::catalog::visit(r, bridge::catalog::ExtractVisitor{pos, extractor});                             \
        }                                                                                                           \
    };

BRIDGE_CATALOG_TYPE_HANDLER(bridge::tcia::PatientRecord, visitPatient, bridge::catalog::kPatientColumnCount)
BRIDGE_CATALOG_TYPE_HANDLER(bridge::tcia::StudyRecord, visitStudy, bridge::catalog::kStudyColumnCount)
BRIDGE_CATALOG_TYPE_HANDLER(bridge::tcia::SeriesRecord, visitSeries, bridge::catalog::kSeriesColumnCount)

#undef BRIDGE_CATALOG_TYPE_HANDLER

}  // namespace Poco::Data
