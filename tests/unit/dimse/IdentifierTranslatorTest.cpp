// Identifier <-> Query / RetrieveRequest / response identifier translation tables.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <boost/test/unit_test.hpp>

#include "bridge/common/Error.h"
#include "dimse/IdentifierTranslator.h"
#include "tests/support/ErrorCodeOf.h"

using namespace bridge;
using namespace bridge::dimse;
using bridge::test::codeOf;

namespace {

DcmDataset identifier(std::initializer_list<std::pair<DcmTagKey, const char*>> elements) {
    DcmDataset ds;
    for (const auto& [tag, value] : elements) ds.putAndInsertString(tag, value);
    return ds;
}

}  // namespace

namespace bridge {
std::ostream& operator<<(std::ostream& os, InformationModel m) {
    return os << (m == InformationModel::StudyRoot ? "StudyRoot" : "PatientRoot");
}
std::ostream& operator<<(std::ostream& os, QueryLevel l) { return os << toString(l); }
}  // namespace bridge

BOOST_AUTO_TEST_SUITE(IdentifierTranslator)

BOOST_AUTO_TEST_CASE(model_from_sop_class) {
    BOOST_TEST(
        (modelForSopClass(UID_FINDStudyRootQueryRetrieveInformationModel) == InformationModel::StudyRoot));
    BOOST_TEST(
        (modelForSopClass(UID_MOVEStudyRootQueryRetrieveInformationModel) == InformationModel::StudyRoot));
    BOOST_TEST(
        (modelForSopClass(UID_GETStudyRootQueryRetrieveInformationModel) == InformationModel::StudyRoot));
    BOOST_TEST((modelForSopClass(UID_FINDPatientRootQueryRetrieveInformationModel) ==
                InformationModel::PatientRoot));
    BOOST_TEST((modelForSopClass(UID_MOVEPatientRootQueryRetrieveInformationModel) ==
                InformationModel::PatientRoot));
    BOOST_TEST(
        (modelForSopClass(UID_GETPatientRootQueryRetrieveInformationModel) == InformationModel::PatientRoot));
    BOOST_TEST(!modelForSopClass(UID_CTImageStorage).has_value());
    BOOST_TEST(!modelForSopClass(UID_VerificationSOPClass).has_value());
}

BOOST_AUTO_TEST_CASE(levels) {
    struct Row {
        const char* text;
        InformationModel model;
        std::optional<QueryLevel> expected;
    };
    const Row rows[] = {
        {"STUDY", InformationModel::StudyRoot, QueryLevel::Study},
        {"SERIES", InformationModel::StudyRoot, QueryLevel::Series},
        {"IMAGE", InformationModel::StudyRoot, QueryLevel::Image},
        {"PATIENT", InformationModel::PatientRoot, QueryLevel::Patient},
        {"STUDY ", InformationModel::PatientRoot, QueryLevel::Study},
        {"study", InformationModel::StudyRoot, QueryLevel::Study},    // lenient: lower case (some scripts)
        {"Series", InformationModel::StudyRoot, QueryLevel::Series},
        {"PATIENT", InformationModel::StudyRoot, std::nullopt},  // not in Study Root
        {"FRAME", InformationModel::StudyRoot, std::nullopt},
        {"", InformationModel::StudyRoot, std::nullopt},
    };
    for (const auto& row : rows) {
        DcmDataset ds = identifier({{DCM_QueryRetrieveLevel, row.text}, {DCM_StudyInstanceUID, ""}});
        if (row.expected) {
            BOOST_TEST(identifierToQuery(ds, row.model).level == *row.expected, row.text);
        } else {
            BOOST_TEST((codeOf([&] { identifierToQuery(ds, row.model); }) == ErrorCode::InvalidArgument),
                       row.text);
        }
    }
    DcmDataset missing = identifier({{DCM_PatientName, "A*"}});
    BOOST_TEST((codeOf([&] { identifierToQuery(missing, InformationModel::StudyRoot); }) ==
                ErrorCode::InvalidArgument));
}

BOOST_AUTO_TEST_CASE(keys_in_order_with_vr_and_value_per_matching_type) {
    DcmDataset ds = identifier({
        {DCM_QueryRetrieveLevel, "STUDY"},
        {DCM_PatientName, "DOE^J*"},             // wildcard
        {DCM_PatientID, "LIDC-IDRI-0001"},       // single value
        {DCM_StudyDate, "20000101-20101231"},    // range
        {DCM_ModalitiesInStudy, "CT\\MR"},       // list
        {DCM_StudyInstanceUID, "1.2.3\\1.2.4"},  // UID list
        {DCM_StudyDescription, ""},              // universal / return key
        {DCM_RetrieveAETitle, ""},               // added by the adapter, not a key
    });
    Query q = identifierToQuery(ds, InformationModel::StudyRoot);
    BOOST_TEST(q.level == QueryLevel::Study);
    BOOST_TEST(q.model == InformationModel::StudyRoot);
    BOOST_REQUIRE_EQUAL(q.keys.size(), 6u);
    // DcmDataset keeps tag order.
    BOOST_TEST(q.keys[0].tag == DCM_StudyDate);
    BOOST_TEST(q.keys[0].vr == EVR_DA);
    BOOST_TEST(q.keys[0].value == "20000101-20101231");
    BOOST_TEST(q.value(DCM_PatientName) == "DOE^J*");
    BOOST_TEST(q.key(DCM_PatientName)->vr == EVR_PN);
    BOOST_TEST(q.value(DCM_PatientID) == "LIDC-IDRI-0001");
    BOOST_TEST(q.value(DCM_ModalitiesInStudy) == "CT\\MR");
    BOOST_TEST(q.value(DCM_StudyInstanceUID) == "1.2.3\\1.2.4");
    BOOST_TEST(q.key(DCM_StudyDescription) != nullptr);
    BOOST_TEST(q.value(DCM_StudyDescription) == "");
    BOOST_TEST(q.key(DCM_RetrieveAETitle) == nullptr);
    BOOST_TEST(q.key(DCM_QueryRetrieveLevel) == nullptr);
}

BOOST_AUTO_TEST_CASE(skips_group_length_low_groups_and_sequences) {
    DcmDataset ds = identifier({{DCM_QueryRetrieveLevel, "SERIES"}, {DCM_Modality, "CT"}});
    ds.putAndInsertUint32(DcmTagKey(0x0008, 0x0000), 42);                   // group length
    ds.putAndInsertString(DcmTagKey(0x0002, 0x0010), "1.2.840.10008.1.2");  // file meta in a dataset
    auto* seq = new DcmSequenceOfItems(DCM_ReferencedStudySequence);
    ds.insert(seq);
    std::vector<std::string> warnings;
    Query q = identifierToQuery(ds, InformationModel::StudyRoot, &warnings);
    BOOST_REQUIRE_EQUAL(q.keys.size(), 1u);
    BOOST_TEST(q.keys[0].tag == DCM_Modality);
    BOOST_REQUIRE_EQUAL(warnings.size(), 1u);
    BOOST_TEST(warnings[0].find("sequence") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(latin1_identifier_becomes_utf8) {
    DcmDataset ds =
        identifier({{DCM_SpecificCharacterSet, "ISO_IR 100"}, {DCM_QueryRetrieveLevel, "PATIENT"}});
    ds.putAndInsertString(DCM_PatientName, "M\xFCller^J\xF6rg");  // Müller^Jörg in ISO 8859-1
    Query q = identifierToQuery(ds, InformationModel::PatientRoot);
    BOOST_TEST(q.value(DCM_PatientName) == "M\xC3\xBCller^J\xC3\xB6rg");
    BOOST_TEST(q.key(DCM_SpecificCharacterSet) == nullptr);
}

BOOST_AUTO_TEST_CASE(lower_case_latin1_charset_is_recognised) {
    DcmDataset ds = identifier({{DCM_SpecificCharacterSet, "iso_ir 100"}, {DCM_QueryRetrieveLevel, "PATIENT"}});
    ds.putAndInsertString(DCM_PatientName, "M\xFCller");
    BOOST_TEST(identifierToQuery(ds, InformationModel::PatientRoot).value(DCM_PatientName) == "M\xC3\xBCller");
}

BOOST_AUTO_TEST_CASE(utf8_identifier_kept) {
    DcmDataset ds = identifier({{DCM_SpecificCharacterSet, "ISO_IR 192"}, {DCM_QueryRetrieveLevel, "STUDY"}});
    ds.putAndInsertString(DCM_PatientName, "\xC3\x89lodie^*");
    Query q = identifierToQuery(ds, InformationModel::StudyRoot);
    BOOST_TEST(q.value(DCM_PatientName) == "\xC3\x89lodie^*");
}

BOOST_AUTO_TEST_CASE(unknown_charset_is_invalid_argument) {
    DcmDataset ds = identifier({{DCM_SpecificCharacterSet, "ISO_IR 999"}, {DCM_QueryRetrieveLevel, "STUDY"}});
    ds.putAndInsertString(DCM_PatientName, "X\xE9");
    BOOST_TEST(
        (codeOf([&] { identifierToQuery(ds, InformationModel::StudyRoot); }) == ErrorCode::InvalidArgument));
}

BOOST_AUTO_TEST_CASE(retrieve_request_per_level) {
    DcmDataset study =
        identifier({{DCM_QueryRetrieveLevel, "STUDY"}, {DCM_StudyInstanceUID, "1.2.3\\1.2.4 "}});
    RetrieveRequest r = identifierToRetrieveRequest(study, InformationModel::StudyRoot);
    BOOST_TEST(r.level == QueryLevel::Study);
    BOOST_TEST((r.studyInstanceUids == std::vector<std::string>{"1.2.3", "1.2.4"}));

    DcmDataset image = identifier({{DCM_QueryRetrieveLevel, "IMAGE"},
                                   {DCM_StudyInstanceUID, "1.2"},
                                   {DCM_SeriesInstanceUID, "1.2.5"},
                                   {DCM_SOPInstanceUID, "1.2.5.1\\1.2.5.2"}});
    r = identifierToRetrieveRequest(image, InformationModel::StudyRoot);
    BOOST_TEST(r.level == QueryLevel::Image);
    BOOST_TEST(r.sopInstanceUids.size() == 2u);
    BOOST_TEST(r.seriesInstanceUids.front() == "1.2.5");

    DcmDataset patient = identifier({{DCM_QueryRetrieveLevel, "PATIENT"}, {DCM_PatientID, "P1"}});
    r = identifierToRetrieveRequest(patient, InformationModel::PatientRoot);
    BOOST_TEST(r.patientIds.front() == "P1");

    struct Bad {
        DcmDataset ds;
        InformationModel model;
    };
    DcmDataset noStudy = identifier({{DCM_QueryRetrieveLevel, "STUDY"}});
    DcmDataset noSeries = identifier({{DCM_QueryRetrieveLevel, "SERIES"}, {DCM_StudyInstanceUID, "1.2"}});
    DcmDataset noSop = identifier({{DCM_QueryRetrieveLevel, "IMAGE"}, {DCM_SeriesInstanceUID, "1.2"}});
    DcmDataset patientInStudyRoot = identifier({{DCM_QueryRetrieveLevel, "PATIENT"}, {DCM_PatientID, "P1"}});
    BOOST_TEST((codeOf([&] { identifierToRetrieveRequest(noStudy, InformationModel::StudyRoot); }) ==
                ErrorCode::InvalidArgument));
    BOOST_TEST((codeOf([&] { identifierToRetrieveRequest(noSeries, InformationModel::StudyRoot); }) ==
                ErrorCode::InvalidArgument));
    BOOST_TEST((codeOf([&] { identifierToRetrieveRequest(noSop, InformationModel::StudyRoot); }) ==
                ErrorCode::InvalidArgument));
    BOOST_TEST((codeOf([&] {
                    identifierToRetrieveRequest(patientInStudyRoot, InformationModel::StudyRoot);
                }) == ErrorCode::InvalidArgument));
}

BOOST_AUTO_TEST_CASE(record_to_identifier_has_exactly_requested_keys) {
    Query q;
    q.level = QueryLevel::Series;
    q.keys = {{DCM_SeriesInstanceUID, EVR_UI, ""},
              {DCM_Modality, EVR_CS, "CT"},
              {DCM_SeriesNumber, EVR_IS, ""},
              {DCM_SeriesDescription, EVR_LO, ""}};
    DicomRecord rec;
    rec.set(DCM_SeriesInstanceUID, "1.2.3");
    rec.set(DCM_Modality, "CT");
    rec.set(DCM_SeriesNumber, "4");
    rec.set(DCM_PatientAge, "042Y");  // not requested: must not appear
    rec.set(DCM_QueryRetrieveLevel, "SERIES");
    rec.set(DCM_InstanceAvailability, "ONLINE");
    auto ds = recordToIdentifier(rec, q, "TCIA");
    OFString v;
    BOOST_TEST(ds->findAndGetOFString(DCM_SeriesInstanceUID, v).good());
    BOOST_TEST(v == "1.2.3");
    BOOST_TEST(ds->findAndGetOFString(DCM_SeriesNumber, v).good());
    BOOST_TEST(v == "4");
    BOOST_TEST(ds->tagExists(DCM_SeriesDescription));  // requested, unknown: zero length
    BOOST_TEST(ds->findAndGetOFString(DCM_SeriesDescription, v).good());
    BOOST_TEST(v == "");
    BOOST_TEST(!ds->tagExists(DCM_PatientAge));
    BOOST_TEST(ds->findAndGetOFString(DCM_QueryRetrieveLevel, v).good());
    BOOST_TEST(v == "SERIES");
    BOOST_TEST(ds->findAndGetOFString(DCM_RetrieveAETitle, v).good());
    BOOST_TEST(v == "TCIA");
    BOOST_TEST(ds->findAndGetOFString(DCM_InstanceAvailability, v).good());
    BOOST_TEST(v == "ONLINE");
    BOOST_TEST(ds->tagExists(DCM_SpecificCharacterSet));
    BOOST_TEST(ds->card() == 8u);  // 4 keys + QRL + RetrieveAETitle + InstanceAvailability + SCS
}

BOOST_AUTO_TEST_CASE(record_with_non_ascii_declares_utf8) {
    Query q;
    q.level = QueryLevel::Patient;
    q.keys = {{DCM_PatientName, EVR_PN, ""}};
    DicomRecord rec;
    rec.set(DCM_PatientName, "\xC3\x89lodie");
    auto ds = recordToIdentifier(rec, q, "TCIA-LIDC");
    OFString v;
    ds->findAndGetOFString(DCM_SpecificCharacterSet, v);
    BOOST_TEST(v == "ISO_IR 192");
    ds->findAndGetOFString(DCM_RetrieveAETitle, v);
    BOOST_TEST(v == "TCIA-LIDC");
}

BOOST_AUTO_TEST_CASE(split_values) {
    BOOST_TEST((splitValues("a\\b\\ c ") == std::vector<std::string>{"a", "b", "c"}));
    BOOST_TEST(splitValues("").empty());
    BOOST_TEST((splitValues("\\x\\") == std::vector<std::string>{"x"}));
}

BOOST_AUTO_TEST_SUITE_END()
