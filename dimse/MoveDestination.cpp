#include "dimse/MoveDestination.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/diutil.h>

namespace bridge::dimse {
namespace {

// PS3.8 9.3.2.2: presentation context IDs are odd numbers 1..255, so at most 128 contexts.
constexpr std::size_t kMaxContexts = 128;

}  // namespace

MoveDestination::MoveDestination(DicomPeer peer, Options options, MoveOriginator originator)
    : peer_(std::move(peer)), options_(std::move(options)), originator_(std::move(originator)) {}

MoveDestination::~MoveDestination() {
    release();
    if (network_) ASC_dropNetwork(&network_);
}

bool MoveDestination::covers(const std::string& sopClass, const std::string& ts) const {
    if (!proposed_.count({sopClass, UID_LittleEndianExplicitTransferSyntax})) return false;
    // Explicit VR LE rides in the shared context (peers pick it first of the two); any other
    // stored syntax needs a context of its own, so that it can be sent unchanged.
    return ts.empty() || ts == UID_LittleEndianExplicitTransferSyntax || exact_.count({sopClass, ts});
}

void MoveDestination::propose(const std::string& sopClass, const std::string& ts) {
    if (!proposed_.count({sopClass, UID_LittleEndianExplicitTransferSyntax})) {
        contexts_.push_back(
            {sopClass, {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax}});
        proposed_.insert({sopClass, UID_LittleEndianExplicitTransferSyntax});
        proposed_.insert({sopClass, UID_LittleEndianImplicitTransferSyntax});
    }
    // The stored syntax alone in a context (compressed, Implicit VR LE, Big Endian): the peer
    // either accepts it -- the dataset then leaves byte for byte as cached, no transcode -- or
    // refuses it and the shared context above carries a decoded copy.
    if (!ts.empty() && ts != UID_LittleEndianExplicitTransferSyntax && !exact_.count({sopClass, ts})) {
        contexts_.push_back({sopClass, {ts}});
        proposed_.insert({sopClass, ts});
        exact_.insert({sopClass, ts});
    }
    if (contexts_.size() <= kMaxContexts) return;
    // Drop the oldest contexts, and forget them in proposed_ too: covers() must not claim a SOP
    // class whose context is no longer proposed (issue 9 #10), or its instance would be sent on
    // an association that cannot carry it instead of re-opening one that can.
    contexts_.erase(contexts_.begin(), contexts_.end() - static_cast<std::ptrdiff_t>(kMaxContexts));
    proposed_.clear();
    exact_.clear();
    for (const auto& [sop, syntaxes] : contexts_) {
        for (const auto& syntax : syntaxes) proposed_.insert({sop, syntax});
        if (syntaxes.size() == 1) exact_.insert({sop, syntaxes.front()});
    }
}

void MoveDestination::release() {
    onStop_.reset();  // before the socket can be closed (and its number reused)
    if (!association_) return;
    if (ASC_releaseAssociation(association_).bad()) ASC_abortAssociation(association_);
    ASC_destroyAssociation(&association_);
    association_ = nullptr;
}

bool MoveDestination::connect() {
    if (!network_) {
        OFCondition cond = ASC_initializeNetwork(NET_REQUESTOR, 0, options_.acseTimeoutSeconds, &network_);
        if (cond.bad()) {
            broken_ = true;
            brokenReason_ = std::string("cannot initialise network: ") + cond.text();
            return false;
        }
    }
    T_ASC_Parameters* params = nullptr;
    ASC_createAssociationParameters(&params, options_.maxPdu);
    ASC_setAPTitles(params, options_.callingAet.c_str(), peer_.aeTitle.c_str(), nullptr);
    std::string address = peer_.host + ":" + std::to_string(peer_.port);
    ASC_setPresentationAddresses(params, "localhost", address.c_str());
    unsigned char id = 1;
    for (const auto& [sopClass, syntaxes] : contexts_) {
        std::vector<const char*> ts;
        for (const auto& s : syntaxes) ts.push_back(s.c_str());
        ASC_addPresentationContext(params, id, sopClass.c_str(), ts.data(), static_cast<int>(ts.size()));
        id = static_cast<unsigned char>(id + 2);
    }
    OFCondition cond = ASC_requestAssociation(network_, params, &association_);
    if (cond.bad()) {
        if (cond == DUL_ASSOCIATIONREJECTED) {
            brokenReason_ = "destination " + peer_.aeTitle + " rejected the association";
        } else {
            brokenReason_ = "cannot reach " + peer_.aeTitle + " at " + address + ": " + cond.text();
        }
        if (association_) {
            ASC_destroyAssociation(&association_);
        } else {
            ASC_destroyAssociationParameters(&params);
        }
        association_ = nullptr;
        broken_ = true;
        return false;
    }
    if (ASC_countAcceptedPresentationContexts(association_->params) == 0) {
        brokenReason_ = "destination " + peer_.aeTitle + " accepted no presentation context";
        release();
        broken_ = true;
        return false;
    }
    onStop_ = std::make_unique<ShutdownOnStop>(association_, options_.stop);
    return true;
}

StoreTarget::Result MoveDestination::store(const DicomInstance& instance) {
    if (broken_) return {Outcome::Failure, brokenReason_};
    std::string sopClass = instance.sopClassUid;
    std::string ts = instance.transferSyntaxUid;
    if (sopClass.empty() || ts.empty()) {
        // Learn them from the object itself.
        try {
            auto file = loadInstance(instance);
            OFString v;
            if (sopClass.empty() && file->getDataset()->findAndGetOFString(DCM_SOPClassUID, v).good())
                sopClass = v.c_str();
            if (ts.empty()) ts = DcmXfer(file->getDataset()->getOriginalXfer()).getXferID();
        } catch (const std::exception& e) {
            return {Outcome::Failure, e.what()};
        }
    }
    if (!covers(sopClass, ts) || !association_) {
        bool needNew = !covers(sopClass, ts);
        propose(sopClass, ts);
        if (needNew || !association_) {
            release();
            if (!connect()) return {Outcome::Failure, brokenReason_};
        }
    }
    DicomInstance copy = instance;
    copy.sopClassUid = sopClass;
    copy.transferSyntaxUid = ts;
    bool lost = false;
    Result r = sendCStore(association_, copy, originator_, options_.dimseTimeoutSeconds, &lost);
    if (lost) {
        // The association is gone; try once to re-open it for the following instances.
        if (association_) {
            ASC_abortAssociation(association_);
            ASC_destroyAssociation(&association_);
            association_ = nullptr;
        }
    }
    return r;
}

}  // namespace bridge::dimse
