#pragma once
// Who may open an association, and which presentation contexts the SCP accepts.
//   decideAssociation()   pure: called AE (main AE or a collection AE), optional calling-AE
//                         allow-list with host check (DimseSettings).
//   acceptPresentationContexts()  Verification; Patient/Study Root FIND, MOVE, GET; and, for
//                         C-GET, storage SOP classes when the requester proposes the SCP role
//                         (PS3.7 D.3.3.4 SCP/SCU role selection), like dcmqrscp.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <functional>
#include <string>

#include "bridge/common/Config.h"

namespace bridge::dimse {

enum class AssociationDecision {
    Accept,
    CalledAeNotRecognized,
    CallingAeNotRecognized,
    CallingHostNotAllowed
};

AssociationDecision decideAssociation(const DimseSettings& settings,
                                      const std::function<bool(const std::string&)>& isKnownCalledAet,
                                      const std::string& callingAet, const std::string& calledAet,
                                      const std::string& peerAddress);

/// Issue 9 #8: a grant by calling AE title (access.grantsByAet) is only as strong as the check
/// that the caller IS that AE; without one, any peer calling itself the granted AE sees the
/// restricted collections. Returns why the configuration is unsafe (naming the keys to set),
/// or an empty string when every granted AE is bound to a host: listed in
/// dimse.allowedCallingAets, with a dimse.peers entry giving its host, and dimse.checkCallerHost
/// on. Pure.
std::string grantsByAetProblem(const DimseSettings& dimse, const AccessSettings& access);

/// Accepts the supported presentation contexts of an incoming A-ASSOCIATE-RQ (others are
/// refused: abstract syntax not supported). Returns the DCMTK condition.
OFCondition acceptPresentationContexts(T_ASC_Parameters* params);

/// Transfer syntaxes the SCP accepts for query/retrieve and verification, most wanted first.
const char* const* queryTransferSyntaxes(int& count);

}  // namespace bridge::dimse
