#include "tests/support/Part10Bytes.h"

#include <dcmtk/dcmdata/dcostrmb.h>

#include <stdexcept>
#include <string>

namespace bridge::test {

std::vector<std::uint8_t> part10Bytes(DcmFileFormat& file, E_TransferSyntax xfer, E_EncodingType lengths) {
    file.validateMetaInfo(xfer);
    // DcmOutputBufferStream does not grow: room for the whole file (preamble and meta included).
    std::vector<std::uint8_t> buffer(file.calcElementLength(xfer, lengths) + 65536);
    DcmOutputBufferStream out(buffer.data(), static_cast<offile_off_t>(buffer.size()));
    file.transferInit();
    const OFCondition status = file.write(out, xfer, lengths, nullptr);
    file.transferEnd();
    if (status.bad()) throw std::runtime_error(std::string("cannot write the test instance: ") + status.text());
    void* data = nullptr;
    offile_off_t length = 0;
    out.flushBuffer(data, length);
    buffer.resize(static_cast<std::size_t>(length));
    return buffer;
}

}  // namespace bridge::test
