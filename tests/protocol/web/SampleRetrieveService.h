#pragma once
// Test double of RetrieveService for the web protocol tests: serves the emulator's sample
// data straight from disk (real DICOM files, real transfer syntaxes), delivering instances one
// at a time with a "Waiting" before each so the adapter's streaming path is exercised.
// Used until/unless the real RetrieveEngine is wired in (see WebFixture.h).

#include "bridge/retrieve/RetrieveService.h"

#include <map>
#include <string>
#include <vector>

namespace bridge::test {

class SampleRetrieveService : public RetrieveService {
public:
    struct File {
        std::string path, collection, study, series, sop, sopClass, transferSyntax;
    };
    explicit SampleRetrieveService(const std::string& dataDir);
    RetrievePlan plan(const RetrieveRequest& request, const CancelToken& cancel) override;
    std::unique_ptr<InstanceStream> open(const RetrievePlan& plan, const CancelToken& cancel) override;
    const std::vector<File>& files() const { return files_; }

private:
    std::vector<File> files_;
};

}  // namespace bridge::test
