#pragma once
// The one retrieval engine behind C-MOVE, C-GET, WADO-RS and WADO-URI.
//
//   plan()  resolves UIDs at STUDY/SERIES/IMAGE level (UID lists allowed) to the series that
//           hold them and the exact instance count (the C-MOVE sub-operation count).
//   open()  starts delivering the plan's instances. Series already in the instance cache are
//           served from disk; others are downloaded from TCIA (one download per series however
//           many callers want it: single flight) and each instance is handed out as soon as its
//           ZIP entry is complete, so the first C-STORE / multipart part leaves long before the
//           series download ends.

#include "bridge/common/RequestContext.h"
#include "bridge/query/Query.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bridge {

struct RetrieveRequest {
    QueryLevel level = QueryLevel::Study;  ///< Patient is accepted too (PatientID required)
    std::vector<std::string> patientIds;
    std::vector<std::string> studyInstanceUids;
    std::vector<std::string> seriesInstanceUids;
    std::vector<std::string> sopInstanceUids;
    CollectionScope scope;
};

struct SeriesLocator {
    std::string collection;
    std::string patientId;
    std::string studyInstanceUid;
    std::string seriesInstanceUid;
    std::int64_t imageCount = 0;  ///< instances in the whole series
    std::int64_t fileSize = 0;    ///< bytes, for progress
    /// When set, only these instances of the series are wanted (IMAGE-level retrieve).
    std::optional<std::vector<std::string>> sopInstanceUids;
};

struct RetrievePlan {
    std::vector<SeriesLocator> series;
    std::size_t instanceCount = 0;  ///< total instances the plan will deliver if all goes well
    std::int64_t totalBytes = 0;
};

/// One instance, as a shared immutable Part-10 byte buffer (no copy per consumer).
struct DicomInstance {
    std::string studyInstanceUid;
    std::string seriesInstanceUid;
    std::string sopInstanceUid;
    std::string sopClassUid;
    std::string transferSyntaxUid;
    std::shared_ptr<const std::vector<std::uint8_t>> bytes;
};

class InstanceStream {
public:
    enum class Status { Instance, Waiting, End };
    virtual ~InstanceStream() = default;
    /// Waits up to `wait` for the next instance. Instance: `out` is filled. Waiting: nothing yet
    /// (the adapter may send a Pending / keep-alive and call again). End: all delivered or failed.
    /// Throws BridgeError(Cancelled) after cancel(); other errors are recorded as failures, not thrown.
    virtual Status next(DicomInstance& out, std::chrono::milliseconds wait) = 0;
    /// After End: SOP Instance UIDs that were expected but could not be delivered, plus a
    /// count of expected instances whose UID is unknown (download failed before listing).
    virtual std::vector<std::string> failedSopInstanceUids() const = 0;
    /// The TOTAL of failed instances: failedSopInstanceUids().size() plus the unknown-UID ones
    /// (so failedCount() == 0 means nothing failed).
    virtual std::size_t failedCount() const = 0;
    /// Human-readable reason of the first failure, for ErrorComment / logs.
    virtual std::string failureReason() const = 0;
    virtual void cancel() = 0;
};

class RetrieveService {
public:
    virtual ~RetrieveService() = default;
    /// Throws BridgeError(NotFound) when nothing matches, InvalidArgument for a bad request.
    virtual RetrievePlan plan(const RetrieveRequest& request, const RequestContext& context) = 0;
    virtual std::unique_ptr<InstanceStream> open(const RetrievePlan& plan, const RequestContext& context) = 0;
};

}  // namespace bridge
