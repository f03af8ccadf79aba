// PS3.4 C.2.2.2 matching, table-driven. Rows seeded with inputs that broke other servers.
#include "bridge/common/Error.h"
#include "bridge/query/Matcher.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace bridge;

namespace {

struct Row {
    const char* name;
    DcmTagKey tag;
    DcmEVR vr;
    std::string query;
    std::optional<std::string> record;  // nullopt = attribute unknown to the bridge
    bool expected;
    MatchOptions options{};
};

const std::optional<std::string> kUnknown = std::nullopt;
const MatchOptions kCaseSensitivePn{true, false};
const MatchOptions kFuzzy{false, true};

const std::vector<Row> kRows = {
    // --- universal
    {"empty query matches anything", DCM_PatientName, EVR_PN, "", std::string("DOE^JOHN"), true},
    {"empty query matches empty", DCM_PatientName, EVR_PN, "", std::string(""), true},
    {"star alone is universal", DCM_PatientName, EVR_PN, "*", std::string("DOE^JOHN"), true},
    {"star alone matches empty value", DCM_StudyDescription, EVR_LO, "*", std::string(""), true},
    {"star alone on DA is universal", DCM_StudyDate, EVR_DA, "*", std::string(""), true},
    {"star alone on UI is universal", DCM_StudyInstanceUID, EVR_UI, "*", std::string("1.2.3"), true},
    {"dash alone on DA is universal", DCM_StudyDate, EVR_DA, "-", std::string("20010101"), true},
    {"padding only is universal", DCM_PatientID, EVR_LO, "  ", std::string("X"), true},
    // --- single value
    {"PN exact upper", DCM_PatientName, EVR_PN, "DOE^JOHN", std::string("DOE^JOHN"), true},
    {"PN case-insensitive (Weasis sends upper case)", DCM_PatientName, EVR_PN, "DOE^JOHN", std::string("Doe^John"), true},
    {"PN case-sensitive when configured", DCM_PatientName, EVR_PN, "DOE^JOHN", std::string("Doe^John"), false, kCaseSensitivePn},
    {"PN different name", DCM_PatientName, EVR_PN, "DOE^JANE", std::string("DOE^JOHN"), false},
    {"PN trailing empty components", DCM_PatientName, EVR_PN, "DOE^JOHN", std::string("DOE^JOHN^^^"), true},
    {"PN alphabetic group of a multi-group name", DCM_PatientName, EVR_PN, "YAMADA^TAROU",
     std::string("Yamada^Tarou=山田^太郎=やまだ^たろう"), true},
    {"PN ideographic group", DCM_PatientName, EVR_PN, "山田^太郎", std::string("Yamada^Tarou=山田^太郎=やまだ^たろう"), true},
    {"PN wildcard on a multi-group name", DCM_PatientName, EVR_PN, "yamada*", std::string("Yamada^Tarou=山田^太郎"), true},
    {"PN group does not match another name", DCM_PatientName, EVR_PN, "SATO", std::string("Yamada^Tarou=山田^太郎"), false},
    {"PN Cyrillic case-insensitive", DCM_PatientName, EVR_PN, "ИВАНОВ^ИВАН", std::string("Иванов^Иван"), true},
    {"PN Greek case-insensitive", DCM_PatientName, EVR_PN, "ΑΘΗΝΑ", std::string("αθηνα"), true},
    {"PN Latin-1 accents case-insensitive", DCM_PatientName, EVR_PN, "MÜLLER^JÖRG", std::string("Müller^Jörg"), true},
    {"PN Cyrillic different", DCM_PatientName, EVR_PN, "ПЕТРОВ", std::string("Иванов"), false},
    {"LO case-sensitive", DCM_StudyDescription, EVR_LO, "chest ct", std::string("CHEST CT"), false},
    {"LO exact", DCM_StudyDescription, EVR_LO, "CHEST CT", std::string("CHEST CT"), true},
    {"LO trailing padding ignored", DCM_PatientID, EVR_LO, "LIDC-IDRI-0001 ", std::string("LIDC-IDRI-0001"), true},
    {"PatientID is case-sensitive", DCM_PatientID, EVR_LO, "lidc-idri-0001", std::string("LIDC-IDRI-0001"), false},
    {"CS Modality exact", DCM_Modality, EVR_CS, "CT", std::string("CT"), true},
    {"CS Modality is case-sensitive", DCM_Modality, EVR_CS, "ct", std::string("CT"), false},
    {"BodyPartExamined case-insensitive (TCIA data)", DCM_BodyPartExamined, EVR_CS, "CHEST", std::string("Chest"), true},
    {"Manufacturer case-insensitive (TCIA data)", DCM_Manufacturer, EVR_LO, "siemens", std::string("SIEMENS"), true},
    {"collection case-insensitive", kCollectionTag, EVR_LO, "lidc-idri", std::string("LIDC-IDRI"), true},
    {"UI exact", DCM_StudyInstanceUID, EVR_UI, "1.2.840.1", std::string("1.2.840.1"), true},
    {"UI is not a prefix match", DCM_StudyInstanceUID, EVR_UI, "1.2.840.1", std::string("1.2.840.10"), false},
    {"UI trailing NUL padding", DCM_StudyInstanceUID, EVR_UI, std::string("1.2.3\0", 6), std::string("1.2.3"), true},
    {"IS numeric equality", DCM_SeriesNumber, EVR_IS, "04", std::string("4"), true},
    {"IS numeric inequality", DCM_SeriesNumber, EVR_IS, "5", std::string("4"), false},
    {"DS numeric equality", DCM_SliceThickness, EVR_DS, "2.50", std::string("2.5"), true},
    {"DA single", DCM_StudyDate, EVR_DA, "20010101", std::string("20010101"), true},
    {"DA single other day", DCM_StudyDate, EVR_DA, "20010102", std::string("20010101"), false},
    {"DA legacy dotted single", DCM_StudyDate, EVR_DA, "2001.01.01", std::string("20010101"), true},
    {"TM single with colons", DCM_StudyTime, EVR_TM, "10:30:00", std::string("103000"), true},
    // --- empty and unknown record values (Orthanc issue #90)
    {"known empty value does not match a value", DCM_StudyDescription, EVR_LO, "CHEST", std::string(""), false},
    {"known empty value does not match a wildcard", DCM_StudyDescription, EVR_LO, "CH*", std::string(""), false},
    {"known empty value does not match a range", DCM_StudyDate, EVR_DA, "20010101-", std::string(""), false},
    {"unknown AccessionNumber matches", DCM_AccessionNumber, EVR_SH, "A123", kUnknown, true},
    {"unknown StudyTime matches a range", DCM_StudyTime, EVR_TM, "080000-120000", kUnknown, true},
    // --- wildcards
    {"PN trailing star", DCM_PatientName, EVR_PN, "DOE*", std::string("Doe^John"), true},
    {"PN leading star", DCM_PatientName, EVR_PN, "*JOHN", std::string("DOE^JOHN"), true},
    {"PN inner star", DCM_PatientName, EVR_PN, "D*^J*N", std::string("DOE^JOHN"), true},
    {"PN star no match", DCM_PatientName, EVR_PN, "SMITH*", std::string("DOE^JOHN"), false},
    {"question mark one char", DCM_PatientID, EVR_LO, "LIDC-IDRI-000?", std::string("LIDC-IDRI-0001"), true},
    {"question mark needs exactly one", DCM_PatientID, EVR_LO, "LIDC-IDRI-00?", std::string("LIDC-IDRI-0001"), false},
    {"question mark is one UTF-8 character", DCM_PatientName, EVR_PN, "?ВАНОВ", std::string("Иванов"), true},
    {"Cyrillic wildcard case-insensitive", DCM_PatientName, EVR_PN, "ив*", std::string("ИВАНОВ^ИВАН"), true},
    {"wildcard case-sensitive on LO", DCM_StudyDescription, EVR_LO, "chest*", std::string("CHEST CT"), false},
    {"question mark in a UID (lenient)", DCM_SeriesInstanceUID, EVR_UI, "1.2.3.?", std::string("1.2.3.4"), true},
    {"star in a UID (lenient)", DCM_SeriesInstanceUID, EVR_UI, "1.3.6.1.4.1.14519.*", std::string("1.3.6.1.4.1.14519.5.2"), true},
    {"star in a DA (lenient string wildcard)", DCM_StudyDate, EVR_DA, "2001*", std::string("20010315"), true},
    {"several stars backtracking", DCM_SeriesDescription, EVR_LO, "*a*b*c", std::string("xaxbxbxc"), true},
    {"several stars no match", DCM_SeriesDescription, EVR_LO, "*a*b*c", std::string("xaxbxbx"), false},
    // --- lists
    {"UID list hit", DCM_StudyInstanceUID, EVR_UI, "1.2.3\\1.2.4", std::string("1.2.4"), true},
    {"UID list miss", DCM_StudyInstanceUID, EVR_UI, "1.2.3\\1.2.4", std::string("1.2.5"), false},
    {"value list CT or MR", DCM_Modality, EVR_CS, "CT\\MR", std::string("MR"), true},
    {"value list miss", DCM_Modality, EVR_CS, "CT\\MR", std::string("PT"), false},
    {"multi-valued record ModalitiesInStudy", DCM_ModalitiesInStudy, EVR_CS, "CT", std::string("CT\\SEG"), true},
    {"multi-valued record second value", DCM_ModalitiesInStudy, EVR_CS, "SEG", std::string("CT\\SEG"), true},
    {"multi-valued record miss", DCM_ModalitiesInStudy, EVR_CS, "MR", std::string("CT\\SEG"), false},
    {"list against multi-valued record", DCM_ModalitiesInStudy, EVR_CS, "MR\\SEG", std::string("CT\\SEG"), true},
    {"list with a wildcard element", DCM_PatientName, EVR_PN, "SMITH\\DOE*", std::string("DOE^JOHN"), true},
    {"list with an empty element", DCM_Modality, EVR_CS, "CT\\", std::string("CT"), true},
    {"list with star element is universal", DCM_Modality, EVR_CS, "CT\\*", std::string("MR"), true},
    // --- ranges
    {"DA closed range inside", DCM_StudyDate, EVR_DA, "20010101-20011231", std::string("20010615"), true},
    {"DA closed range lower bound inclusive", DCM_StudyDate, EVR_DA, "20010101-20011231", std::string("20010101"), true},
    {"DA closed range upper bound inclusive", DCM_StudyDate, EVR_DA, "20010101-20011231", std::string("20011231"), true},
    {"DA closed range outside", DCM_StudyDate, EVR_DA, "20010101-20011231", std::string("20020101"), false},
    {"DA open upper", DCM_StudyDate, EVR_DA, "20010101-", std::string("20300101"), true},
    {"DA open upper before", DCM_StudyDate, EVR_DA, "20010101-", std::string("20001231"), false},
    {"DA open lower", DCM_StudyDate, EVR_DA, "-20010101", std::string("19900101"), true},
    {"DA open lower after", DCM_StudyDate, EVR_DA, "-20010101", std::string("20010102"), false},
    {"DA legacy dotted range", DCM_StudyDate, EVR_DA, "2001.01.01-2001.12.31", std::string("20010704"), true},
    {"DA range with padding", DCM_StudyDate, EVR_DA, " 20010101 - 20011231 ", std::string("20010704"), true},
    {"DA range list", DCM_StudyDate, EVR_DA, "19990101-19991231\\20010101-20011231", std::string("20010704"), true},
    {"DA reversed range matches nothing", DCM_StudyDate, EVR_DA, "20011231-20010101", std::string("20010704"), false},
    {"DA range vs unparsable record", DCM_StudyDate, EVR_DA, "20010101-", std::string("garbage"), false},
    {"TM range inside", DCM_StudyTime, EVR_TM, "080000-120000", std::string("101500"), true},
    {"TM range outside", DCM_StudyTime, EVR_TM, "080000-120000", std::string("130000"), false},
    {"TM partial upper covers the hour", DCM_StudyTime, EVR_TM, "08-12", std::string("125959.5"), true},
    {"TM partial lower", DCM_StudyTime, EVR_TM, "08-12", std::string("075959"), false},
    {"TM fraction record", DCM_StudyTime, EVR_TM, "-1000", std::string("100030.123"), true},
    {"DT range", DCM_AcquisitionDateTime, EVR_DT, "20010101-20011231", std::string("20010615123000"), true},
    {"DT range partial upper year", DCM_AcquisitionDateTime, EVR_DT, "2000-2001", std::string("20011231235959"), true},
    {"DT range with UTC offset bounds", DCM_AcquisitionDateTime, EVR_DT, "20010101000000+0100-20010102000000-0500",
     std::string("20010101120000"), true},
    {"DT single with offset", DCM_AcquisitionDateTime, EVR_DT, "20010101120000-0500", std::string("20010101120000"), true},
    // --- fuzzy (QIDO fuzzymatching=true)
    {"fuzzy prefix of family name", DCM_PatientName, EVR_PN, "do", std::string("Doe^John"), true, kFuzzy},
    {"fuzzy prefix of given name", DCM_PatientName, EVR_PN, "joh", std::string("Doe^John"), true, kFuzzy},
    {"fuzzy trailing star ignored", DCM_PatientName, EVR_PN, "joh*", std::string("Doe^John"), true, kFuzzy},
    {"fuzzy not a substring", DCM_PatientName, EVR_PN, "ohn", std::string("Doe^John"), false, kFuzzy},
    {"fuzzy Cyrillic", DCM_PatientName, EVR_PN, "ива", std::string("Петров^Иван"), true, kFuzzy},
    {"fuzzy ignores case even when PN is case-sensitive", DCM_PatientName, EVR_PN, "doe", std::string("DOE^JOHN"), true,
     MatchOptions{true, true}},
    {"fuzzy only for PN", DCM_StudyDescription, EVR_LO, "CHE", std::string("CHEST"), false, kFuzzy},
    {"fuzzy with inner wildcard", DCM_PatientName, EVR_PN, "d?e*", std::string("DOE^JOHN"), true, kFuzzy},
    // --- VR from the dictionary when the adapter did not set it
    {"VR looked up: StudyDate range", DCM_StudyDate, EVR_UNKNOWN, "20010101-20011231", std::string("20010615"), true},
    {"VR looked up: PN case-insensitive", DCM_PatientName, EVR_UNKNOWN, "doe^john", std::string("DOE^JOHN"), true},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(MatcherTable)

BOOST_AUTO_TEST_CASE(every_row) {
    for (const auto& row : kRows) {
        BOOST_TEST_CONTEXT(row.name << ": query='" << row.query << "' record='" << row.record.value_or("<unknown>") << "'") {
            QueryKey key{row.tag, row.vr, row.query};
            BOOST_TEST(matchValue(key, row.record, row.options) == row.expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(table_is_large_enough) { BOOST_TEST(kRows.size() >= 60u); }

struct BadRow {
    const char* name;
    DcmTagKey tag;
    DcmEVR vr;
    std::string query;
};

BOOST_AUTO_TEST_CASE(malformed_values_are_invalid_argument_naming_the_key) {
    const std::vector<BadRow> bad = {
        {"two dashes", DCM_StudyDate, EVR_DA, "20010101-20020101-20030101"},
        {"bad month in range", DCM_StudyDate, EVR_DA, "20011301-20011231"},
        {"bad day in range", DCM_StudyDate, EVR_DA, "20010100-"},
        {"short date in range", DCM_StudyDate, EVR_DA, "2001-2002"},
        {"letters in range", DCM_StudyDate, EVR_DA, "yesterday-today"},
        {"bad single date", DCM_StudyDate, EVR_DA, "2001013"},
        {"bad time range", DCM_StudyTime, EVR_TM, "25-26"},
        {"bad time", DCM_StudyTime, EVR_TM, "1a"},
        {"bad datetime range", DCM_AcquisitionDateTime, EVR_DT, "x-y"},
        {"letters in a UID", DCM_StudyInstanceUID, EVR_UI, "1.2.abc"},
        {"UID too long", DCM_SeriesInstanceUID, EVR_UI, "1." + std::string(70, '2')},
        {"semicolon in a UID", DCM_SOPInstanceUID, EVR_UI, "1.2;3"},
    };
    for (const auto& row : bad) {
        BOOST_TEST_CONTEXT(row.name) {
            try {
                Matcher m(QueryKey{row.tag, row.vr, row.query});
                BOOST_ERROR("no exception for " << row.query);
            } catch (const BridgeError& e) {
                BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(ErrorCode::InvalidArgument));
                const std::string message = e.what();
                const std::string tagText = row.tag.toString().c_str();
                BOOST_TEST(message.find(tagText) != std::string::npos, message);
                BOOST_TEST(message.find(row.query) != std::string::npos, message);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_element_of_a_uid_list_is_named) {
    try {
        Matcher m(QueryKey{DCM_SOPInstanceUID, EVR_UI, "1.2.3\\1.2;3"});
        BOOST_ERROR("no exception");
    } catch (const BridgeError& e) {
        BOOST_TEST(std::string(e.what()).find("'1.2;3'") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(error_message_names_the_keyword) {
    try {
        Matcher m(QueryKey{DCM_StudyDate, EVR_DA, "2001-13"});
        BOOST_ERROR("no exception");
    } catch (const BridgeError& e) {
        BOOST_TEST(std::string(e.what()).find("StudyDate") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(kinds_and_exact_values) {
    BOOST_TEST((Matcher(QueryKey{DCM_PatientID, EVR_LO, ""}).kind() == MatchKind::Universal));
    BOOST_TEST((Matcher(QueryKey{DCM_PatientID, EVR_LO, "*"}).kind() == MatchKind::Universal));
    BOOST_TEST((Matcher(QueryKey{DCM_PatientID, EVR_LO, "P1"}).kind() == MatchKind::SingleValue));
    BOOST_TEST((Matcher(QueryKey{DCM_PatientID, EVR_LO, "P*"}).kind() == MatchKind::Wildcard));
    BOOST_TEST((Matcher(QueryKey{DCM_StudyInstanceUID, EVR_UI, "1\\2"}).kind() == MatchKind::List));
    BOOST_CHECK_THROW(Matcher(QueryKey{DCM_StudyDate, EVR_DA, "2001-"}), BridgeError);
    BOOST_TEST((Matcher(QueryKey{DCM_StudyDate, EVR_DA, "20010101-"}).kind() == MatchKind::Range));

    BOOST_TEST(Matcher(QueryKey{DCM_PatientID, EVR_LO, " P1 "}).exactValue().value_or("") == "P1");
    BOOST_TEST(!Matcher(QueryKey{DCM_PatientID, EVR_LO, "P*"}).exactValue());
    BOOST_TEST(!Matcher(QueryKey{DCM_StudyInstanceUID, EVR_UI, "1\\2"}).exactValue());
    const auto list = Matcher(QueryKey{DCM_StudyInstanceUID, EVR_UI, "1.2\\1.3\\1.2"}).exactValues();
    BOOST_TEST(list == (std::vector<std::string>{"1.2", "1.3"}), boost::test_tools::per_element());
    BOOST_TEST(Matcher(QueryKey{DCM_StudyInstanceUID, EVR_UI, "1.2\\1.*"}).exactValues().empty());
    BOOST_TEST(!Matcher(QueryKey{DCM_PatientName, EVR_PN, "DOE"}, MatchOptions{false, true}).exactValue());
}

BOOST_AUTO_TEST_CASE(sequence_keys_are_return_keys) {
    Matcher m(QueryKey{DCM_ReferencedStudySequence, EVR_SQ, "anything"});
    BOOST_TEST(m.isUniversal());
}

BOOST_AUTO_TEST_CASE(matches_a_record_by_tag) {
    DicomRecord r;
    r.set(DCM_PatientName, "Doe^John");
    r.set(DCM_StudyDescription, "");
    BOOST_TEST(Matcher(QueryKey{DCM_PatientName, EVR_PN, "DOE*"}).matches(r));
    BOOST_TEST(!Matcher(QueryKey{DCM_StudyDescription, EVR_LO, "X"}).matches(r));
    BOOST_TEST(Matcher(QueryKey{DCM_AccessionNumber, EVR_SH, "X"}).matches(r));  // unknown
}

BOOST_AUTO_TEST_CASE(pathological_wildcards_are_fast) {
    // Backtracking matcher must not be exponential: 40 stars against a long non-matching text.
    std::string pattern;
    for (int i = 0; i < 40; ++i) pattern += "*a";
    pattern += "b";
    const std::string text(2000, 'a');
    BOOST_TEST(!matchValue(QueryKey{DCM_SeriesDescription, EVR_LO, pattern}, text));
}

BOOST_AUTO_TEST_SUITE_END()
