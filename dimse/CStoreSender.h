#pragma once
// One C-STORE sub-operation over an established association (PS3.4 C.4.2.2 / C.4.3.2):
// picks the accepted presentation context for the instance's SOP class, preferring its own
// transfer syntax; otherwise decodes it with the registered DCMTK codecs (JPEG, JPEG-LS, RLE)
// into the accepted uncompressed syntax. Blocking; the association must not be used by another
// thread meanwhile.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmnet/assoc.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dimse/StoreTarget.h"

namespace bridge::dimse {

/// Set on C-MOVE sub-operations (MoveOriginatorApplicationEntityTitle / MessageID, PS3.7 9.1.1).
struct MoveOriginator {
    std::string aeTitle;
    std::uint16_t messageId = 0;
};

/// Parses a Part-10 buffer (or a bare dataset). Throws BridgeError(UpstreamBadResponse).
std::unique_ptr<DcmFileFormat> loadInstance(const DicomInstance& instance);

/// Registers the DCMTK decoders once per process (thread-safe).
void registerDecoders();

StoreTarget::Result sendCStore(T_ASC_Association* assoc, const DicomInstance& instance,
                               const std::optional<MoveOriginator>& originator, int dimseTimeoutSeconds,
                               bool* associationLost = nullptr);

}  // namespace bridge::dimse
