#pragma once
// A tiny in-memory TciaApi for the catalog's unit tests: answers the search endpoints from
// vectors of records (filters compared case-insensitively, like TCIA), counts every call, and
// offers hooks to fail or context. Download endpoints are not used by the catalog and throw.

#include "bridge/common/Error.h"
#include "bridge/tcia/TciaApi.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>

namespace bridge::test {

inline std::string upperAscii(std::string s) {
    for (auto& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

class FakeTciaApi : public tcia::TciaApi {
public:
    std::vector<std::string> collectionNames;
    std::vector<tcia::PatientRecord> patientRows;
    std::vector<tcia::StudyRecord> studyRows;
    std::vector<tcia::SeriesRecord> seriesRows;
    std::map<std::string, std::vector<std::string>> sops;
    /// Called at the start of every call with the endpoint name and the collection filter.
    std::function<void(const std::string& endpoint, const std::string& collection)> hook;

    int calls(const std::string& endpoint) const {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = calls_.find(endpoint);
        return it == calls_.end() ? 0 : it->second;
    }
    int totalCalls() const {
        std::lock_guard<std::mutex> lock(mutex_);
        int n = 0;
        for (const auto& [k, v] : calls_) n += v;
        return n;
    }

    std::vector<std::string> collections(const RequestContext& context) override {
        count("collections", "");
        return collectionNames;
    }
    std::vector<std::string> modalityValues(const tcia::ValueFilter&, const RequestContext& context) override { return {}; }
    std::vector<std::string> bodyPartValues(const tcia::ValueFilter&, const RequestContext& context) override { return {}; }
    std::vector<std::string> manufacturerValues(const tcia::ValueFilter&, const RequestContext& context) override { return {}; }

    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& f, const RequestContext& context) override {
        count("patients", f.collection);
        std::vector<tcia::PatientRecord> out;
        for (const auto& p : patientRows)
            if (eq(f.collection, p.collection) && eq(f.patientId, p.patientId)) out.push_back(p);
        return out;
    }
    std::vector<tcia::PatientRecord> patientsByCollectionAndModality(const std::string&, const std::string&, const RequestContext& context) override {
        return {};
    }
    std::vector<tcia::PatientRecord> newPatientsInCollection(const std::string& collection,
                                                             const std::string& fromDate, const RequestContext& context) override {
        count("newPatients", collection);
        std::set<std::string> ids;
        for (const auto& s : seriesRows)
            if (eq(collection, s.collection) && s.dateReleased >= fromDate) ids.insert(s.patientId);
        std::vector<tcia::PatientRecord> out;
        for (const auto& p : patientRows)
            if (eq(collection, p.collection) && ids.count(p.patientId)) out.push_back(p);
        return out;
    }
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& f, const RequestContext& context) override {
        count("studies", f.collection);
        std::vector<tcia::StudyRecord> out;
        for (const auto& s : studyRows)
            if (eq(f.collection, s.collection) && eq(f.patientId, s.patientId) && eq(f.studyInstanceUid, s.studyInstanceUid))
                out.push_back(s);
        return out;
    }
    std::vector<tcia::StudyRecord> newStudiesInPatientCollection(const std::string& collection, const std::string& patientId,
                                                                 const std::string& fromDate, const RequestContext& context) override {
        count("newStudies", collection);
        std::set<std::string> uids;
        for (const auto& s : seriesRows)
            if (eq(collection, s.collection) && s.dateReleased >= fromDate) uids.insert(s.studyInstanceUid);
        std::vector<tcia::StudyRecord> out;
        for (const auto& s : studyRows)
            if (eq(collection, s.collection) && eq(patientId, s.patientId) && uids.count(s.studyInstanceUid)) out.push_back(s);
        return out;
    }
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& f, const RequestContext& context) override {
        count("series", f.collection);
        std::vector<tcia::SeriesRecord> out;
        for (const auto& s : seriesRows)
            if (eq(f.collection, s.collection) && eq(f.patientId, s.patientId) &&
                eq(f.studyInstanceUid, s.studyInstanceUid) && eq(f.seriesInstanceUid, s.seriesInstanceUid) &&
                eq(f.modality, s.modality) && eq(f.bodyPartExamined, s.bodyPartExamined) &&
                eq(f.manufacturer, s.manufacturer) && eq(f.manufacturerModelName, s.manufacturerModelName))
                out.push_back(s);
        return out;
    }
    std::vector<tcia::SeriesRecord> updatedSeries(const std::string& fromDate, const RequestContext& context) override {
        count("updatedSeries", "");
        std::vector<tcia::SeriesRecord> out;
        for (const auto& s : seriesRows)
            if (s.dateReleased > fromDate) out.push_back(s);  // strict, like TCIA (API.md 2.5)
        return out;
    }
    tcia::SeriesSize seriesSize(const std::string&, const RequestContext& context) override { return {}; }
    std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) override {
        count("sop", "");
        const auto it = sops.find(seriesInstanceUid);
        return it == sops.end() ? std::vector<std::string>{} : it->second;
    }
    std::size_t downloadSeries(const std::string&, const tcia::DownloadOptions&, const tcia::InstanceSink&,
                               const RequestContext&) override {
        throw BridgeError(ErrorCode::Unsupported, "fake: no downloads");
    }
    std::vector<std::uint8_t> singleImage(const std::string&, const std::string&, const RequestContext& context) override {
        throw BridgeError(ErrorCode::Unsupported, "fake: no downloads");
    }

    /// A deterministic random TCIA: `collections` collections, each with `patients` patients,
    /// 1-3 studies per patient and 1-4 series per study. Names are drawn from a small pool
    /// (so wildcards hit), some upper, some mixed case, some empty, a few non-ASCII.
    void generate(unsigned seed, int collections, int patients) {
        std::mt19937 rng(seed);
        auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
        const std::vector<std::string> family = {"SMITH", "Smith", "SMYTHE", "JONES", "JOHNSON", "DOE", "MÜLLER",
                                                 "O'BRIEN", "LEE", "LI", "50%_OFF", "BACK\\SLASH", ""};
        const std::vector<std::string> given = {"JOHN", "Jane", "J", "", "ANNA MARIA"};
        const std::vector<std::string> modalities = {"CT", "MR", "PT", "SEG", "RTSTRUCT", "ct"};
        const std::vector<std::string> bodyParts = {"CHEST", "Chest", "HEAD", "ABDOMEN", ""};
        const std::vector<std::string> descriptions = {"CT CHEST W CONTRAST", "MRI Brain", "PET-CT", "", "Thorax^1"};
        int uid = 1;
        for (int c = 0; c < collections; ++c) {
            const std::string coll = (c % 2 ? "Coll-" : "COLL-") + std::to_string(c);
            collectionNames.push_back(coll);
            for (int p = 0; p < patients; ++p) {
                tcia::PatientRecord pr;
                pr.collection = coll;
                pr.patientId = coll + "-" + std::to_string(p);
                const std::string g = pick(given);
                pr.patientName = pick(family) + (g.empty() ? "" : "^" + g);
                pr.patientSex = rng() % 2 ? "M" : "F";
                pr.authorized = true;
                patientRows.push_back(pr);
                const int studies = 1 + static_cast<int>(rng() % 3);
                for (int s = 0; s < studies; ++s) {
                    tcia::StudyRecord st;
                    st.collection = coll;
                    st.patientId = pr.patientId;
                    st.patientName = pr.patientName;
                    st.patientSex = pr.patientSex;
                    st.studyInstanceUid = "1.2.3." + std::to_string(uid++);
                    st.studyDate = rng() % 7 == 0 ? "" : std::to_string(19900101 + (rng() % 30) * 10000 + (rng() % 12) * 100 + rng() % 28);
                    st.studyDescription = pick(descriptions);
                    st.seriesCount = 0;
                    const int series = 1 + static_cast<int>(rng() % 4);
                    for (int r = 0; r < series; ++r) {
                        tcia::SeriesRecord se;
                        se.collection = coll;
                        se.patientId = pr.patientId;
                        se.studyInstanceUid = st.studyInstanceUid;
                        se.seriesInstanceUid = st.studyInstanceUid + "." + std::to_string(r + 1);
                        se.modality = pick(modalities);
                        se.bodyPartExamined = pick(bodyParts);
                        se.seriesDate = st.studyDate;
                        se.seriesNumber = std::to_string(r + 1);
                        se.imageCount = 10 + static_cast<std::int64_t>(rng() % 100);
                        se.dateReleased = "2020010" + std::to_string(1 + rng() % 9);
                        se.licenseName = "CC BY 4.0";
                        se.dataDescriptionUri = "https://doi.org/10.7937/" + coll;
                        seriesRows.push_back(se);
                        st.seriesCount = *st.seriesCount + 1;
                    }
                    studyRows.push_back(st);
                }
            }
        }
    }

private:
    static bool eq(const std::string& filter, const std::string& value) {
        return filter.empty() || upperAscii(filter) == upperAscii(value);
    }
    void count(const std::string& endpoint, const std::string& collection) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++calls_[endpoint];
        }
        if (hook) hook(endpoint, collection);
    }

    mutable std::mutex mutex_;
    std::map<std::string, int> calls_;
};

}  // namespace bridge::test
