#pragma once
// The one error vocabulary of the bridge.
//
// Every failure that crosses a layer is a BridgeError carrying an ErrorCode. The adapters map
// the code through errorMapping() -- one table -- to an HTTP status + JSON body (web/) and to a
// DIMSE status + ErrorComment (dimse/). Never let a BridgeError (or anything else) escape into a
// DCMTK callback or a Poco request handler: catch at the adapter edge and translate.

#include <cstdint>
#include <stdexcept>
#include <string>

namespace bridge {

enum class ErrorCode {
    InvalidArgument,     ///< malformed request: bad identifier, bad QIDO parameter, bad UID
    NotFound,            ///< the UID / resource does not exist (or is not visible to the caller)
    NotAcceptable,       ///< no acceptable media type / transfer syntax
    Forbidden,           ///< the caller is not granted the resource (restricted collection, AE not allowed)
    Unauthorized,        ///< TCIA refused our credentials
    UnknownDestination,  ///< C-MOVE destination AE not configured
    QueryTooBroad,       ///< would need to scan all of TCIA and the catalog cannot answer it
    Unsupported,         ///< valid DICOM, but not something the bridge does (e.g. STOW-RS)
    UpstreamUnavailable, ///< TCIA unreachable, 5xx or 429 after all retries
    UpstreamTimeout,     ///< TCIA did not answer in time
    UpstreamBadResponse, ///< TCIA answered something we could not use (corrupt ZIP, bad JSON)
    Cancelled,           ///< the caller cancelled (C-CANCEL, closed connection)
    Overloaded,          ///< a bounded pool or queue is full
    Unauthenticated,     ///< the HTTP caller presented no valid credentials (auth on): 401 + WWW-Authenticate
    Internal,            ///< a bug: anything else
};

/// How one ErrorCode appears on each wire. Values are PS3.4 / PS3.7 status words and HTTP codes.
struct ErrorMapping {
    ErrorCode code;
    const char* name;           ///< stable machine name, e.g. "invalid-argument" (JSON "error" field)
    int httpStatus;             ///< e.g. 400
    std::uint16_t findStatus;   ///< C-FIND failure status (PS3.4 C.4.1.1.4)
    std::uint16_t moveStatus;   ///< C-MOVE / C-GET failure status (PS3.4 C.4.2.1.5, C.4.3.1.4)
};

/// The single table. Total over ErrorCode.
const ErrorMapping& errorMapping(ErrorCode code);

class BridgeError : public std::runtime_error {
public:
    BridgeError(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const noexcept { return code_; }

private:
    ErrorCode code_;
};

/// Maps any exception (BridgeError or not) to an ErrorCode; unknown ones become Internal.
ErrorCode classifyException(const std::exception& e) noexcept;

}  // namespace bridge
