#include "web/DicomJson.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <dcmtk/dcmdata/dcdeftag.h>

using namespace bridge;
using namespace bridge::web;

namespace {
Poco::JSON::Object::Ptr parseObject(const std::string& text) {
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(DicomJsonTest)

BOOST_AUTO_TEST_CASE(numbers_person_names_and_empty_values) {
    DicomRecord r;
    r.set(DCM_PatientName, "Doe^Jane");
    r.set(DCM_NumberOfStudyRelatedSeries, "3");        // IS -> number
    r.set(DCM_SliceThickness, "2.5");                  // DS -> number
    r.set(DCM_Rows, "512");                            // US -> number
    r.set(DCM_ModalitiesInStudy, "CT\\SEG");           // CS multi-value
    r.set(DCM_AccessionNumber, "");                    // empty: only "vr"
    r.set(DCM_StudyInstanceUID, "1.2.3");
    auto obj = parseObject(recordToJson(r));

    auto pn = obj->getObject("00100010");
    BOOST_TEST(pn->getValue<std::string>("vr") == "PN");
    BOOST_TEST(pn->getArray("Value")->getObject(0)->getValue<std::string>("Alphabetic") == "Doe^Jane");

    auto is = obj->getObject("00201206")->getArray("Value");
    BOOST_TEST(is->get(0).isInteger());
    BOOST_TEST(is->getElement<int>(0) == 3);
    auto ds = obj->getObject("00180050")->getArray("Value");
    BOOST_TEST(ds->get(0).isNumeric());
    BOOST_TEST(ds->getElement<double>(0) == 2.5);
    BOOST_TEST(obj->getObject("00280010")->getArray("Value")->getElement<int>(0) == 512);
    BOOST_TEST(obj->getObject("00280010")->getValue<std::string>("vr") == "US");

    auto modalities = obj->getObject("00080061")->getArray("Value");
    BOOST_TEST(modalities->size() == 2u);
    BOOST_TEST(modalities->getElement<std::string>(1) == "SEG");

    auto empty = obj->getObject("00080050");
    BOOST_TEST(empty->getValue<std::string>("vr") == "SH");
    BOOST_TEST(!empty->has("Value"));
    BOOST_TEST(empty->size() == 1u);
}

BOOST_AUTO_TEST_CASE(array_of_records) {
    BOOST_TEST(recordsToJsonArray({}) == "[]");
    DicomRecord a, b;
    a.set(DCM_StudyInstanceUID, "1.2");
    b.set(DCM_StudyInstanceUID, "1.3");
    Poco::JSON::Parser parser;
    auto arr = parser.parse(recordsToJsonArray({a, b})).extract<Poco::JSON::Array::Ptr>();
    BOOST_TEST(arr->size() == 2u);
    BOOST_TEST(arr->getObject(1)->getObject("0020000D")->getArray("Value")->getElement<std::string>(0) == "1.3");
}

BOOST_AUTO_TEST_CASE(retrieve_url_is_ur) {
    DicomRecord r;
    r.set(DCM_RetrieveURL, "http://127.0.0.1:8080/dicom-web/studies/1.2");
    auto obj = parseObject(recordToJson(r));
    BOOST_TEST(obj->getObject("00081190")->getValue<std::string>("vr") == "UR");
}

BOOST_AUTO_TEST_CASE(unicode_names_survive) {
    DicomRecord r;
    r.set(DCM_SpecificCharacterSet, "ISO_IR 192");
    r.set(DCM_PatientName, "Müller^Zoë");
    auto obj = parseObject(recordToJson(r));
    BOOST_TEST(obj->getObject("00100010")->getArray("Value")->getObject(0)->getValue<std::string>("Alphabetic") == "Müller^Zoë");
}

BOOST_AUTO_TEST_CASE(dataset_bulk_data_uris) {
    DcmDataset ds;
    ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.3");
    ds.putAndInsertUint16(DCM_Rows, 2);
    ds.putAndInsertUint16(DCM_Columns, 2);
    Uint16 pixels[4] = {1, 2, 3, 4};
    ds.putAndInsertUint16Array(DCM_PixelData, pixels, 4);
    std::vector<Uint8> big(4096, 7), small(16, 1);
    ds.putAndInsertUint8Array(DCM_EncapsulatedDocument, big.data(), big.size());
    ds.putAndInsertUint8Array(DCM_ICCProfile, small.data(), small.size());
    std::string json = datasetToJson(ds, [](const DcmTagKey& tag) {
        char buf[9];
        std::snprintf(buf, sizeof buf, "%04X%04X", tag.getGroup(), tag.getElement());
        return std::string("http://h/bulkdata/") + buf;
    });
    auto obj = parseObject(json);
    BOOST_TEST(obj->getObject("7FE00010")->getValue<std::string>("BulkDataURI") == "http://h/bulkdata/7FE00010");
    BOOST_TEST(obj->getObject("00420011")->getValue<std::string>("BulkDataURI") == "http://h/bulkdata/00420011");
    BOOST_TEST(obj->getObject("00282000")->has("InlineBinary"));  // small binary stays inline
    BOOST_TEST(obj->getObject("00280010")->getArray("Value")->getElement<int>(0) == 2);
}

BOOST_AUTO_TEST_SUITE_END()
