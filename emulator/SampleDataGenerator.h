#pragma once
// `tcia-emulator generate`: writes deterministic, TCIA-like de-identified DICOM (dcmdata; JPEG
// lossless via dcmjpeg, JPEG-LS lossless via dcmjpls) and DIR/collections.json, then
// DIR/.complete last. Layout: DIR/<Collection>/<PatientID>/<StudyUID>/<SeriesUID>/NNNN.dcm.
// The synthetic mode writes only DIR/synthetic.json (metadata computed by SyntheticCatalog).
// Blocking, single-threaded; throws std::runtime_error on I/O or encoding failures.

#include <cstdint>
#include <string>

namespace emulator {

struct GenerateOptions {
    std::string outDir;
    bool large = false;                 ///< add Large-CT-Demo: one 300-slice 512x512 CT (~150 MB)
    std::int64_t manySlices = 0;        ///< > 0: add Many-Slices-Demo, one CT of N 16x16 slices (.2.15)
    std::int64_t syntheticStudies = 0;  ///< > 0: metadata-only synthetic set instead of DICOM
    std::int64_t seriesPerStudy = 10;
    int syntheticCollections = 10;
};

class SampleDataGenerator {
public:
    /// UID root of everything generated (a test root under 1.2.826.0.1.3680043.10).
    static constexpr const char* kUidRoot = "1.2.826.0.1.3680043.10.1234";

    /// Generates the data set; returns the number of DICOM files written.
    static std::size_t generate(const GenerateOptions& options);
};

}  // namespace emulator
