#pragma once
// The C-STORE SCU side of one C-MOVE: ONE association to the destination, reused for every
// sub-operation (Orthanc's DicomStoreUserConnection; a new association per instance is what
// makes GIA slow). Opened lazily at the first instance, because only then are its SOP class and
// transfer syntax known; when an instance brings a SOP class (or a stored transfer syntax) not
// proposed yet, the association is released and re-opened with the union. For each SOP class it
// proposes the instance's stored syntax alone in one context (unless it is Explicit VR Little
// Endian) and Explicit + Implicit VR Little Endian in another: the stored bytes leave unchanged
// when the peer takes their syntax (CStoreSender's pass-through), and a peer that refuses it
// still gets a decoded copy. Not thread-safe: one C-MOVE thread owns it.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "bridge/common/Config.h"
#include "dimse/AssociationSocket.h"
#include "dimse/CStoreSender.h"
#include "dimse/StoreTarget.h"

namespace bridge::dimse {

class MoveDestination : public StoreTarget {
public:
    struct Options {
        std::string callingAet;  ///< our AE title
        std::uint32_t maxPdu = 116794;
        int acseTimeoutSeconds = 30;
        int dimseTimeoutSeconds = 60;
        /// The server's stop: shuts the open sub-association's socket down (ShutdownOnStop), so
        /// a destination that stopped answering does not hold stop() for dimseTimeoutSeconds.
        std::stop_token stop;
    };
    MoveDestination(DicomPeer peer, Options options, MoveOriginator originator);
    ~MoveDestination() override;  ///< releases the association
    MoveDestination(const MoveDestination&) = delete;
    MoveDestination& operator=(const MoveDestination&) = delete;

    Result store(const DicomInstance& instance) override;
    bool broken() const override { return broken_; }
    std::string brokenReason() const override { return brokenReason_; }

private:
    bool covers(const std::string& sopClass, const std::string& transferSyntax) const;
    void propose(const std::string& sopClass, const std::string& transferSyntax);
    bool connect();
    void release();

    DicomPeer peer_;
    Options options_;
    MoveOriginator originator_;
    T_ASC_Network* network_ = nullptr;
    T_ASC_Association* association_ = nullptr;
    std::unique_ptr<ShutdownOnStop> onStop_;  ///< while association_ is open
    std::vector<std::pair<std::string, std::vector<std::string>>> contexts_;  ///< proposed (SOP class, TSs)
    std::set<std::pair<std::string, std::string>> proposed_;
    std::set<std::pair<std::string, std::string>> exact_;  ///< (SOP class, TS) proposed alone in a context
    bool broken_ = false;
    std::string brokenReason_;
};

}  // namespace bridge::dimse
