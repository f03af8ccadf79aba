#include "dimse/AssociationPolicy.h"

#include <dcmtk/dcmdata/dcuid.h>

#include <cstring>
#include <set>

#include "bridge/common/Text.h"

namespace bridge::dimse {
namespace {

bool sameHost(const std::string& configured, const std::string& peer) {
    auto norm = [](const std::string& h) { return h == "localhost" ? std::string("127.0.0.1") : h; };
    return norm(configured) == norm(peer);
}

const char* const kQuerySopClasses[] = {
    UID_VerificationSOPClass,
    UID_FINDPatientRootQueryRetrieveInformationModel,
    UID_FINDStudyRootQueryRetrieveInformationModel,
    UID_MOVEPatientRootQueryRetrieveInformationModel,
    UID_MOVEStudyRootQueryRetrieveInformationModel,
    UID_GETPatientRootQueryRetrieveInformationModel,
    UID_GETStudyRootQueryRetrieveInformationModel,
};

const char* const kQueryTransferSyntaxes[] = {
    UID_LittleEndianExplicitTransferSyntax,
    UID_BigEndianExplicitTransferSyntax,
    UID_LittleEndianImplicitTransferSyntax,
};

// C-GET storage contexts: uncompressed first (we can always produce those by decoding), then
// the compressed syntaxes TCIA data comes in, which we can send only as they are.
const char* const kStorageTransferSyntaxes[] = {
    UID_LittleEndianExplicitTransferSyntax,
    UID_LittleEndianImplicitTransferSyntax,
    UID_BigEndianExplicitTransferSyntax,
    UID_JPEGProcess14SV1TransferSyntax,
    UID_JPEGProcess14TransferSyntax,
    UID_JPEGProcess1TransferSyntax,
    UID_JPEGProcess2_4TransferSyntax,
    UID_JPEGLSLosslessTransferSyntax,
    UID_JPEGLSLossyTransferSyntax,
    UID_JPEG2000LosslessOnlyTransferSyntax,
    UID_JPEG2000TransferSyntax,
    UID_RLELosslessTransferSyntax,
    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
};

}  // namespace

AssociationDecision decideAssociation(const DimseSettings& settings,
                                      const std::function<bool(const std::string&)>& isKnownCalledAet,
                                      const std::string& callingAet, const std::string& calledAet,
                                      const std::string& peerAddress) {
    bool calledOk = calledAet == settings.aeTitle || (isKnownCalledAet && isKnownCalledAet(calledAet));
    if (!calledOk) return AssociationDecision::CalledAeNotRecognized;
    if (!settings.allowedCallingAets.empty()) {
        if (!settings.allowedCallingAets.count(callingAet))
            return AssociationDecision::CallingAeNotRecognized;
        if (settings.checkCallerHost) {
            auto it = settings.peers.find(callingAet);
            if (it == settings.peers.end() || !sameHost(it->second.host, peerAddress))
                return AssociationDecision::CallingHostNotAllowed;
        }
    }
    return AssociationDecision::Accept;
}

std::string grantsByAetProblem(const DimseSettings& dimse, const AccessSettings& access) {
    std::set<std::string> granted;
    for (const auto& [collection, aets] : access.grantsByAet)
        for (const auto& ae : aets) granted.insert(trimSpaces(ae));
    if (granted.empty()) return {};
    const std::string fix =
        ": any peer can call itself that AE title. Bind each granted AE to its host: list it in "
        "dimse.allowedCallingAets, give it a dimse.peers entry with its host, and set dimse.checkCallerHost "
        "to true (or remove access.grantsByAet)";
    if (!dimse.checkCallerHost)
        return "access.grantsByAet grants restricted collections by calling AE title but dimse.checkCallerHost is "
               "false" + fix;
    for (const auto& ae : granted) {
        bool listed = false;
        for (const auto& allowed : dimse.allowedCallingAets)
            if (trimSpaces(allowed) == ae) listed = true;
        if (!listed)
            return "access.grantsByAet grants AE '" + ae + "', which is not in dimse.allowedCallingAets" + fix;
        auto peer = dimse.peers.find(ae);
        if (peer == dimse.peers.end() || trimSpaces(peer->second.host).empty())
            return "access.grantsByAet grants AE '" + ae + "', which has no dimse.peers entry with a host" + fix;
    }
    return {};
}

const char* const* queryTransferSyntaxes(int& count) {
    count = static_cast<int>(sizeof(kQueryTransferSyntaxes) / sizeof(kQueryTransferSyntaxes[0]));
    return kQueryTransferSyntaxes;
}

OFCondition acceptPresentationContexts(T_ASC_Parameters* params) {
    int tsCount = 0;
    const char* const* ts = queryTransferSyntaxes(tsCount);
    OFCondition cond = ASC_acceptContextsWithPreferredTransferSyntaxes(
        params, const_cast<const char**>(kQuerySopClasses),
        static_cast<int>(sizeof(kQuerySopClasses) / sizeof(kQuerySopClasses[0])),
        const_cast<const char**>(ts), tsCount);
    if (cond.bad()) return cond;

    const int storageTsCount =
        static_cast<int>(sizeof(kStorageTransferSyntaxes) / sizeof(kStorageTransferSyntaxes[0]));
    int n = ASC_countPresentationContexts(params);
    for (int i = 0; i < n; ++i) {
        T_ASC_PresentationContext pc;
        if (ASC_getPresentationContext(params, i, &pc).bad()) continue;
        if (!dcmIsaStorageSOPClassUID(pc.abstractSyntax, ESSC_All)) continue;
        // Only for C-GET: the requester must take the SCP role of the Storage Service Class.
        if (pc.proposedRole != ASC_SC_ROLE_SCP && pc.proposedRole != ASC_SC_ROLE_SCUSCP) continue;
        // Accept least wanted first: a later accept overrides an earlier one (as dcmqrscp does).
        for (int k = storageTsCount - 1; k >= 0; --k) {
            for (int j = 0; j < static_cast<int>(pc.transferSyntaxCount); ++j) {
                if (std::strcmp(pc.proposedTransferSyntaxes[j], kStorageTransferSyntaxes[k]) == 0) {
                    cond = ASC_acceptPresentationContext(params, pc.presentationContextID,
                                                         kStorageTransferSyntaxes[k], pc.proposedRole);
                    if (cond.bad()) return cond;
                }
            }
        }
    }
    return EC_Normal;
}

}  // namespace bridge::dimse
