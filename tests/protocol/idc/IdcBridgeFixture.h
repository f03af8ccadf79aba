#pragma once
// Shared by the IDC protocol tests that run a whole bridge on source = idc against the emulator
// (IdcBridgeTest, IdcReleaseTest): its Config, its harvest options, and a SERIES-level C-FIND.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "bridge/common/Config.h"
#include "tests/support/EmulatorControl.h"
#include "tests/support/TestSupport.h"
#include "tests/support/WholeBridge.h"

namespace bridge::test {

/// A bridge on source = idc reading the emulator's /v3 and /s3/{bucket} (NBIA never called),
/// both servers on ephemeral loopback ports, C-MOVE destination "STORE" at storePort if given.
inline Config idcBridgeConfig(const EmulatorProcess& emulator, const std::string& cacheDir,
                              std::optional<unsigned short> storePort = std::nullopt) {
    Config config;
    config.source = "idc";
    config.tcia = faultRetrySettings(emulator);
    config.tcia.baseUrl = "http://127.0.0.1:1/not-used";  // NBIA must never be called
    const std::string base = "http://127.0.0.1:" + std::to_string(emulator.port());
    config.idc.apiUrl = base + "/v3";
    config.idc.bucketUrl = base + "/s3/{bucket}";
    config.idc.sqlPageRows = 5;
    config.cache.directory = cacheDir;
    config.dimse.aeTitle = "TCIA";
    config.dimse.port = 0;
    if (storePort) config.dimse.peers["STORE"] = DicomPeer{"STORE", "127.0.0.1", *storePort};
    config.web.port = 0;
    config.web.bindAddress = "127.0.0.1";
    return config;
}

inline HarvestOptions idcHarvestOptions() {
    HarvestOptions options;
    options.retryDelay = std::chrono::milliseconds(500);
    options.batchSize = 3;
    return options;
}

/// Study Root C-FIND at SERIES level for one study: the SeriesInstanceUIDs of the Pendings;
/// `status` gets the final status.
inline std::set<std::string> cfindSeries(unsigned short port, const std::string& study, std::uint16_t& status) {
    const auto found = cfind(port,
                             {{DCM_QueryRetrieveLevel, "SERIES"},
                              {DCM_StudyInstanceUID, study},
                              {DCM_SeriesInstanceUID, ""},
                              {DCM_Modality, ""}},
                             DCM_SeriesInstanceUID);
    status = found.status;
    return found.values;
}

}  // namespace bridge::test
