#pragma once
// Wires the DIMSE adapter to the core: DimseDependencies from a BridgeServices (query engine,
// retrieval engine, AccessPolicy for collection scopes and collection AE titles).

#include "bridge/retrieve/BridgeServices.h"
#include "dimse/DimseDependencies.h"

namespace bridge::dimse {

/// The returned struct refers to `services`, which must outlive it and any server using it.
/// Throws BridgeError(InvalidArgument) naming the keys when access.grantsByAet is not bound to
/// hosts (grantsByAetProblem, dimse/AssociationPolicy.h): the server must not start so.
DimseDependencies makeDimseDependencies(BridgeServices& services);

}  // namespace bridge::dimse
