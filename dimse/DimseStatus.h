#pragma once
// DIMSE status words of the bridge's SCP (PS3.4 C.4.1.1.4 C-FIND, C.4.2.1.5 C-MOVE,
// C.4.3.1.4 C-GET) and the pure rules that pick them. Everything here is value-in/value-out.

#include <cstddef>
#include <cstdint>
#include <string>

#include "bridge/common/Error.h"

namespace bridge::dimse {

inline constexpr std::uint16_t kStatusSuccess = 0x0000;
inline constexpr std::uint16_t kStatusPending = 0xFF00;
inline constexpr std::uint16_t kStatusCancel = 0xFE00;
inline constexpr std::uint16_t kStatusSubOperationsWithFailures = 0xB000;
inline constexpr std::uint16_t kStatusUnableToPerformSubOperations = 0xA702;
inline constexpr std::uint16_t kStatusMoveDestinationUnknown = 0xA801;
inline constexpr std::uint16_t kStatusIdentifierDoesNotMatch = 0xA900;
/// C-FIND final status when the configured result cap cut the answer short (see README
/// "C-FIND truncation"): A700 Refused: Out of resources, with an ErrorComment saying so.
inline constexpr std::uint16_t kStatusFindTruncated = 0xA700;

enum class DimseOperation { Find, Move, Get };

/// The failure status of an ErrorCode for one operation (the single table in Error.h).
std::uint16_t failureStatus(ErrorCode code, DimseOperation operation);

/// ErrorComment (0000,0902) is LO: at most 64 characters, no backslash, no control characters.
std::string errorComment(const std::string& message);

/// Sub-operation counters of one C-MOVE / C-GET.
struct SubOperationCounts {
    std::size_t planned = 0;  ///< announced in the first Pending (may grow if more arrive)
    std::size_t completed = 0;
    std::size_t failed = 0;
    std::size_t warning = 0;
    std::size_t remaining() const {
        std::size_t done = completed + failed + warning;
        return planned > done ? planned - done : 0;
    }
};

/// Final status of a retrieve (PS3.4 C.4.2.3.1): FE00 when cancelled; 0000 when every
/// sub-operation succeeded; A702 when none completed (all failed); B000 otherwise.
std::uint16_t retrieveFinalStatus(const SubOperationCounts& counts, bool cancelled);

/// Text for the C-FIND truncation ErrorComment, e.g. "more than 10000 matches; narrow the query".
std::string truncationComment(std::size_t cap);

/// ErrorComment for a C-FIND answered from a catalog still being harvested: the gist of
/// FindCursor::incompleteness() within LO's 64 characters, e.g.
/// "harvest in progress: 37 of 135 collections; results incomplete".
std::string incompleteComment(const std::string& incompleteness);

}  // namespace bridge::dimse
