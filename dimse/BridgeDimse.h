#pragma once
// Wires the DIMSE adapter to the core: DimseDependencies from a BridgeServices (query engine,
// retrieval engine, AccessPolicy for collection scopes and collection AE titles).

#include "bridge/retrieve/BridgeServices.h"
#include "dimse/DimseDependencies.h"

namespace bridge::dimse {

/// The returned struct refers to `services`, which must outlive it and any server using it.
DimseDependencies makeDimseDependencies(BridgeServices& services);

}  // namespace bridge::dimse
