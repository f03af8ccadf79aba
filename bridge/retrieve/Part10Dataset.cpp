#include "bridge/retrieve/Part10Dataset.h"

#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <mutex>

#include "bridge/common/Error.h"

namespace bridge {

void registerDicomDecoders() {
    static std::once_flag once;
    std::call_once(once, [] {
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

std::unique_ptr<DcmFileFormat> parsePart10(const std::uint8_t* data, std::size_t size, const std::string& what) {
    registerDicomDecoders();
    if (size == 0) throw BridgeError(ErrorCode::UpstreamBadResponse, "empty DICOM instance " + what);
    auto file = std::make_unique<DcmFileFormat>();
    DcmInputBufferStream in;
    in.setBuffer(data, static_cast<offile_off_t>(size));
    in.setEos();
    file->transferInit();
    const OFCondition cond = file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file->transferEnd();
    if (cond.bad())
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "cannot read DICOM instance " + what + ": " + cond.text());
    file->loadAllDataIntoMemory();  // the buffer stream ends with this call
    return file;
}

}  // namespace bridge
