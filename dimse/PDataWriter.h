#pragma once
// A whole DIMSE message (command set + dataset) as P-DATA-TF PDUs (PS3.8 9.3.5), written with as
// few system calls as the socket takes: every PDU's 12-byte header and its fragment are iovecs of
// one writev (IOV_MAX of them per call), instead of DUL's two write()s per PDU (~64 per 0.5 MB
// instance at a 16 KB PDU). The fragments point into the caller's buffers: no copy.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <sys/uio.h>

namespace bridge::dimse {

/// The PDUs of one message: headers[i] belongs to the fragment iov[2i+1]; iov[2i] points at
/// headers[i]. Pure (no I/O); keeps pointers into `command` and `dataset`, which must outlive it.
struct PDataPlan {
    std::vector<std::array<std::uint8_t, 12>> headers;
    std::vector<iovec> iov;
    std::size_t totalBytes = 0;
};

/// Cuts `command` and then `dataset` into fragments of at most `maxFragment` bytes (> 0), each
/// in a P-DATA-TF PDU of one PDV for presentation context `presId`: message control header bit 0
/// set on command fragments, bit 1 on the last fragment of each. An empty dataset gives none.
PDataPlan planPData(std::uint8_t presId, std::span<const std::uint8_t> command,
                    std::span<const std::uint8_t> dataset, std::size_t maxFragment);

/// Writes every iovec to `fd` (blocking): one writev per IOV_MAX of them, resuming after partial
/// writes and EINTR (`iov` is consumed). DULC_TCPIOERROR with the reason on failure.
OFCondition writeIov(int fd, std::vector<iovec>& iov);

/// Sends `command` + `dataset` on `assoc` as P-DATA-TF PDUs of the fragment size DCMTK's DIMSE
/// uses on it (sendPDVLength: the peer's maximum PDU length, capped and minus the headers).
/// Plain TCP: one writev per IOV_MAX iovecs, continuing after partial writes and EINTR. Over
/// TLS (or without a socket) it falls back to DUL_WritePDVs. Blocking, like DUL.
OFCondition writeDimseMessage(T_ASC_Association* assoc, T_ASC_PresentationContextID presId,
                              std::span<const std::uint8_t> command, std::span<const std::uint8_t> dataset);

}  // namespace bridge::dimse
