#pragma once
// The contract of a TCIA backend: one method per NBIA search/download endpoint, typed.
// TciaClient (HTTP, v4 or v1) implements it. Implementations are thread-safe; every call
// blocks the calling thread; failures throw BridgeError (UpstreamUnavailable, UpstreamTimeout,
// UpstreamBadResponse, Unauthorized, NotFound, Cancelled). An empty TCIA body is an empty vector.
// Every call takes the request's context: its stop signal (C-CANCEL, a closed connection, the
// deadline) ends the call at once, mid-retry or mid-download (BridgeError Cancelled, or
// UpstreamTimeout for the deadline), and its id tags the TCIA request log lines.

#include "bridge/common/RequestContext.h"
#include "bridge/tcia/Model.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
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
    /// Lower-case hex MD5 of `bytes`, computed where they were produced (the ZIP reader, as they
    /// inflated); empty when the source computed none. Consumers keep it instead of re-hashing.
    std::string md5;
    /// Optional: where `bytes` may go back once nobody needs them (the source reuses the
    /// buffer for a later instance: no fresh allocation, zero-fill and page faults). Never
    /// throws. Empty = just free them.
    std::function<void(std::vector<std::uint8_t>&&)> recycle;
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

/// Receives the records of one TCIA answer in batches (at most the requested batch size each),
/// on the calling thread, while the answer is still arriving. May throw to abort the call.
template <class Record>
using BatchSink = std::function<void(std::vector<Record>&&)>;

class TciaApi {
public:
    virtual ~TciaApi() = default;

    virtual std::vector<std::string> collections(const RequestContext& context) = 0;
    virtual std::vector<std::string> modalityValues(const ValueFilter& filter, const RequestContext& context) = 0;
    virtual std::vector<std::string> bodyPartValues(const ValueFilter& filter, const RequestContext& context) = 0;
    virtual std::vector<std::string> manufacturerValues(const ValueFilter& filter, const RequestContext& context) = 0;

    virtual std::vector<PatientRecord> patients(const PatientFilter& filter, const RequestContext& context) = 0;
    virtual std::vector<PatientRecord> patientsByCollectionAndModality(const std::string& collection,
                                                                       const std::string& modality, const RequestContext& context) = 0;
    /// fromDate is DICOM DA; converted to each version's format (v1 yyyy/MM/dd, v4 MM-dd-yyyy).
    virtual std::vector<PatientRecord> newPatientsInCollection(const std::string& collection,
                                                               const std::string& fromDate, const RequestContext& context) = 0;

    virtual std::vector<StudyRecord> studies(const StudyFilter& filter, const RequestContext& context) = 0;
    virtual std::vector<StudyRecord> newStudiesInPatientCollection(const std::string& collection,
                                                                   const std::string& patientId,
                                                                   const std::string& fromDate, const RequestContext& context) = 0;

    virtual std::vector<SeriesRecord> series(const SeriesFilter& filter, const RequestContext& context) = 0;
    /// fromDate is DICOM DA (v1 sends dd/MM/yyyy, v4 MM-dd-yyyy).
    virtual std::vector<SeriesRecord> updatedSeries(const std::string& fromDate, const RequestContext& context) = 0;
    virtual SeriesSize seriesSize(const std::string& seriesInstanceUid, const RequestContext& context) = 0;
    virtual std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) = 0;

    /// getImage, streamed: entries are handed to sink as they complete (LICENSE and
    /// md5hashes.csv skipped). Retries truncated/corrupt downloads. Memory: one instance.
    /// Returns the number of instances delivered.
    virtual std::size_t downloadSeries(const std::string& seriesInstanceUid, const DownloadOptions& options,
                                       const InstanceSink& sink, const RequestContext& context) = 0;

    /// getSingleImage: one Part-10 file.
    virtual std::vector<std::uint8_t> singleImage(const std::string& seriesInstanceUid,
                                                  const std::string& sopInstanceUid, const RequestContext& context) = 0;

    // ---- Streaming variants for the harvest (additive): the same calls and errors as
    // patients() / studies() / series(), but the records reach `sink` in batches of at most
    // `batchSize` while the answer arrives, so a whole answer is never held. The defaults call
    // the plain method and split its result (implementations that can stream override them).
    // `context` is checked between batches (BridgeError Cancelled).
    virtual void patientBatches(const PatientFilter& filter, std::size_t batchSize,
                                const BatchSink<PatientRecord>& sink, const RequestContext& context) {
        splitIntoBatches(patients(filter, context), batchSize, sink, context);
    }
    virtual void studyBatches(const StudyFilter& filter, std::size_t batchSize, const BatchSink<StudyRecord>& sink,
                              const RequestContext& context) {
        splitIntoBatches(studies(filter, context), batchSize, sink, context);
    }
    virtual void seriesBatches(const SeriesFilter& filter, std::size_t batchSize, const BatchSink<SeriesRecord>& sink,
                               const RequestContext& context) {
        splitIntoBatches(series(filter, context), batchSize, sink, context);
    }

    // ---- Withdrawals (sources with releases: IDC; docs/idc.md). NBIA: never pending. ----
    /// True when the last updatedSeries() saw a new release of the source, so records the
    /// catalog holds may have been withdrawn; stays true until withdrawalsApplied().
    virtual bool withdrawalCheckPending() { return false; }
    /// Every SeriesInstanceUID the source's current release lists in `collection`; a
    /// collection the source positively no longer lists -> empty; nullopt when the source cannot
    /// tell (e.g. its collection directory came from a fallback without DOIs): nothing of that
    /// collection may be withdrawn then. Called only while a check is pending.
    virtual std::optional<std::vector<std::string>> listedSeriesUids(const std::string& collection,
                                                                     const RequestContext& context) {
        (void)collection;
        (void)context;
        return std::nullopt;
    }
    /// The catalog removed what the current release no longer lists.
    virtual void withdrawalsApplied() {}

protected:
    template <class Record>
    static void splitIntoBatches(std::vector<Record>&& all, std::size_t batchSize, const BatchSink<Record>& sink,
                                 const RequestContext& context) {
        if (batchSize == 0) batchSize = 1;
        for (std::size_t i = 0; i < all.size(); i += batchSize) {
            context.throwIfCancelled();
            const std::size_t end = std::min(all.size(), i + batchSize);
            sink(std::vector<Record>(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(i)),
                                     std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(end))));
        }
    }
};

}  // namespace bridge::tcia
