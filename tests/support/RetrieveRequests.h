#pragma once
// Test helper (header-only: bridge/retrieve is not linked into bridge_test_support, only into the
// suites that include this): RetrieveRequest values for one study, one series or some instances.

#include <string>
#include <utility>
#include <vector>

#include "bridge/retrieve/RetrieveService.h"

namespace bridge::test {

/// STUDY level: every series of study `uid`.
inline RetrieveRequest studyRequest(const std::string& uid, CollectionScope scope = {}) {
    RetrieveRequest r;
    r.level = QueryLevel::Study;
    r.studyInstanceUids = {uid};
    r.scope = std::move(scope);
    return r;
}

/// SERIES level: every instance of series `uid`.
inline RetrieveRequest seriesRequest(const std::string& uid, CollectionScope scope = {}) {
    RetrieveRequest r;
    r.level = QueryLevel::Series;
    r.seriesInstanceUids = {uid};
    r.scope = std::move(scope);
    return r;
}

/// IMAGE level: instances `sopUids` of series `seriesUid`.
inline RetrieveRequest imageRequest(const std::string& seriesUid, std::vector<std::string> sopUids,
                                    CollectionScope scope = {}) {
    RetrieveRequest r;
    r.level = QueryLevel::Image;
    r.seriesInstanceUids = {seriesUid};
    r.sopInstanceUids = std::move(sopUids);
    r.scope = std::move(scope);
    return r;
}

}  // namespace bridge::test
