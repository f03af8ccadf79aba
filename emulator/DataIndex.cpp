#include "emulator/DataIndex.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <Poco/DigestEngine.h>
#include <Poco/DigestStream.h>
#include <Poco/JSON/Parser.h>
#include <Poco/MD5Engine.h>
#include <Poco/String.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace emulator {

namespace fs = std::filesystem;

namespace {
std::string str(DcmDataset& ds, const DcmTagKey& key) {
    OFString v;
    if (ds.findAndGetOFStringArray(key, v).good()) return Poco::trimRight(std::string(v.c_str()));
    return {};
}

std::int64_t num(DcmDataset& ds, const DcmTagKey& key, std::int64_t fallback = 0) {
    const std::string s = Poco::trim(str(ds, key));
    if (s.empty()) return fallback;
    try {
        return std::stoll(s);
    } catch (...) {
        return fallback;
    }
}

std::string md5OfFile(const std::string& path) {
    Poco::MD5Engine md5;
    Poco::DigestOutputStream out(md5);
    std::ifstream in(path, std::ios::binary);
    Poco::StreamCopier::copyStream(in, out);
    out.flush();
    return Poco::DigestEngine::digestToHex(md5.digest());
}

std::string jsonString(const Poco::JSON::Object::Ptr& o, const std::string& key, const std::string& dflt = {}) {
    return o && o->has(key) ? o->getValue<std::string>(key) : dflt;
}
}  // namespace

DataIndex::DataIndex(std::vector<CollectionInfo> collections, std::vector<SeriesRecord> series,
                     std::map<std::string, std::vector<InstanceRecord>> instances)
    : collections_(std::move(collections)), series_(std::move(series)), instances_(std::move(instances)) {
    rebuildLookups();
}

void DataIndex::rebuildLookups() {
    seriesByUid_.clear();
    instanceBySop_.clear();
    for (std::size_t i = 0; i < series_.size(); ++i) seriesByUid_[series_[i].seriesUid] = i;
    for (const auto& [uid, list] : instances_)
        for (std::size_t i = 0; i < list.size(); ++i) instanceBySop_[list[i].sopInstanceUid] = {uid, i};
}

std::shared_ptr<const DataIndex> DataIndex::load(const std::string& dir) {
    const fs::path root(dir);
    const fs::path collectionsFile = root / "collections.json";
    if (!fs::exists(collectionsFile)) throw std::runtime_error("no collections.json in " + dir + " (run generate first)");
    std::shared_ptr<DataIndex> index(new DataIndex());

    std::ifstream in(collectionsFile);
    Poco::JSON::Parser parser;
    const auto doc = parser.parse(in).extract<Poco::JSON::Object::Ptr>();
    std::map<std::string, Poco::JSON::Object::Ptr> seriesExtras;
    if (auto arr = doc->getArray("collections")) {
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const auto o = arr->getObject(i);
            CollectionInfo c;
            c.name = jsonString(o, "name");
            c.licenseName = jsonString(o, "licenseName");
            c.licenseUri = jsonString(o, "licenseUri");
            c.doi = jsonString(o, "doi");
            c.dateReleased = jsonString(o, "dateReleased");
            c.site = jsonString(o, "site");
            c.restricted = o->has("restricted") && o->getValue<bool>("restricted");
            index->collections_.push_back(c);
        }
    }
    if (auto obj = doc->getObject("series")) {
        for (const auto& name : obj->getNames()) seriesExtras[name] = obj->getObject(name);
    }

    // Group the DICOM files by series; read headers only (values > 256 bytes stay on disk).
    std::map<std::string, std::vector<InstanceRecord>> files;
    std::map<std::string, SeriesRecord> seriesMap;
    std::vector<fs::path> paths;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file() && e.path().extension() == ".dcm") paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
        DcmFileFormat ff;
        if (ff.loadFile(p.c_str(), EXS_Unknown, EGL_noChange, 256).bad()) continue;
        DcmDataset& ds = *ff.getDataset();
        InstanceRecord inst;
        inst.sopInstanceUid = str(ds, DCM_SOPInstanceUID);
        inst.sopClassUid = str(ds, DCM_SOPClassUID);
        inst.path = fs::absolute(p).string();
        inst.instanceNumber = num(ds, DCM_InstanceNumber);
        inst.acquisitionNumber = num(ds, DCM_AcquisitionNumber, 1);
        inst.fileSize = static_cast<std::int64_t>(fs::file_size(p));
        inst.md5 = md5OfFile(inst.path);
        const std::string seriesUid = str(ds, DCM_SeriesInstanceUID);
        if (seriesUid.empty() || inst.sopInstanceUid.empty()) continue;
        auto [it, fresh] = seriesMap.try_emplace(seriesUid);
        if (fresh) {
            SeriesRecord& r = it->second;
            r.collection = str(ds, DCM_ClinicalTrialProtocolID);
            if (r.collection.empty()) r.collection = str(ds, DcmTagKey(0x0013, 0x1010));
            r.patientId = str(ds, DCM_PatientID);
            // An empty but present PatientName stays "" (TCIA answers "PatientName": ""); absent = NULL.
            if (ds.tagExists(DCM_PatientName)) r.patientName = str(ds, DCM_PatientName);
            r.patientSex = str(ds, DCM_PatientSex);
            r.patientBirthDate = str(ds, DCM_PatientBirthDate);
            r.ethnicGroup = str(ds, DCM_EthnicGroup);
            if (str(ds, DCM_QualityControlSubject) == "YES") r.phantom = "YES";
            const std::string species = str(ds, DCM_PatientSpeciesDescription);
            if (!species.empty()) r.speciesDescription = species;
            r.studyUid = str(ds, DCM_StudyInstanceUID);
            r.studyDate = str(ds, DCM_StudyDate);
            r.studyDescription = str(ds, DCM_StudyDescription);
            r.studyId = str(ds, DCM_StudyID);
            r.patientAge = str(ds, DCM_PatientAge);
            r.admittingDiagnoses = str(ds, DCM_AdmittingDiagnosesDescription);
            r.longitudinalEventType = str(ds, DCM_LongitudinalTemporalEventType);
            Float64 offset = 0;
            if (ds.findAndGetFloat64(DCM_LongitudinalTemporalOffsetFromEvent, offset).good()) r.longitudinalOffset = offset;
            r.seriesUid = seriesUid;
            r.modality = str(ds, DCM_Modality);
            r.protocolName = str(ds, DCM_ProtocolName);
            r.seriesDate = str(ds, DCM_SeriesDate);
            r.seriesDescription = str(ds, DCM_SeriesDescription);
            r.bodyPart = str(ds, DCM_BodyPartExamined);
            const std::string seriesNumber = str(ds, DCM_SeriesNumber);
            if (!seriesNumber.empty()) r.seriesNumber = num(ds, DCM_SeriesNumber);
            r.manufacturer = str(ds, DCM_Manufacturer);
            r.manufacturerModelName = str(ds, DCM_ManufacturerModelName);
            r.softwareVersions = str(ds, DCM_SoftwareVersions);
            OFString spacing;
            if (ds.findAndGetOFString(DCM_PixelSpacing, spacing, 0).good()) r.pixelSpacingRow = spacing.c_str();
            r.sliceThickness = str(ds, DCM_SliceThickness);
        }
        files[seriesUid].push_back(std::move(inst));
    }

    for (auto& [uid, r] : seriesMap) {
        auto& list = files[uid];
        std::sort(list.begin(), list.end(),
                  [](const InstanceRecord& a, const InstanceRecord& b) { return a.instanceNumber < b.instanceNumber; });
        r.imageCount = static_cast<std::int64_t>(list.size());
        r.fileSize = 0;
        for (const auto& i : list) r.fileSize += i.fileSize;
        if (!list.empty()) r.sopClassUid = list.front().sopClassUid;
        if (const CollectionInfo* c = index->collection(r.collection)) {
            r.site = c->site;
            r.licenseName = c->licenseName;
            r.licenseUri = c->licenseUri;
            r.doi = c->doi;
            r.restricted = c->restricted;
            r.dateReleased = c->dateReleased;
            r.maxSubmissionTimestamp = c->dateReleased;
        }
        if (auto it = seriesExtras.find(uid); it != seriesExtras.end()) {
            const auto& o = it->second;
            r.dateReleased = jsonString(o, "dateReleased", r.dateReleased);
            r.maxSubmissionTimestamp = jsonString(o, "maxSubmissionTimestamp", r.maxSubmissionTimestamp);
            r.thirdPartyAnalysis = jsonString(o, "thirdPartyAnalysis");
            r.annotationsFlag = o->has("annotationsFlag") && o->getValue<bool>("annotationsFlag");
        }
        index->series_.push_back(std::move(r));
    }
    index->instances_ = std::move(files);

    const fs::path syntheticFile = root / "synthetic.json";
    if (fs::exists(syntheticFile)) {
        std::ifstream sin(syntheticFile);
        Poco::JSON::Parser sp;
        const auto s = sp.parse(sin).extract<Poco::JSON::Object::Ptr>();
        index->synthetic_ = std::make_unique<SyntheticCatalog>(s->getValue<std::int64_t>("studies"),
                                                               s->getValue<std::int64_t>("seriesPerStudy"),
                                                               s->getValue<int>("collections"));
        for (const auto& c : index->synthetic_->collections()) index->collections_.push_back(c);
    }
    index->rebuildLookups();
    return index;
}

const CollectionInfo* DataIndex::collection(const std::string& name) const {
    for (const auto& c : collections_)
        if (Poco::icompare(c.name, name) == 0) return &c;
    return nullptr;
}

void DataIndex::forEachSeries(const SeriesHint& hint, const std::function<void(const SeriesRecord&)>& fn) const {
    if (!hint.seriesUid.empty()) {
        if (auto it = seriesByUid_.find(hint.seriesUid); it != seriesByUid_.end()) fn(series_[it->second]);
    } else {
        for (const auto& r : series_) fn(r);
    }
    if (synthetic_) synthetic_->forEachSeries(hint, fn);
}

void DataIndex::forEachStoredSeries(const std::function<void(const SeriesRecord&)>& fn) const {
    for (const auto& r : series_) fn(r);
}

std::optional<SeriesRecord> DataIndex::series(const std::string& seriesUid) const {
    std::optional<SeriesRecord> found;
    SeriesHint hint;
    hint.seriesUid = seriesUid;
    forEachSeries(hint, [&](const SeriesRecord& r) {
        if (r.seriesUid == seriesUid) found = r;
    });
    return found;
}

const std::vector<InstanceRecord>& DataIndex::instances(const std::string& seriesUid) const {
    static const std::vector<InstanceRecord> none;
    auto it = instances_.find(seriesUid);
    return it == instances_.end() ? none : it->second;
}

const InstanceRecord* DataIndex::instance(const std::string& sop, std::string* seriesUid) const {
    auto it = instanceBySop_.find(sop);
    if (it == instanceBySop_.end()) return nullptr;
    if (seriesUid) *seriesUid = it->second.first;
    return &instances_.at(it->second.first)[it->second.second];
}

std::size_t DataIndex::seriesCount() const {
    std::size_t n = series_.size();
    if (synthetic_) n += static_cast<std::size_t>(synthetic_->studies() * synthetic_->seriesPerStudy());
    return n;
}

}  // namespace emulator
