#pragma once
// Test helper (header-only: bridge/query is not linked into bridge_test_support, only into the
// suites that include this): terse construction of Query values for table-style tests.

#include <string>
#include <utility>
#include <vector>

#include "bridge/query/Query.h"

namespace bridge::test {

/// A query key with no VR (the engine looks it up): K(DCM_PatientID, "TCGA*"); empty = return key.
inline QueryKey K(const DcmTagKey& tag, std::string value = "") {
    return QueryKey{tag, EVR_UNKNOWN, std::move(value)};
}

/// A query at `level` in `model` with `keys`.
inline Query makeQuery(QueryLevel level, std::vector<QueryKey> keys,
                       InformationModel model = InformationModel::StudyRoot) {
    Query q;
    q.level = level;
    q.model = model;
    q.keys = std::move(keys);
    return q;
}

}  // namespace bridge::test
