#include "InMemoryMetadataSource.h"

#include <algorithm>
#include <cctype>

namespace bridge::test {
namespace {

bool same(const std::string& filter, const std::string& value) {
    if (filter.empty()) return true;
    if (filter.size() != value.size()) return false;
    for (std::size_t i = 0; i < filter.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(filter[i])) != std::toupper(static_cast<unsigned char>(value[i])))
            return false;
    return true;
}

std::string describe(const std::string& name, const std::vector<std::pair<const char*, std::string>>& fields) {
    std::string out = name + "(";
    bool first = true;
    for (const auto& [k, v] : fields) {
        if (v.empty()) continue;
        out += (first ? "" : ",") + std::string(k) + "=" + v;
        first = false;
    }
    return out + ")";
}

}  // namespace

void InMemoryMetadataSource::log(const std::string& call) {
    if (onCall) onCall(call);
    calls.push_back(call);
}

std::size_t InMemoryMetadataSource::count(const std::string& prefix) const {
    return std::count_if(calls.begin(), calls.end(), [&](const std::string& c) { return c.rfind(prefix, 0) == 0; });
}

bool InMemoryMetadataSource::unfilteredSeriesCall() const {
    return std::find(calls.begin(), calls.end(), "series()") != calls.end();
}

std::vector<std::string> InMemoryMetadataSource::collections(const RequestContext& context) {
    log("collections()");
    return collectionList;
}

std::vector<tcia::PatientRecord> InMemoryMetadataSource::patients(const tcia::PatientFilter& f, const RequestContext& context) {
    log(describe("patients", {{"Collection", f.collection}, {"PatientID", f.patientId}}));
    std::vector<tcia::PatientRecord> out;
    for (const auto& p : patientRows)
        if (same(f.collection, p.collection) && same(f.patientId, p.patientId)) out.push_back(p);
    std::reverse(out.begin(), out.end());  // TCIA lists are unordered: don't let tests rely on order
    return out;
}

std::vector<tcia::StudyRecord> InMemoryMetadataSource::studies(const tcia::StudyFilter& f, const RequestContext& context) {
    log(describe("studies", {{"Collection", f.collection}, {"PatientID", f.patientId}, {"StudyInstanceUID", f.studyInstanceUid}}));
    std::vector<tcia::StudyRecord> out;
    for (const auto& s : studyRows)
        if (same(f.collection, s.collection) && same(f.patientId, s.patientId) && same(f.studyInstanceUid, s.studyInstanceUid))
            out.push_back(s);
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<tcia::SeriesRecord> InMemoryMetadataSource::series(const tcia::SeriesFilter& f, const RequestContext& context) {
    log(describe("series", {{"Collection", f.collection},
                            {"PatientID", f.patientId},
                            {"StudyInstanceUID", f.studyInstanceUid},
                            {"SeriesInstanceUID", f.seriesInstanceUid},
                            {"Modality", f.modality},
                            {"BodyPartExamined", f.bodyPartExamined},
                            {"Manufacturer", f.manufacturer},
                            {"ManufacturerModelName", f.manufacturerModelName}}));
    std::vector<tcia::SeriesRecord> out;
    for (const auto& s : seriesRows)
        if (same(f.collection, s.collection) && same(f.patientId, s.patientId) &&
            same(f.studyInstanceUid, s.studyInstanceUid) && same(f.seriesInstanceUid, s.seriesInstanceUid) &&
            same(f.modality, s.modality) && same(f.bodyPartExamined, s.bodyPartExamined) &&
            same(f.manufacturer, s.manufacturer) && same(f.manufacturerModelName, s.manufacturerModelName))
            out.push_back(s);
    std::reverse(out.begin(), out.end());
    return out;
}

std::vector<std::string> InMemoryMetadataSource::sopInstanceUids(const std::string& uid, const RequestContext& context) {
    log("sopInstanceUids(" + uid + ")");
    auto it = sopsBySeries.find(uid);
    if (it == sopsBySeries.end()) return {};
    auto out = it->second;
    std::reverse(out.begin(), out.end());
    return out;
}

std::optional<std::vector<tcia::PatientRecord>> InMemoryMetadataSource::scanPatients(const Query&,
                                                                                     const std::vector<std::string>&) {
    log("scanPatients()");
    if (!canScan) return std::nullopt;
    return patientRows;
}

std::optional<std::vector<tcia::StudyRecord>> InMemoryMetadataSource::scanStudies(const Query&,
                                                                                  const std::vector<std::string>&) {
    log("scanStudies()");
    if (!canScan) return std::nullopt;
    return studyRows;
}

std::optional<std::vector<tcia::SeriesRecord>> InMemoryMetadataSource::scanSeries(const Query&,
                                                                                  const std::vector<std::string>&) {
    log("scanSeries()");
    if (!canScan) return std::nullopt;
    return seriesRows;
}

InMemoryMetadataSource makeSampleTcia() {
    InMemoryMetadataSource t;
    t.collectionList = {"CPTAC-LUAD", "LIDC-IDRI", "RIDER Lung CT", "Secret-Trial"};
    t.restricted = {"Secret-Trial"};

    auto patient = [&](std::string id, std::string name, std::string sex, std::string collection) {
        tcia::PatientRecord p;
        p.patientId = id;
        p.patientName = name;
        p.patientSex = sex;
        p.collection = collection;
        p.phantom = "NO";
        p.speciesCode = "337915000";
        p.speciesDescription = "Homo sapiens";
        t.patientRows.push_back(p);
    };
    patient("LIDC-IDRI-0001", "LIDC-IDRI-0001", "M", "LIDC-IDRI");
    patient("LIDC-IDRI-0002", "LIDC-IDRI-0002", "F", "LIDC-IDRI");
    patient("SHARED-1", "Doe^John", "M", "LIDC-IDRI");
    patient("SHARED-1", "Doe^John", "M", "CPTAC-LUAD");
    patient("SHARED-1", "Doe^John", "M", "Secret-Trial");
    patient("C3L-00001", "Иванов^Иван", "M", "CPTAC-LUAD");
    patient("RIDER-1129164940", "RIDER-1129164940", "F", "RIDER Lung CT");
    patient("SECRET-01", "Secret^Agent", "F", "Secret-Trial");

    auto study = [&](std::string uid, std::string pid, std::string name, std::string collection, std::string date,
                     std::string description, std::optional<int> seriesCount) {
        tcia::StudyRecord s;
        s.studyInstanceUid = uid;
        s.patientId = pid;
        s.patientName = name;
        s.collection = collection;
        s.studyDate = date;
        s.studyDescription = description;
        s.studyId = "S-" + uid.substr(uid.size() - 1);
        s.patientAge = "061Y";
        s.patientSex = "M";
        s.seriesCount = seriesCount;
        t.studyRows.push_back(s);
    };
    study("1.3.6.1.4.1.14519.5.2.1.1", "LIDC-IDRI-0001", "LIDC-IDRI-0001", "LIDC-IDRI", "20000101", "CHEST CT", 2);
    study("1.3.6.1.4.1.14519.5.2.1.2", "LIDC-IDRI-0001", "LIDC-IDRI-0001", "LIDC-IDRI", "20010615", "Chest CT follow-up", 1);
    study("1.3.6.1.4.1.14519.5.2.1.3", "LIDC-IDRI-0002", "LIDC-IDRI-0002", "LIDC-IDRI", "19990310", "", std::nullopt);
    study("1.3.6.1.4.1.14519.5.2.2.4", "SHARED-1", "Doe^John", "LIDC-IDRI", "20050505", "CT THORAX", 1);
    study("1.3.6.1.4.1.14519.5.2.3.5", "SHARED-1", "Doe^John", "CPTAC-LUAD", "20060606", "PET/CT", 2);
    study("1.3.6.1.4.1.14519.5.2.9.6", "SHARED-1", "Doe^John", "Secret-Trial", "20070707", "SECRET STUDY", 1);
    study("1.3.6.1.4.1.14519.5.2.3.7", "C3L-00001", "Иванов^Иван", "CPTAC-LUAD", "20100101", "КТ грудной клетки", 1);
    study("1.3.6.1.4.1.9328.50.1.8", "RIDER-1129164940", "RIDER-1129164940", "RIDER Lung CT", "20060101", "CT CHEST", 1);
    study("1.3.6.1.4.1.14519.5.2.9.9", "SECRET-01", "Secret^Agent", "Secret-Trial", "20080808", "SECRET", 1);

    auto series = [&](std::string uid, std::string studyUid, std::string pid, std::string collection,
                      std::string modality, std::string number, std::int64_t images, std::string bodyPart = "CHEST",
                      std::string manufacturer = "SIEMENS") {
        tcia::SeriesRecord s;
        s.seriesInstanceUid = uid;
        s.studyInstanceUid = studyUid;
        s.patientId = pid;
        s.collection = collection;
        s.modality = modality;
        s.seriesNumber = number;
        s.imageCount = images;
        s.bodyPartExamined = bodyPart;
        s.manufacturer = manufacturer;
        s.seriesDescription = modality + " series " + number;
        s.licenseName = "CC BY 3.0";
        s.licenseUri = "https://creativecommons.org/licenses/by/3.0/";
        s.dataDescriptionUri = "https://doi.org/10.7937/K9/TCIA.2015.LO9QL9SX";
        t.seriesRows.push_back(s);
        std::vector<std::string> sops;
        for (std::int64_t i = 1; i <= images; ++i) sops.push_back(uid + "." + std::to_string(i));
        t.sopsBySeries[uid] = sops;
    };
    series("1.3.6.1.4.1.14519.5.2.1.1.10", "1.3.6.1.4.1.14519.5.2.1.1", "LIDC-IDRI-0001", "LIDC-IDRI", "CT", "10", 3, " Chest ");
    series("1.3.6.1.4.1.14519.5.2.1.1.2", "1.3.6.1.4.1.14519.5.2.1.1", "LIDC-IDRI-0001", "LIDC-IDRI", "SEG", "2", 1, "CHEST", "QIICR");
    series("1.3.6.1.4.1.14519.5.2.1.2.1", "1.3.6.1.4.1.14519.5.2.1.2", "LIDC-IDRI-0001", "LIDC-IDRI", "CT", "1", 2);
    series("1.3.6.1.4.1.14519.5.2.1.3.1", "1.3.6.1.4.1.14519.5.2.1.3", "LIDC-IDRI-0002", "LIDC-IDRI", "CT", "1", 2, "LUNG", "GE MEDICAL SYSTEMS");
    series("1.3.6.1.4.1.14519.5.2.1.3.2", "1.3.6.1.4.1.14519.5.2.1.3", "LIDC-IDRI-0002", "LIDC-IDRI", "DX", "2", 1, "LUNG", "GE MEDICAL SYSTEMS");
    series("1.3.6.1.4.1.14519.5.2.2.4.1", "1.3.6.1.4.1.14519.5.2.2.4", "SHARED-1", "LIDC-IDRI", "CT", "1", 4);
    series("1.3.6.1.4.1.14519.5.2.3.5.1", "1.3.6.1.4.1.14519.5.2.3.5", "SHARED-1", "CPTAC-LUAD", "PT", "1", 5);
    series("1.3.6.1.4.1.14519.5.2.3.5.2", "1.3.6.1.4.1.14519.5.2.3.5", "SHARED-1", "CPTAC-LUAD", "CT", "2", 6);
    series("1.3.6.1.4.1.14519.5.2.9.6.1", "1.3.6.1.4.1.14519.5.2.9.6", "SHARED-1", "Secret-Trial", "MR", "1", 7);
    series("1.3.6.1.4.1.14519.5.2.3.7.1", "1.3.6.1.4.1.14519.5.2.3.7", "C3L-00001", "CPTAC-LUAD", "CT", "3", 2);
    series("1.3.6.1.4.1.9328.50.1.8.1", "1.3.6.1.4.1.9328.50.1.8", "RIDER-1129164940", "RIDER Lung CT", "CT", "1", 3);
    series("1.3.6.1.4.1.14519.5.2.9.9.1", "1.3.6.1.4.1.14519.5.2.9.9", "SECRET-01", "Secret-Trial", "CT", "1", 1);
    return t;
}

}  // namespace bridge::test
