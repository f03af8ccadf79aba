#pragma once
// Test double: a MetadataSource over in-memory TCIA rows that filters like TCIA does (every
// non-empty filter field compared exactly, case-insensitively; API.md 2.4) and logs each call,
// so tests can assert which TCIA calls a plan made. Not thread-safe (tests are single-threaded).

#include "bridge/query/MetadataSource.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bridge::test {

class InMemoryMetadataSource : public MetadataSource {
public:
    std::vector<std::string> collectionList;
    std::set<std::string> restricted;
    std::vector<tcia::PatientRecord> patientRows;
    std::vector<tcia::StudyRecord> studyRows;
    std::vector<tcia::SeriesRecord> seriesRows;
    std::map<std::string, std::vector<std::string>> sopsBySeries;
    bool canScan = false;  ///< like a catalog that harvested everything

    /// One entry per call, e.g. "series(Collection=LIDC-IDRI,PatientID=P1)".
    std::vector<std::string> calls;
    /// Runs before every call (tests use it to cancel between calls).
    std::function<void(const std::string&)> onCall;

    std::size_t count(const std::string& prefix) const;
    /// True when some series() call had no filter at all.
    bool unfilteredSeriesCall() const;

    std::vector<std::string> collections(const RequestContext& context) override;
    std::set<std::string> restrictedCollections(const RequestContext& context) override { return restricted; }
    /// What TCIA lists anonymously; nullopt (default) = this source cannot tell.
    std::optional<std::set<std::string>> publicList;
    std::optional<std::set<std::string>> publicCollections(const RequestContext& context) override { return publicList; }
    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& filter, const RequestContext& context) override;
    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& filter, const RequestContext& context) override;
    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& filter, const RequestContext& context) override;
    std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) override;
    std::optional<std::vector<tcia::PatientRecord>> scanPatients(const Query&, const std::vector<std::string>&) override;
    std::optional<std::vector<tcia::StudyRecord>> scanStudies(const Query&, const std::vector<std::string>&) override;
    std::optional<std::vector<tcia::SeriesRecord>> scanSeries(const Query&, const std::vector<std::string>&) override;

private:
    void log(const std::string& call);
};

/// A realistic little TCIA: LIDC-IDRI, RIDER Lung CT, CPTAC-LUAD and a restricted Secret-Trial;
/// a PatientID (SHARED-1) present in two collections (and in the restricted one), a Cyrillic
/// patient name, CT/SEG/PT series with ImageCounts, SOP Instance UIDs per series.
InMemoryMetadataSource makeSampleTcia();

}  // namespace bridge::test
