#pragma once
// The contract of a TCIA backend: one method per NBIA search/download endpoint, typed.
// TciaClient (HTTP, v4 or v1) implements it. Implementations are thread-safe; every call
// blocks the calling thread; failures throw BridgeError (UpstreamUnavailable, UpstreamTimeout,
// UpstreamBadResponse, Unauthorized, NotFound, Cancelled). An empty TCIA body is an empty vector.

#include "bridge/common/CancelToken.h"
#include "bridge/tcia/Model.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bridge::tcia {

/// One DICOM Part-10 file taken out of a getImage ZIP. The UIDs come from its file meta header.
struct DownloadedInstance {
    std::string entryName;          ///< name inside the ZIP, e.g. "00000001.dcm" or "1-001.dcm"
    std::string sopInstanceUid;
    std::string sopClassUid;
    std::string transferSyntaxUid;
    std::vector<std::uint8_t> bytes;  ///< the whole Part-10 file
};

struct DownloadOptions {
    /// Ask for IncludeMD5 (v4) / getImageWithMD5Hash (v1) and check every delivered instance
    /// against md5hashes.csv (TciaSettings::verifyMd5 = false turns it off for a client).
    bool verifyMd5 = true;
    std::optional<std::int64_t> expectedCount; ///< ImageCount; fewer instances => retry, then error
    /// With verifyMd5: md5hashes.csv arrives LAST, after every instance went to the sink. Called
    /// once, on the downloading thread, with the SOP Instance UIDs already delivered whose bytes
    /// do not match it (or that it does not list), before downloadSeries throws
    /// UpstreamBadResponse: the sink's owner must treat exactly those as failed, and must not
    /// consider any instance of the download verified before downloadSeries returned.
    std::function<void(const std::vector<std::string>& sopInstanceUids)> onMd5Mismatch;
};

/// Called once per instance, on the downloading thread, as soon as its ZIP entry is complete.
/// Across internal retries each SOP Instance UID is delivered at most once. May throw to abort.
using InstanceSink = std::function<void(DownloadedInstance&&)>;

class TciaApi {
public:
    virtual ~TciaApi() = default;

    virtual std::vector<std::string> collections() = 0;
    virtual std::vector<std::string> modalityValues(const ValueFilter& filter) = 0;
    virtual std::vector<std::string> bodyPartValues(const ValueFilter& filter) = 0;
    virtual std::vector<std::string> manufacturerValues(const ValueFilter& filter) = 0;

    virtual std::vector<PatientRecord> patients(const PatientFilter& filter) = 0;
    virtual std::vector<PatientRecord> patientsByCollectionAndModality(const std::string& collection,
                                                                       const std::string& modality) = 0;
    /// fromDate is DICOM DA; converted to each version's format (v1 yyyy/MM/dd, v4 MM-dd-yyyy).
    virtual std::vector<PatientRecord> newPatientsInCollection(const std::string& collection,
                                                               const std::string& fromDate) = 0;

    virtual std::vector<StudyRecord> studies(const StudyFilter& filter) = 0;
    virtual std::vector<StudyRecord> newStudiesInPatientCollection(const std::string& collection,
                                                                   const std::string& patientId,
                                                                   const std::string& fromDate) = 0;

    virtual std::vector<SeriesRecord> series(const SeriesFilter& filter) = 0;
    /// fromDate is DICOM DA (v1 sends dd/MM/yyyy, v4 MM-dd-yyyy).
    virtual std::vector<SeriesRecord> updatedSeries(const std::string& fromDate) = 0;
    virtual SeriesSize seriesSize(const std::string& seriesInstanceUid) = 0;
    virtual std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid) = 0;

    /// getImage, streamed: entries are handed to sink as they complete (LICENSE and
    /// md5hashes.csv skipped). Retries truncated/corrupt downloads. Memory: one instance.
    /// Returns the number of instances delivered.
    virtual std::size_t downloadSeries(const std::string& seriesInstanceUid, const DownloadOptions& options,
                                       const InstanceSink& sink, const CancelToken& cancel) = 0;

    /// getSingleImage: one Part-10 file.
    virtual std::vector<std::uint8_t> singleImage(const std::string& seriesInstanceUid,
                                                  const std::string& sopInstanceUid) = 0;
};

}  // namespace bridge::tcia
