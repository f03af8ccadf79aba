#pragma once
// One C-STORE sub-operation over an established association (PS3.4 C.4.2.2 / C.4.3.2).
// When the destination accepted the instance's stored transfer syntax, the dataset bytes that
// follow the Part-10 meta header are sent as they are -- no DCMTK parse, no re-encoding, no copy
// (sendStoredDataset). Otherwise the instance is parsed and decoded with the registered DCMTK
// codecs (JPEG, JPEG-LS, RLE) into the accepted syntax of a context of its SOP class.
// Blocking; the association must not be used by another thread meanwhile.

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

/// Parses a Part-10 buffer (or a bare dataset): parsePart10 named by its SOP Instance UID.
/// Throws BridgeError(UpstreamBadResponse).
std::unique_ptr<DcmFileFormat> loadInstance(const DicomInstance& instance);

/// The pass-through: sends the C-STORE-RQ and the instance's dataset bytes unchanged when the
/// bytes are Part-10 and the association has a context for its SOP class whose ACCEPTED syntax
/// is the stored one; nullopt (nothing sent) otherwise. Needs sopClassUid and sopInstanceUid.
std::optional<StoreTarget::Result> sendStoredDataset(T_ASC_Association* assoc, const DicomInstance& instance,
                                                     const std::optional<MoveOriginator>& originator,
                                                     int dimseTimeoutSeconds, bool* associationLost = nullptr);

/// sendStoredDataset when it applies, else parse + transcode + DIMSE send of the dataset; both
/// read the C-STORE-RSP with prompt ACKs (awaitPeer).
StoreTarget::Result sendCStore(T_ASC_Association* assoc, const DicomInstance& instance,
                               const std::optional<MoveOriginator>& originator, int dimseTimeoutSeconds,
                               bool* associationLost = nullptr);

}  // namespace bridge::dimse
