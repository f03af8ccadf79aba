#pragma once
// Where C-MOVE / C-GET sub-operations go: a C-STORE SCU over some association.
// MoveDestination opens its own association to the move destination; the C-GET target sends
// over the requester's association. Used by one thread at a time.

#include <string>

#include "bridge/retrieve/RetrieveService.h"

namespace bridge::dimse {

class StoreTarget {
public:
    enum class Outcome { Success, Warning, Failure };
    struct Result {
        Outcome outcome = Outcome::Failure;
        std::string reason;  ///< empty on success
    };
    virtual ~StoreTarget() = default;
    /// Sends one instance (transcoding when the peer refused its transfer syntax). Blocking.
    virtual Result store(const DicomInstance& instance) = 0;
    /// True once no further instance can be stored (destination refused, association lost).
    virtual bool broken() const = 0;
    /// Why broken() is true.
    virtual std::string brokenReason() const = 0;
};

}  // namespace bridge::dimse
