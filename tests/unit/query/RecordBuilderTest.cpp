#include "bridge/query/RecordBuilder.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

using namespace bridge;

namespace {

tcia::SeriesRecord sampleSeries() {
    tcia::SeriesRecord s;
    s.seriesInstanceUid = "1.2.3.4";
    s.studyInstanceUid = "1.2.3";
    s.modality = "CT";
    s.protocolName = "CHEST ROUTINE";
    s.seriesDate = "20000101";
    s.seriesDescription = "LUNG 1.25";
    s.bodyPartExamined = "  CHEST ";
    s.seriesNumber = "3";
    s.collection = "LIDC-IDRI";
    s.patientId = "LIDC-IDRI-0001";
    s.patientSex = "M";
    s.patientAge = "061Y";
    s.manufacturer = "GE MEDICAL SYSTEMS";
    s.manufacturerModelName = "LightSpeed16";
    s.softwareVersions = "LightSpeedverrel";
    s.imageCount = 133;
    s.studyDate = "20000101";
    s.studyDescription = "CT THORAX";
    s.licenseName = "CC BY 3.0";
    s.licenseUri = "https://creativecommons.org/licenses/by/3.0/";
    s.dataDescriptionUri = "https://doi.org/10.7937/K9/TCIA.2015.LO9QL9SX";
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(RecordBuilderTests)

BOOST_AUTO_TEST_CASE(patient_level_attributes) {
    tcia::PatientRecord p;
    p.patientId = "P1";
    p.patientName = "Doe^John";
    p.patientSex = "M";
    p.ethnicGroup = "W";
    p.collection = "LIDC-IDRI";
    p.phantom = "NO";
    p.speciesDescription = "Homo sapiens";
    const DicomRecord r = RecordBuilder::patient(p);
    BOOST_TEST(r.get(DCM_PatientID) == "P1");
    BOOST_TEST(r.get(DCM_PatientName) == "Doe^John");
    BOOST_TEST(r.get(DCM_PatientSex) == "M");
    BOOST_TEST(r.get(DCM_EthnicGroup) == "W");
    BOOST_TEST(r.get(DCM_QualityControlSubject) == "NO");
    BOOST_TEST(r.get(DCM_PatientSpeciesDescription) == "Homo sapiens");
    BOOST_TEST(r.get(kCollectionTag) == "LIDC-IDRI");
    BOOST_TEST(r.has(DCM_PatientBirthDate));  // known (blank: de-identified)
    BOOST_TEST(!r.has(DCM_StudyInstanceUID));
}

BOOST_AUTO_TEST_CASE(study_level_known_and_unknown) {
    tcia::StudyRecord s;
    s.studyInstanceUid = "1.2.3";
    s.studyDate = "20000101";
    s.studyDescription = "CT THORAX";
    s.studyId = "S1";
    s.patientAge = "061Y";
    s.patientId = "P1";
    s.patientName = "P1";
    s.collection = "LIDC-IDRI";
    s.admittingDiagnosesDescription = "Lung cancer";
    s.seriesCount = 4;
    s.longitudinalTemporalEventType = "ENROLLMENT";
    s.longitudinalTemporalOffsetFromEvent = 30;
    const DicomRecord r = RecordBuilder::study(s);
    BOOST_TEST(r.get(DCM_StudyInstanceUID) == "1.2.3");
    BOOST_TEST(r.get(DCM_StudyDate) == "20000101");
    BOOST_TEST(r.get(DCM_StudyID) == "S1");
    BOOST_TEST(r.get(DCM_PatientAge) == "061Y");
    BOOST_TEST(r.get(DCM_AdmittingDiagnosesDescription) == "Lung cancer");
    BOOST_TEST(r.get(DCM_NumberOfStudyRelatedSeries) == "4");
    BOOST_TEST(r.get(DCM_LongitudinalTemporalOffsetFromEvent) == "30");
    BOOST_TEST(r.get(kCollectionTag) == "LIDC-IDRI");
    // Not given by TCIA: absent = unknown (matches anything, returned empty).
    BOOST_TEST(!r.has(DCM_StudyTime));
    BOOST_TEST(!r.has(DCM_AccessionNumber));
}

BOOST_AUTO_TEST_CASE(series_level_with_and_without_study) {
    const auto s = sampleSeries();
    DicomRecord r = RecordBuilder::series(s);
    BOOST_TEST(r.get(DCM_SeriesInstanceUID) == "1.2.3.4");
    BOOST_TEST(r.get(DCM_StudyInstanceUID) == "1.2.3");
    BOOST_TEST(r.get(DCM_Modality) == "CT");
    BOOST_TEST(r.get(DCM_SeriesNumber) == "3");
    BOOST_TEST(r.get(DCM_BodyPartExamined) == "CHEST");
    BOOST_TEST(r.get(DCM_ProtocolName) == "CHEST ROUTINE");
    BOOST_TEST(r.get(DCM_ManufacturerModelName) == "LightSpeed16");
    BOOST_TEST(r.get(DCM_SoftwareVersions) == "LightSpeedverrel");
    BOOST_TEST(r.get(DCM_NumberOfSeriesRelatedInstances) == "133");
    BOOST_TEST(r.get(DCM_StudyDescription) == "CT THORAX");
    BOOST_TEST(!r.has(DCM_PatientName));  // getSeries does not give it

    tcia::StudyRecord st;
    st.studyInstanceUid = "1.2.3";
    st.patientName = "Doe^John";
    st.studyId = "S9";
    st.seriesCount = 2;
    r = RecordBuilder::series(s, &st);
    BOOST_TEST(r.get(DCM_PatientName) == "Doe^John");
    BOOST_TEST(r.get(DCM_StudyID) == "S9");
    BOOST_TEST(r.get(DCM_PatientSex) == "M");
    BOOST_TEST(!r.has(DCM_NumberOfStudyRelatedSeries));
}

BOOST_AUTO_TEST_CASE(instance_merges_cached_attributes) {
    DicomRecord series = RecordBuilder::series(sampleSeries());
    DicomRecord plain = RecordBuilder::instance("1.2.3.4.5", series, nullptr);
    BOOST_TEST(plain.get(DCM_SOPInstanceUID) == "1.2.3.4.5");
    BOOST_TEST(plain.get(DCM_SeriesInstanceUID) == "1.2.3.4");
    BOOST_TEST(!plain.has(DCM_SOPClassUID));
    DicomRecord cached;
    cached.set(DCM_SOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
    cached.set(DCM_Rows, "512");
    cached.set(DCM_NumberOfFrames, "");
    DicomRecord r = RecordBuilder::instance("1.2.3.4.5", series, &cached);
    BOOST_TEST(r.get(DCM_SOPClassUID) == "1.2.840.10008.5.1.4.1.1.2");
    BOOST_TEST(r.get(DCM_Rows) == "512");
}

BOOST_AUTO_TEST_CASE(study_aggregates) {
    auto a = sampleSeries();
    auto b = sampleSeries();
    b.modality = "SEG";
    b.imageCount = 1;
    auto c = sampleSeries();
    c.imageCount.reset();
    DicomRecord r;
    RecordBuilder::addStudyAggregates(r, {&b, &a, &c});
    BOOST_TEST(r.get(DCM_ModalitiesInStudy) == "CT\\SEG");
    BOOST_TEST(r.get(DCM_NumberOfStudyRelatedSeries) == "3");
    BOOST_TEST(r.get(DCM_NumberOfStudyRelatedInstances) == "134");
    DicomRecord empty;
    RecordBuilder::addStudyAggregates(empty, {});
    BOOST_TEST(empty.get(DCM_ModalitiesInStudy) == "");
    BOOST_TEST(empty.get(DCM_NumberOfStudyRelatedSeries) == "0");
}

BOOST_AUTO_TEST_CASE(projection_holds_exactly_the_keys) {
    DicomRecord full = RecordBuilder::series(sampleSeries());
    Query q;
    q.level = QueryLevel::Series;
    q.keys = {{DCM_SeriesInstanceUID, EVR_UI, ""}, {DCM_Modality, EVR_CS, "CT"}, {DCM_SeriesTime, EVR_TM, ""},
              {DCM_ReferencedImageSequence, EVR_SQ, ""}};
    DicomRecord r = RecordBuilder::project(full, q);
    BOOST_TEST(r.values().size() == 6u);
    BOOST_TEST(r.get(DCM_SeriesInstanceUID) == "1.2.3.4");
    BOOST_TEST(r.get(DCM_Modality) == "CT");
    BOOST_TEST(r.has(DCM_SeriesTime));
    BOOST_TEST(r.has(DCM_ReferencedImageSequence));
    BOOST_TEST(r.get(DCM_QueryRetrieveLevel) == "SERIES");
    BOOST_TEST(r.get(DCM_InstanceAvailability) == "ONLINE");
    BOOST_TEST(!r.has(DCM_SpecificCharacterSet));
    BOOST_TEST(!r.has(DCM_BodyPartExamined));
}

BOOST_AUTO_TEST_CASE(projection_marks_utf8) {
    DicomRecord full;
    full.set(DCM_PatientName, "Иванов^Иван");
    Query q;
    q.keys = {{DCM_PatientName, EVR_PN, ""}};
    BOOST_TEST(RecordBuilder::project(full, q).get(DCM_SpecificCharacterSet) == "ISO_IR 192");
    full.set(DCM_PatientName, "Ivanov^Ivan");
    q.keys.push_back({DCM_SpecificCharacterSet, EVR_CS, ""});
    DicomRecord r = RecordBuilder::project(full, q);
    BOOST_TEST(r.has(DCM_SpecificCharacterSet));
    BOOST_TEST(r.get(DCM_SpecificCharacterSet) == "");
}

BOOST_AUTO_TEST_CASE(license_of_a_series) {
    const auto l = RecordBuilder::license(sampleSeries());
    BOOST_TEST(l.collection == "LIDC-IDRI");
    BOOST_TEST(l.licenseName == "CC BY 3.0");
    BOOST_TEST(l.dataDescriptionUri == "https://doi.org/10.7937/K9/TCIA.2015.LO9QL9SX");
}

BOOST_AUTO_TEST_SUITE_END()
