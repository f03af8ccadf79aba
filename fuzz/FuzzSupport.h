#pragma once
// Shared by the libFuzzer targets in fuzz/ (one per parser). A target aborts -- which libFuzzer
// reports as a crash and saves the input -- when a parser breaks its contract: an exception the
// header does not promise (std::out_of_range from a stoi is a 500 instead of a 400), output that
// violates a documented property (invalid JSON, a UID that is not a UID), or whatever ASan/UBSan
// see. Not for production code.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/oflog/oflog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>

#include "bridge/common/Error.h"

// Every fuzz target is one translation unit including this header, so this is defined once per
// binary. A single allocation above 256 MiB fails: a throwing `new` that large is reported as an
// out-of-memory finding (a size taken from the input without a bound), while DCMTK's
// `new (std::nothrow)` for an element whose declared length exceeds the data gets nullptr and
// refuses the dataset, as it would when the allocation failed for real.
extern "C" const char* __asan_default_options() {
    return "allocator_may_return_null=1:max_allocation_size_mb=256:detect_leaks=1";
}

namespace bridge::fuzz {

/// Reports a contract violation and aborts (libFuzzer keeps the input as crash-<sha1>).
[[noreturn]] inline void finding(const std::string& what) {
    std::fprintf(stderr, "FUZZ FINDING: %s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

/// Runs `parse`; a BridgeError with one of the promised codes is fine, anything else is a finding.
template <typename F>
void expectOnlyBridgeError(const char* what, ErrorCode promised, F&& parse) {
    try {
        parse();
    } catch (const BridgeError& e) {
        if (e.code() != promised) finding(std::string(what) + ": BridgeError with unexpected code: " + e.what());
    } catch (const std::exception& e) {
        finding(std::string(what) + ": unexpected exception: " + e.what());
    }
}

/// DCMTK logs every parse problem at WARN: silence it, the fuzzer runs millions of inputs.
inline void quietDcmtk() { OFLog::configure(OFLogger::FATAL_LOG_LEVEL); }

/// The transfer syntax a dataset is read in, chosen by the low two bits of the first byte
/// (0, 3: explicit VR little endian, 1: implicit VR little endian, 2: explicit VR big endian):
/// what DIMSE peers negotiate for identifiers.
inline E_TransferSyntax transferSyntaxOf(std::uint8_t selector) {
    switch (selector & 3) {
    case 1: return EXS_LittleEndianImplicit;
    case 2: return EXS_BigEndianExplicit;
    default: return EXS_LittleEndianExplicit;
    }
}

/// Parses `size` bytes as a dataset (no file meta), as dcmnet does with a received identifier:
/// the whole buffer is there and the stream ends after it. nullptr when DCMTK refuses the bytes.
inline std::unique_ptr<DcmDataset> datasetFromBytes(const std::uint8_t* data, std::size_t size, E_TransferSyntax xfer) {
    auto dataset = std::make_unique<DcmDataset>();
    DcmInputBufferStream in;
    in.setBuffer(data, static_cast<offile_off_t>(size));
    in.setEos();
    dataset->transferInit();
    OFCondition cond = dataset->read(in, xfer, EGL_noChange, DCM_MaxReadLength);
    dataset->transferEnd();
    if (cond.bad()) return nullptr;
    return dataset;
}

}  // namespace bridge::fuzz
